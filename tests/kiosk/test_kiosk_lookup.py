"""查进度 at the kiosk: the number and the phone's last four on the big keypad, against the real
server (in a thread): the right pair shows the status in words with the volunteer's given name
and says it aloud; a wrong pair says "没有找到" without saying which half was wrong, with the
number kept for a retry; with the server away, a plain message and the phone number. The flow's
own rules (the number's letters are the kiosk's, a late answer is dropped) are tested plainly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kiosk.flow import Flow, IdlePhase, Step
from kiosk.flow.lookup import LookupOutcome, lookup_number, parse_lookup
from kiosk.presenters.speech import spoken_number
from tests.kiosk.assist_support import FakeClock, live_server, prepared_database
from tests.kiosk.kiosk_support import walk_to_review
from tests.support.ports import free_port

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepared_database(tmp_path_factory.mktemp("lookup-db"))


@pytest.fixture
def server(tmp_path: Path, template: Path) -> Iterator[str]:
    with live_server(tmp_path / "server", template, FakeClock()) as (url, _notifier):
        yield url


def sign_in(url: str, username: str, password: str) -> dict[str, str]:
    reply = httpx.post(f"{url}/api/v1/auth/login", timeout=10,
                       json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def accept_by_first_volunteer(url: str, number: str) -> str:
    """The squad leader dispatches the request and the volunteer accepts it (接单)."""
    staff = sign_in(url, "staff", "staff-demo")
    tickets = httpx.get(f"{url}/api/v1/tickets", headers=staff, params={"kind": "request"},
                        timeout=10).json()["tickets"]
    tid = next(t["id"] for t in tickets if t["number"] == number)
    leader = sign_in(url, "leader1", "leader-demo")
    first = httpx.get(f"{url}/api/v1/tickets/{tid}/proposals", headers=leader,
                      timeout=10).json()["proposals"][0]
    assert httpx.post(f"{url}/api/v1/tickets/{tid}/dispatch", headers=leader, timeout=10,
                      json={"volunteer_id": first["volunteer_id"]}).status_code == 200
    assert httpx.post(f"{url}/api/v1/tickets/{tid}/accept", timeout=10,
                      headers=sign_in(url, "lijianguo", "volunteer-demo")).status_code == 200
    return str(first["given_name"])


def file_at_the_kiosk(kiosk, phone: str | None) -> str:  # type: ignore[no-untyped-def]
    walk_to_review(kiosk, category="water_electric", phone=phone)
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    assert not kiosk.flow.receipt.offline
    number = str(kiosk.flow.receipt.number)
    kiosk.tap_text(kiosk.tr("home"))
    return number


def look_up(kiosk, digits: str, last4: str | None) -> None:  # type: ignore[no-untyped-def]
    kiosk.tap_text(kiosk.tr("lookup"))
    assert kiosk.screen == "lookup"
    kiosk.type_digits(digits)
    kiosk.tap_text(kiosk.tr("confirm"))
    assert kiosk.screen == "lookup_phone"
    if last4 is None:
        kiosk.tap_text(kiosk.tr("lookup_no_phone"))
    else:
        kiosk.type_digits(last4)
        kiosk.tap_text(kiosk.tr("confirm"))
    assert kiosk.screen == "lookup_result"
    kiosk.wait_until(lambda: kiosk.flow.lookup_outcome is not LookupOutcome.SEARCHING,
                     what="the server's answer")


def shown_lines(kiosk) -> list[str]:  # type: ignore[no-untyped-def]
    screen = kiosk.app.root.current_screen
    return [screen.ids.title.text] + [w.text for w in reversed(screen.ids.lines.children)
                                      if getattr(w, "text", "")]


def test_the_right_pair_shows_and_says_the_status_with_the_volunteers_given_name(
        make_kiosk, server) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk(real_server_url=server, SERVICEPOINT_KIOSK__KIOSK_ID="K1")
    number = file_at_the_kiosk(kiosk, phone="13800001234")
    given_name = accept_by_first_volunteer(server, number)
    look_up(kiosk, number.rsplit("-", 1)[1].lstrip("0"), "1234")  # the digits, no zeros
    assert kiosk.flow.lookup_outcome is LookupOutcome.FOUND
    lines = shown_lines(kiosk)
    assert lines[0] == kiosk.tr("lookup_found_title", number=number)
    status = kiosk.flow.lookup_result.status_zh
    assert status and lines[1] == kiosk.tr("lookup_status", status=status)
    assert kiosk.tr("lookup_volunteer", name=given_name) in lines
    spoken = [text for text, _lang in kiosk.speaker.said]
    by_sign = spoken_number("zh_CN", number)  # "K，一，杠，零，零，零，一": written down by ear
    assert any(status in text and given_name in text and by_sign in text for text in spoken)
    # No full name, no phone number: the given name only.
    assert "13800001234" not in " ".join(lines)

    # In English, the same answer in English words.
    kiosk.app.set_language("en")
    kiosk.app.sync()
    assert shown_lines(kiosk)[1] == kiosk.tr("lookup_status",
                                             status=kiosk.flow.lookup_result.status_en)


def test_a_wrong_pair_is_not_found_without_saying_which_half_and_the_number_is_kept(
        make_kiosk, server) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk(real_server_url=server, SERVICEPOINT_KIOSK__KIOSK_ID="K1")
    number = file_at_the_kiosk(kiosk, phone="13800001234")
    digits = number.rsplit("-", 1)[1]
    look_up(kiosk, digits, "9999")
    wrong_phone = shown_lines(kiosk)
    assert wrong_phone == [kiosk.tr("lookup_not_found_title"), kiosk.tr("lookup_not_found")]
    kiosk.tap_text(kiosk.tr("lookup_retry"))
    assert kiosk.screen == "lookup" and kiosk.flow.lookup_digits == digits
    kiosk.tap_text(kiosk.tr("home"))
    look_up(kiosk, "9876", "1234")  # a number nobody has: the very same words
    assert shown_lines(kiosk) == wrong_phone
    kiosk.tap_text(kiosk.tr("home"))
    # Left without a phone it is found by the number alone; with a phone, not.
    look_up(kiosk, digits, None)
    assert kiosk.flow.lookup_outcome is LookupOutcome.NOT_FOUND
    kiosk.tap_text(kiosk.tr("home"))
    without = file_at_the_kiosk(kiosk, phone=None)
    look_up(kiosk, without.rsplit("-", 1)[1], None)
    assert kiosk.flow.lookup_outcome is LookupOutcome.FOUND


def test_with_the_server_away_a_plain_message_and_the_phone_number(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk(real_server_url=f"http://127.0.0.1:{free_port()}",
                       SERVICEPOINT_KIOSK__REQUEST_TIMEOUT_S="2")
    look_up(kiosk, "42", "1234")
    assert kiosk.flow.lookup_outcome is LookupOutcome.UNREACHABLE
    assert shown_lines(kiosk) == [kiosk.tr("lookup_unreachable_title"),
                                  kiosk.tr("lookup_unreachable", phone=kiosk.app.site_phone)]
    assert kiosk.app.site_phone
    assert (kiosk.tr("say_lookup_unreachable"), "zh_CN") in kiosk.speaker.said
    kiosk.tap_text(kiosk.tr("lookup_retry"))
    assert kiosk.screen == "lookup" and kiosk.flow.lookup_digits == "42"


# --- the flow, plainly ------------------------------------------------------------------------

def make_flow() -> Flow:
    flow = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468")
    flow.lookup_prefix = "K2"
    return flow


def test_the_resident_types_digits_only_and_the_kiosks_letters_are_put_in_front() -> None:
    assert lookup_number("K2", "7") == "K2-0007"
    assert lookup_number("K2", "0007") == "K2-0007"
    assert lookup_number("K2", "12345") == "K2-12345"
    flow = make_flow()
    flow.open_lookup()
    assert not flow.confirm_lookup_number() and flow.problem == "lookup_number_empty"
    for digit in "0000421":  # six digits at most
        flow.press_digit(digit)
    assert flow.lookup_shown_number == "K2-000042"
    flow.confirm_lookup_number()
    flow.press_digit("1")
    assert flow.confirm_lookup_phone() is None and flow.problem == "lookup_phone_short"
    for digit in "23459":
        flow.press_digit(digit)
    query = flow.confirm_lookup_phone()
    assert query is not None and (query.number, query.phone_last4) == ("K2-0042", "1234")
    assert flow.idle_phase() is IdlePhase.ACTIVE  # waiting for the server: no timeout


def test_an_answer_for_a_query_the_resident_left_is_dropped() -> None:
    flow = make_flow()
    flow.open_lookup()
    flow.press_digit("5")
    flow.confirm_lookup_number()
    first = flow.lookup_without_phone()
    flow.back()  # back to the phone's keypad while the answer is on its way
    assert flow.step is Step.LOOKUP_PHONE
    result = parse_lookup({"number": "K2-0005", "status": "new", "status_label_zh": "已提交",
                           "filed_at": "2026-11-25T01:00:00Z", "volunteer_given_name": None})
    assert not flow.lookup_found(first, result) and flow.lookup_result is None
    second = flow.lookup_without_phone()
    assert flow.lookup_found(second, result)
    assert flow.lookup_result == result and result.filed_on == "2026-11-25"
    flow.home()
    assert flow.lookup_digits == "" and flow.lookup_result is None
    with pytest.raises(ValueError):
        parse_lookup({"status": "new"})


def test_the_demo_kiosk_finds_what_was_filed_on_it(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk(SERVICEPOINT_KIOSK__KIOSK_ID="K1")  # `servicepoint kiosk --demo`
    number = file_at_the_kiosk(kiosk, phone="13800001234")
    look_up(kiosk, number.rsplit("-", 1)[1], "1234")
    assert kiosk.flow.lookup_outcome is LookupOutcome.FOUND
    assert shown_lines(kiosk)[0] == kiosk.tr("lookup_found_title", number=number)
