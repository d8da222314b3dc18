"""The kiosk's flow core, without Kivy: steps, draft, validation, back and home, idle, restore."""

from __future__ import annotations

import pytest

from kiosk.catalog import parse_categories, parse_places
from kiosk.flow import Draft, Flow, IdlePhase, Receipt, Step, valid_phone
from kiosk.flow.steps import floor_of_room
from kiosk.tooling.demo import CATEGORIES, PLACES
from kiosk.tooling.scenes import ManualClock


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def flow(clock):
    ids = iter(f"client-{n:04d}" for n in range(1, 100))
    flow = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=clock,
                new_id=lambda: next(ids))
    flow.set_catalog(categories=parse_categories(CATEGORIES), compounds=parse_places(PLACES))
    return flow


def walk_to_review(flow, phone="13800001234"):
    flow.choose_category("water_electric")
    flow.answer("leak")
    flow.choose_compound("C01")
    flow.choose_building("C01-B02")
    flow.choose_unit("C01-B02-U3")
    if phone:
        flow.leave_phone()
        for digit in phone:
            flow.press_digit(digit)
        assert flow.confirm_phone()


def test_only_kiosk_categories_are_offered(flow):
    codes = [c.code for c in flow.categories]
    assert codes == ["water_electric", "pipe_unclog", "appliance", "haircut", "policy",
                     "certificates", "jobs", "books", "tank_water", "shared_facility"]


def test_filing_a_request_goes_through_every_step_in_order(flow):
    seen = [flow.step]
    flow.choose_category("water_electric")
    seen.append(flow.step)
    flow.answer("leak")
    seen.append(flow.step)
    flow.choose_compound("C01")
    seen.append(flow.step)
    flow.choose_building("C01-B02")
    seen.append(flow.step)
    flow.choose_unit("C01-B02-U3")
    seen.append(flow.step)
    flow.leave_phone()
    seen.append(flow.step)
    for digit in "13800001234":
        flow.press_digit(digit)
    flow.confirm_phone()
    seen.append(flow.step)
    assert seen == [Step.HOME, Step.QUESTION, Step.COMPOUND, Step.BUILDING, Step.UNIT,
                    Step.REVIEW, Step.PHONE, Step.REVIEW]
    body = flow.submit()
    assert flow.step is Step.SENDING
    assert body == {"client_id": "client-0001", "category": "water_electric",
                    "unit_code": "C01-B02-U3", "answers": {"problem": "leak"},
                    "description": "", "channel": "kiosk", "contact_phone": "13800001234"}


def test_filed_shows_the_ticket_and_forgets_the_draft(flow):
    walk_to_review(flow)
    flow.submit()
    flow.filed(Receipt(number="K1-0001", status_url="http://x/r/abc"))
    assert flow.step is Step.DONE
    assert flow.receipt.number == "K1-0001"
    assert flow.draft is None and flow.snapshot() is None


def test_come_back_sends_no_phone(flow):
    walk_to_review(flow, phone="")
    body = flow.submit()
    assert "contact_phone" not in body


@pytest.mark.parametrize("digits,ok", [("13800001234", True), ("1380000123", False),
                                       ("23800001234", False), ("", False)])
def test_phone_numbers_must_be_eleven_digits_starting_with_one(digits, ok):
    assert valid_phone(digits) is ok


def test_a_wrong_phone_number_stays_on_the_keypad_with_a_reason(flow):
    walk_to_review(flow, phone="")
    flow.leave_phone()
    for digit in "2380":
        flow.press_digit(digit)
    assert not flow.confirm_phone()
    assert flow.step is Step.PHONE and flow.problem == "phone_invalid"
    flow.delete_digit()
    assert flow.draft.phone == "238" and flow.problem == ""


def test_the_keypad_takes_at_most_eleven_digits(flow):
    walk_to_review(flow, phone="")
    flow.leave_phone()
    for digit in "138000012345678":
        flow.press_digit(digit)
    assert flow.draft.phone == "13800001234"


def test_a_required_question_cannot_be_skipped_but_an_optional_one_can(flow):
    flow.choose_category("water_electric")
    flow.skip_question()
    assert flow.step is Step.QUESTION and flow.problem == "answer_required"
    flow.home()
    flow.choose_category("jobs")
    flow.skip_question()
    assert flow.step is Step.COMPOUND and flow.draft.answers == {}


def test_back_retraces_every_step_and_home_clears(flow):
    walk_to_review(flow)
    flow.leave_phone()
    trail = [flow.step]
    while flow.step is not Step.HOME:
        flow.back()
        trail.append(flow.step)
    assert trail == [Step.PHONE, Step.REVIEW, Step.UNIT, Step.BUILDING,
                     Step.COMPOUND, Step.QUESTION, Step.HOME]
    walk_to_review(flow)
    flow.home()
    assert flow.step is Step.HOME and flow.draft is None


def test_the_phone_and_the_door_are_extras_of_the_review(flow):
    walk_to_review(flow, phone="")
    assert flow.step is Step.REVIEW and "contact_phone" not in flow.request_body()
    flow.leave_phone()
    for digit in "1380000123":
        flow.press_digit(digit)
    flow.back()  # ten digits are no number: the request stays without one
    assert flow.step is Step.REVIEW and "contact_phone" not in flow.request_body()
    flow.leave_phone()
    flow.press_digit("4")
    assert flow.confirm_phone() and flow.request_body()["contact_phone"] == "13800001234"
    flow.leave_phone()
    flow.clear_digits()
    assert flow.confirm_phone()  # cleared and confirmed: no phone after all
    assert flow.step is Step.REVIEW and "contact_phone" not in flow.request_body()
    # A draft saved at the contact step of an older kiosk continues at the review.
    older = {**flow.snapshot(), "step": "contact"}
    assert Draft.from_json(older).step is Step.REVIEW


def test_back_keeps_what_was_entered(flow):
    walk_to_review(flow)
    flow.back()
    assert flow.step is Step.UNIT and flow.draft.unit == "C01-B02-U3"
    assert flow.draft.phone == "13800001234"


def test_choosing_another_compound_forgets_the_building_and_unit(flow):
    walk_to_review(flow)
    for _ in range(3):
        flow.back()
    assert flow.step is Step.COMPOUND
    flow.choose_compound("C02")
    assert flow.draft.building is None and flow.draft.unit is None


def test_nothing_can_be_sent_twice_or_left_while_sending(flow):
    walk_to_review(flow)
    flow.submit()
    flow.back()
    assert flow.step is Step.SENDING and not flow.can_go_back
    with pytest.raises(RuntimeError):
        flow.submit()


def test_a_refusal_keeps_the_draft_for_a_retry(flow):
    walk_to_review(flow)
    first = flow.submit()
    flow.refused()
    assert flow.step is Step.FAILED and flow.problem == "refused"
    assert flow.submit()["client_id"] == first["client_id"]


def test_idle_warns_then_clears(flow, clock):
    walk_to_review(flow)
    clock.advance(89)
    assert flow.idle_phase() is IdlePhase.ACTIVE
    clock.advance(2)
    assert flow.idle_phase() is IdlePhase.WARNING
    assert flow.seconds_left() >= 20
    flow.touched()
    assert flow.idle_phase() is IdlePhase.ACTIVE
    clock.advance(121)
    assert flow.idle_phase() is IdlePhase.EXPIRED


def test_an_empty_home_screen_and_sending_never_time_out(flow, clock):
    clock.advance(1000)
    assert flow.idle_phase() is IdlePhase.ACTIVE
    walk_to_review(flow)
    flow.submit()
    clock.advance(1000)
    assert flow.idle_phase() is IdlePhase.ACTIVE


def test_the_staff_pin_opens_staff_mode_and_locks_after_repeated_failures(flow, clock):
    flow.open_staff()
    for _ in range(4):
        flow.press_digit("1")
        assert not flow.confirm_pin()
        assert flow.problem == "pin_wrong" and flow.pin == ""
    flow.press_digit("1")
    assert not flow.confirm_pin()
    assert flow.problem == "pin_locked"
    for digit in "2468":
        flow.press_digit(digit)
    assert not flow.confirm_pin() and flow.problem == "pin_locked"
    clock.advance(61)
    for digit in "2468":
        flow.press_digit(digit)
    assert flow.confirm_pin()
    assert flow.step is Step.STAFF


def test_a_draft_survives_a_restart(flow, clock):
    flow.choose_category("water_electric")
    flow.answer("leak")
    flow.choose_compound("C01")
    saved = flow.snapshot()
    restarted = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=clock)
    restarted.set_catalog(categories=flow.categories, compounds=flow.compounds)
    assert restarted.restore(saved)
    assert restarted.step is Step.BUILDING
    assert restarted.draft.client_id == "client-0001"
    assert restarted.draft.answers == {"problem": "leak"}


def test_a_draft_saved_while_sending_comes_back_on_review(flow, clock):
    walk_to_review(flow)
    flow.submit()
    saved = flow.snapshot()
    restarted = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=clock)
    restarted.set_catalog(categories=flow.categories, compounds=flow.compounds)
    assert restarted.restore(saved)
    assert restarted.step is Step.REVIEW


@pytest.mark.parametrize("damage", [
    {"version": 99},
    {"category": "withdrawn"},
    {"step": "nonsense"},
    {"unit": "C99-B01-U1", "step": "contact"},
    {"answers": ["not", "a", "mapping"]},
])
def test_a_draft_that_no_longer_fits_is_dropped(flow, clock, damage):
    walk_to_review(flow)
    saved = {**flow.snapshot(), **damage}
    restarted = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=clock)
    restarted.set_catalog(categories=flow.categories, compounds=flow.compounds)
    assert not restarted.restore(saved)
    assert restarted.step is Step.HOME and restarted.draft is None


def test_progress_counts_four_steps(flow):
    assert flow.progress() is None
    flow.choose_category("water_electric")
    assert flow.progress() == (2, 4)
    flow.answer("leak")
    assert flow.progress() == (3, 4)


def test_the_door_number_is_optional_kept_across_a_restart_and_tells_the_floor(flow, clock):
    flow.choose_category("water_electric")
    flow.answer("leak")
    flow.choose_compound("C01")
    flow.choose_building("C01-B02")
    flow.choose_unit("C01-B02-U3")
    assert flow.step is Step.REVIEW
    flow.add_door()
    assert flow.step is Step.DOOR
    for digit in "12034":  # four digits at most
        flow.press_digit(digit)
    assert flow.draft.room == "1203"
    restarted = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=clock)
    restarted.set_catalog(categories=flow.categories, compounds=flow.compounds)
    assert restarted.restore(flow.snapshot())
    assert restarted.step is Step.DOOR and restarted.draft.room == "1203"
    restarted.confirm_door()
    assert restarted.step is Step.REVIEW
    body = restarted.request_body()
    assert (body["room"], body["floor"]) == ("1203", "12")
    # A draft saved before the kiosk asked for the door still restores.
    older = {k: v for k, v in restarted.snapshot().items() if k != "room"}
    assert Draft.from_json(older).room == ""


@pytest.mark.parametrize(("room", "floor"), [("502", "5"), ("1203", "12"), ("0301", "3"),
                                             ("12", ""), ("", ""), ("002", "")])
def test_the_floor_is_read_from_the_door_number(room, floor):
    assert floor_of_room(room) == floor
