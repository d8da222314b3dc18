"""Booking a by-appointment service at the kiosk (issue 20): the slot step (选时间) in the flow,
its words, and the real Kivy kiosk on the demo server (kiosk.tooling.demo, whose 证件预约上门办理
takes appointments): pick a day and a slot, see the time on the review, the done screen, the
slip and in the voice, and again at 查进度; the last place taken by someone else at sending;
the server away (nothing queued, the draft kept); no slots at all; a restart keeping the chosen
slot; and the scenes against the elder-friendly audit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.catalog import parse_categories, parse_places, parse_slots
from kiosk.errors import BadReply
from kiosk.flow import Flow, Receipt, Step
from kiosk.flow.lookup import parse_lookup
from kiosk.i18n import LANGUAGES, tr
from kiosk.presenters.appointment import appointment_text, day_label, slot_label, slot_view
from kiosk.presenters.lookup import lookup_result_view
from kiosk.printer import PngSlipPrinter
from kiosk.tooling.demo import CATEGORIES, PLACES, SLOTS, DemoServer
from kiosk.tooling.scenes.appointment import APPOINTMENT_SCENES
from tests.kiosk.kiosk_support import Kiosk, _plain, audit

CHANGSHA = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 25)  # the tests' wall clock (conftest.py): a Wednesday
BOOKED = "certificates"  # the demo's by-appointment service
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def booking_flow() -> Flow:
    flow = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=lambda: 0.0)
    flow.set_catalog(categories=parse_categories(CATEGORIES), compounds=parse_places(PLACES))
    return flow


def slots_of(flow: Flow, slots: list[dict[str, object]] = SLOTS) -> None:
    """The app's part: it sees the step wants slots, fetches them, hands them over."""
    assert flow.slots_wanted == BOOKED
    flow.slots_asked()
    assert flow.slots_wanted is None  # asked once, not on every sync
    assert flow.slots_arrived(BOOKED, parse_slots({"slots": slots}))


def to_review(flow: Flow) -> None:
    while flow.step is Step.QUESTION:
        assert flow.question is not None
        flow.answer(flow.question.choices[0].key)
    flow.choose_compound("C01")
    flow.choose_building("C01-B01")
    flow.choose_unit("C01-B01-U1")
    assert flow.step is Step.REVIEW


# --- the server's slots, parsed once ----------------------------------------------------------

def test_slots_are_parsed_in_time_order_and_a_time_without_its_zone_is_refused() -> None:
    slots = parse_slots({"slots": list(reversed(SLOTS))})
    assert [s.id for s in slots] == [s["id"] for s in SLOTS]
    assert slots[1].full and not slots[0].full
    naive = dict(SLOTS[0], starts_at="2026-11-25T14:00:00")
    with pytest.raises(BadReply, match="zone"):
        parse_slots({"slots": [naive]})
    with pytest.raises(BadReply, match="remaining"):
        parse_slots({"slots": [dict(SLOTS[0], remaining=-1)]})
    categories = {c.code: c for c in parse_categories(CATEGORIES)}
    assert categories[BOOKED].by_appointment and not categories["water_electric"].by_appointment


# --- the flow ---------------------------------------------------------------------------------

def test_a_booked_service_asks_the_time_first_and_files_the_chosen_slot() -> None:
    flow = booking_flow()
    flow.choose_category(BOOKED)
    assert flow.step is Step.SLOT and flow.progress() == (2, 4)
    slots_of(flow)
    flow.choose_slot(2)  # 15:00 today is full: shown, not taken
    assert flow.step is Step.SLOT and flow.problem == "slot_full_pick"
    flow.choose_slot(3)
    assert flow.step is Step.QUESTION  # then the service's own question, and the place
    to_review(flow)
    body = flow.submit()
    assert body["slot_id"] == 3 and body["category"] == BOOKED
    flow.filed(Receipt(number="K1-0001", status_url="http://x/r/t"))
    assert flow.receipt is not None
    assert flow.receipt.appointment_at == datetime(2026, 11, 26, 1, tzinfo=UTC)


def test_an_ordinary_service_has_no_slot_step_and_no_slot_in_its_body() -> None:
    flow = booking_flow()
    flow.choose_category("water_electric")
    assert flow.step is Step.QUESTION and flow.slots_wanted is None
    to_review(flow)
    assert "slot_id" not in flow.submit()


def test_back_from_the_first_question_returns_to_the_time_and_back_again_goes_home() -> None:
    flow = booking_flow()
    flow.choose_category(BOOKED)
    slots_of(flow)
    flow.choose_slot(3)
    flow.back()
    assert flow.step is Step.SLOT and flow.slots_wanted == BOOKED  # read afresh
    flow.back()
    assert flow.step is Step.HOME and flow.draft is None


def test_a_slot_taken_at_sending_returns_to_the_time_with_everything_else_kept() -> None:
    flow = booking_flow()
    flow.choose_category(BOOKED)
    slots_of(flow)
    flow.choose_slot(3)
    to_review(flow)
    answers = dict(flow.draft.answers)
    flow.submit()
    flow.slot_taken()
    assert flow.step is Step.SLOT and flow.problem == "slot_taken"
    draft = flow.draft
    assert draft.slot_id is None and draft.unit == "C01-B01-U1" and draft.answers == answers
    slots_of(flow, [dict(s, remaining=0) if s["id"] == 3 else s for s in SLOTS])
    flow.choose_slot(4)
    assert flow.step is Step.REVIEW  # straight back: nothing else to answer
    assert flow.submit()["slot_id"] == 4


def test_back_at_the_time_of_a_whole_request_returns_to_its_review_with_the_time_kept() -> None:
    flow = booking_flow()
    flow.choose_category(BOOKED)
    slots_of(flow)
    flow.choose_slot(3)
    to_review(flow)
    while flow.step is not Step.SLOT:  # back through the place and the question to the time
        flow.back()
    flow.back()
    assert flow.step is Step.REVIEW and flow.draft.slot_id == 3


def test_the_chosen_slot_survives_a_restart_and_a_draft_at_the_time_step_asks_again() -> None:
    flow = booking_flow()
    flow.choose_category(BOOKED)
    slots_of(flow)
    flow.choose_slot(4)
    saved = flow.snapshot()
    later = booking_flow()
    assert later.restore(saved)
    assert later.step is Step.QUESTION and later.draft.slot_id == 4
    assert later.draft.slot_starts == datetime(2026, 11, 26, 2, tzinfo=UTC)
    at_slot = booking_flow()
    at_slot.choose_category(BOOKED)
    again = booking_flow()
    assert again.restore(at_slot.snapshot())
    assert again.step is Step.SLOT and again.slots_wanted == BOOKED


def test_slots_arriving_after_the_resident_left_the_step_are_ignored() -> None:
    flow = booking_flow()
    flow.choose_category(BOOKED)
    flow.slots_asked()
    flow.home()
    assert not flow.slots_arrived(BOOKED, parse_slots({"slots": SLOTS}))
    assert flow.slots == ()


# --- the words --------------------------------------------------------------------------------

def test_times_read_in_the_sites_zone_in_each_language() -> None:
    slot = parse_slots({"slots": SLOTS})[0]  # 06:00 UTC is 14:00 in Changsha
    assert slot_label("zh_CN", slot, CHANGSHA) == "下午 14:00-15:00\n还剩1位"
    assert slot_label("en", slot, CHANGSHA) == "Afternoon 14:00-15:00\n1 left"
    full = parse_slots({"slots": SLOTS})[1]
    assert slot_label("zh_CN", full, CHANGSHA).endswith("已满")
    morning = datetime(2026, 12, 9, 1, tzinfo=UTC)
    assert appointment_text("zh_CN", morning, CHANGSHA) == "12月9日 周三 9:00"
    assert appointment_text("en", morning, CHANGSHA) == "Wed 9 Dec 9:00"
    assert day_label("zh_CN", TODAY, TODAY) == "今天\n11月25日"
    assert day_label("zh_CN", date(2026, 11, 26), TODAY) == "明天\n11月26日"
    assert day_label("zh_CN", date(2026, 12, 9), TODAY) == "周三\n12月9日"
    assert day_label("en", date(2026, 12, 9), TODAY) == "Wed\n9 Dec"


def test_the_days_are_tabs_a_few_at_a_time_and_nothing_to_book_says_so() -> None:
    flow = booking_flow()
    flow.choose_category(BOOKED)
    assert slot_view(flow, "zh_CN", zone=CHANGSHA, today=TODAY).message == tr("zh_CN",
                                                                               "slot_loading")
    slots_of(flow)
    view = slot_view(flow, "zh_CN", zone=CHANGSHA, today=TODAY)
    assert [t.key for t in view.days] == ["2026-11-25", "2026-11-26", "2026-11-28",
                                          "2026-12-01"]
    assert view.days[0].chosen and view.earlier is None and view.later is not None
    assert [(b.key, b.full) for b in view.buttons] == [("1", False), ("2", True)]
    flow.choose_slot_day(view.later.key)
    later = slot_view(flow, "zh_CN", zone=CHANGSHA, today=TODAY)
    assert [t.key for t in later.days] == ["2026-12-03"] and later.earlier is not None
    empty = booking_flow()
    empty.choose_category(BOOKED)
    slots_of(empty, [])
    none = slot_view(empty, "zh_CN", zone=CHANGSHA, today=TODAY)
    assert none.message == tr("zh_CN", "slot_none") and none.call_staff and not none.buttons


# --- the kiosk, on the demo server ------------------------------------------------------------

def slot_buttons(kiosk: Kiosk) -> dict[str, object]:
    return {_plain(b.text): b for b in kiosk.buttons() if b.key.isdigit() and b.tile}


def walk_to_the_time(kiosk: Kiosk) -> None:
    kiosk.tap_key(BOOKED)
    assert kiosk.screen == "slot"
    kiosk.wait_until(lambda: kiosk.flow.slots_state == "ok", what="the slots")
    kiosk.pump(2)


def book_tomorrow_nine(kiosk: Kiosk) -> None:
    """Tap through a booking like a resident: 明天, 上午 9:00, the first answers, the place."""
    walk_to_the_time(kiosk)
    kiosk.tap_key("2026-11-26")
    assert kiosk.flow.slot_day == "2026-11-26"
    kiosk.tap(slot_buttons(kiosk)["上午 9:00-10:00\n还剩2位"])
    assert kiosk.screen == "question"
    while kiosk.screen == "question":
        kiosk.tap_key(kiosk.flow.question.choices[0].key)
    kiosk.tap_key("C01")
    kiosk.tap_key("C01-B01")
    kiosk.tap_key("C01-B01-U1")
    assert kiosk.screen == "review"


def test_a_resident_books_a_time_and_sees_it_on_review_done_slip_and_hears_it(
        make_kiosk, tmp_path: Path) -> None:
    kiosk = make_kiosk()
    kiosk.app.use_printer(PngSlipPrinter(tmp_path / "slips", font_path=FONT))
    walk_to_the_time(kiosk)
    assert ("请点一个您方便的时间。灰色的已经约满了。", "zh_CN") in kiosk.speaker.said
    full = slot_buttons(kiosk)["下午 15:00-16:00\n已满"]
    assert full.disabled  # shown, greyed and worded, but not tappable
    kiosk.tap(kiosk.button(text=kiosk.tr("back")))
    assert kiosk.screen == "home" and kiosk.flow.draft is None
    book_tomorrow_nine(kiosk)
    review = [_plain(getattr(w, "text", ""))
              for w in kiosk.app.root.current_screen.ids.lines.children]
    assert "时间：11月26日 周四 9:00" in review
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    shown = kiosk.app.root.current_screen.ids.appointment.text
    assert shown == "预约时间：11月26日 周四 9:00\n请在家等候"
    said = " ".join(text for text, _lang in kiosk.speaker.said)
    assert "预约时间是 11月26日 周四 9:00。" in said
    filed = next(iter(kiosk.server.filed.values()))
    assert filed["slot_id"] == 3 and kiosk.server.slots[2]["remaining"] == 1
    kiosk.tap_text(kiosk.tr("print_slip"))
    kiosk.wait_until(lambda: kiosk.app.print_state == "printed", what="the slip")
    assert "预约时间 11月26日 周四 9:00" in [line.text for line in kiosk.app.current_slip().lines]
    assert kiosk.app.helpdesk.printer.printed  # drawn and "printed" by the fake
    assert kiosk.app.outbox.pending_count() == 0


def test_the_last_place_taken_meanwhile_sends_the_resident_back_to_pick_again(make_kiosk) -> None:
    kiosk = make_kiosk()
    book_tomorrow_nine(kiosk)
    kiosk.server.slots[2]["remaining"] = 0  # another kiosk took the last two places
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "slot" and kiosk.flow.slots_state == "ok",
                     what="the slot step again")
    kiosk.pump(2)
    screen = kiosk.app.root.current_screen
    assert screen.ids.problem.text == "刚被约满了，请另选时间"
    assert ("刚被约满了，请另选时间。请点一个您方便的时间。灰色的已经约满了。",
            "zh_CN") in kiosk.speaker.said
    assert kiosk.flow.draft.unit == "C01-B01-U1"  # the place and answers are kept
    assert slot_buttons(kiosk)["上午 9:00-10:00\n已满"].disabled
    kiosk.tap(slot_buttons(kiosk)["上午 10:00-11:00\n还剩1位"])
    assert kiosk.screen == "review"
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    assert kiosk.flow.receipt.appointment_at == datetime(2026, 11, 26, 2, tzinfo=UTC)
    assert len(kiosk.server.filed) == 1


def test_a_slot_withdrawn_meanwhile_also_sends_the_resident_back_to_pick(make_kiosk) -> None:
    kiosk = make_kiosk()
    book_tomorrow_nine(kiosk)
    kiosk.server.slots = [s for s in kiosk.server.slots if s["id"] != 3]  # staff cancelled it
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "slot" and kiosk.flow.slots_state == "ok",
                     what="the slot step again")
    assert kiosk.flow.problem == "slot_taken" and not kiosk.server.filed


def test_offline_a_booking_is_not_queued_and_the_draft_waits_for_a_retry(make_kiosk) -> None:
    kiosk = make_kiosk()
    book_tomorrow_nine(kiosk)
    kiosk.server.online = False
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "failed", what="the failed screen")
    assert kiosk.app.root.current_screen.ids.problem.text == tr("zh_CN", "slot_unreachable")
    assert kiosk.app.outbox.pending_count() == 0 and not kiosk.server.filed  # no promise kept
    assert kiosk.flow.draft.slot_id == 3 and kiosk.app.offline
    kiosk.server.online = True
    kiosk.tap_text(kiosk.tr("retry"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    assert kiosk.flow.receipt.appointment_at is not None and len(kiosk.server.filed) == 1


def test_no_slots_says_so_and_offers_a_person_and_the_server_away_offers_a_retry(
        make_kiosk) -> None:
    server = DemoServer()
    server.slots = []
    kiosk = make_kiosk(server=server)
    walk_to_the_time(kiosk)
    screen = kiosk.app.root.current_screen
    assert screen.ids.message.text == tr("zh_CN", "slot_none") and not slot_buttons(kiosk)
    calls = [b for b in kiosk.buttons() if _plain(b.text) == kiosk.tr("call_staff")]
    assert len(calls) == 2  # the big one beside the words, and the bar's
    kiosk.tap(kiosk.button(text=kiosk.tr("home")))
    server.online = False
    kiosk.tap_key(BOOKED)
    kiosk.wait_until(lambda: kiosk.flow.slots_state == "unreachable", what="no answer")
    kiosk.pump(2)
    assert screen.ids.message.text == tr("zh_CN", "slot_unreachable")
    server.online = True
    server.slots = [dict(s) for s in SLOTS]
    kiosk.tap(screen.ids.retry)
    kiosk.wait_until(lambda: kiosk.flow.slots_state == "ok", what="the slots")
    kiosk.pump(2)
    assert "下午 14:00-15:00\n还剩1位" in slot_buttons(kiosk)


def test_a_restart_keeps_the_chosen_time(make_kiosk, tmp_path: Path) -> None:
    kiosk = make_kiosk(data_dir=tmp_path / "data")
    walk_to_the_time(kiosk)
    kiosk.tap_key("2026-11-26")
    kiosk.tap(slot_buttons(kiosk)["上午 10:00-11:00\n还剩1位"])
    assert kiosk.screen == "question"
    kiosk.close()  # the power goes
    again = make_kiosk(data_dir=tmp_path / "data")
    assert again.screen == "question" and again.flow.draft.slot_id == 4
    while again.screen == "question":
        again.tap_key(again.flow.question.choices[0].key)
    again.tap_key("C01")
    again.tap_key("C01-B01")
    again.tap_key("C01-B01-U1")
    review = [_plain(getattr(w, "text", ""))
              for w in again.app.root.current_screen.ids.lines.children]
    assert "时间：11月26日 周四 10:00" in review


def test_the_lookup_answer_reads_the_booked_time_and_does_without_one() -> None:
    answer = {"number": "K1-0043", "status": "dispatched", "status_label_zh": "已派单",
              "filed_at": "2026-11-25T02:00:00Z", "status_url": "http://x/r/t"}
    assert parse_lookup(answer).appointment_at is None
    booked = parse_lookup({**answer, "appointment_at": "2026-11-26T02:00:00Z"})
    assert booked.appointment_at == datetime(2026, 11, 26, 2, tzinfo=UTC)
    # A time without its zone cannot be shown in the site's: left out, the status still shown.
    assert parse_lookup({**answer, "appointment_at": "2026-11-26T10:00"}).appointment_at is None


@pytest.mark.parametrize(("language", "shown", "heard"), [
    ("zh_CN", "预约时间 11月26日 周四 10:00", "预约时间是 11月26日 周四 10:00。"),
    ("en", "Appointment: Thu 26 Nov 10:00", "Thu 26 Nov 10:00"),
])
def test_looking_a_booked_request_up_shows_its_time_big_under_the_status(
        make_kiosk, language: str, shown: str, heard: str) -> None:
    kiosk = make_kiosk()
    kiosk.app.set_language(language)
    APPOINTMENT_SCENES["lookup_found_appointment"](kiosk.app, kiosk.clock)
    kiosk.pump(3)
    assert kiosk.screen == "lookup_result"
    lines = list(reversed(kiosk.app.root.current_screen.ids.lines.children))
    texts = [_plain(w.text) for w in lines]
    assert texts[1] == shown  # right under the status, before the service and the volunteer
    assert lines[1].font_size > max(w.font_size for i, w in enumerate(lines) if i != 1)
    # What the kiosk says aloud once the answer is in (kiosk/assist.py speaks this view's).
    assert heard in lookup_result_view(kiosk.app.flow, language, phone="").spoken


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_slot_scenes_meet_the_elder_friendly_numbers(make_kiosk, language, large) -> None:
    kiosk = make_kiosk()
    kiosk.app.set_language(language)
    if large:
        kiosk.app.toggle_large_text()
    problems: list[str] = []
    for name, scene in APPOINTMENT_SCENES.items():
        scene(kiosk.app, kiosk.clock)
        kiosk.pump(3)
        problems += [f"{name}: {p}" for p in audit(kiosk)]
    assert not problems, "\n".join(problems)
