"""The library at the kiosk against the real server, driven as a USB scanner drives it.

The server is a child process with the demo site, the demo catalog (config/library-demo.csv,
imported with ``servicepoint library import``) and two readers enrolled through the staff API.
The scanner is a keyboard: every code arrives as key events on the window, then Enter.

Online: a card scanned at the home screen, two books borrowed by scanning, the receipt's QR code
read off the screen and opened, my loans with a renewal (and one refused because another reader
waits), the session ended, and the books returned (one flagged for staff, one typed on the keypad
and refused). Offline: a reader identified by phone and PIN is forgotten by the idle timeout (and
their session ended); a return scanned with the server stopped is kept, said so on screen, and
checked in exactly once when the server is back.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from kiosk.i18n import format_date
from kiosk.lending import OutcomeKind
from tests.kiosk.kiosk_support import qr_codes_on_screen
from tests.support.server import ServerProcess

# One real server for the module: keep its tests on one xdist worker (--dist loadgroup).
pytestmark = [pytest.mark.xdist_group("kiosk-lending-e2e"), pytest.mark.kiosk]

LIBRARY = "/api/v1/library"
KIOSK_KEY = {"X-Kiosk-Key": "development-kiosk-key"}


@dataclass
class Desk:
    """The server and what the fixture set up on it."""

    server: ServerProcess
    wang: str   # 王阿姨's card id (the kiosk's reader)
    li: str     # 李爷爷's card id (places a hold; lends the book returned offline)

    @property
    def url(self) -> str:
        return self.server.url

    def staff(self) -> dict[str, str]:
        return self.server.login("staff", "staff-demo")

    def get(self, path: str, **params: str) -> dict:
        reply = httpx.get(self.url + LIBRARY + path, params=params, headers=self.staff(),
                          timeout=10)
        reply.raise_for_status()
        return reply.json()

    def book_id(self, copy_id: str) -> int:
        [book] = self.get("/catalog", q=copy_id)["books"]
        return book["id"]

    def loans_of(self, copy_id: str) -> list[dict]:
        return self.get("/loans", copy_id=copy_id)["loans"]


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("kiosk-lending")).start()
    try:
        imported = server.command("library", "import", "config/library-demo.csv")
        assert "added 13 books and 19 copies" in imported.stdout
        staff = server.login("staff", "staff-demo")
        cards = []
        # A resident exists once they have filed a request; the staff then enrol them as readers.
        for n, (name, phone) in enumerate((("王阿姨", "13800001234"), ("李爷爷", "13900005678")),
                                          start=1):
            filed = httpx.post(server.url + "/api/v1/requests", timeout=10, json={
                "client_id": f"seed-reader-{n:04d}", "category": "jobs",
                "unit_code": "C01-B01-U1", "contact_name": name, "contact_phone": phone,
                "channel": "phone"})
            assert filed.status_code == 201, filed.text
            enrolled = httpx.post(server.url + LIBRARY + "/patrons", headers=staff, timeout=10,
                                  json={"resident_id": n, "pin": "1234"})
            assert enrolled.status_code == 201, enrolled.text
            assert enrolled.json()["address_as"] == name
            cards.append(enrolled.json()["card_id"])
        yield Desk(server, *cards)
    finally:
        server.stop()


def outcome(kiosk):
    """(mark, headline, detail) as shown under the scan."""
    box = kiosk.app.root.current_screen.ids.outcome
    return box.ids.mark.text, box.ids.headline.text, box.ids.detail.text


def session_over(desk, session: str) -> bool:
    reply = httpx.get(desk.url + LIBRARY + "/session/loans", timeout=10,
                      headers={**KIOSK_KEY, "X-Library-Session": session})
    return reply.status_code == 401 and reply.json()["error"]["code"] == "session_expired"


def wait_for_answer(kiosk, what):
    kiosk.wait_until(lambda: kiosk.flow.visit is not None and not kiosk.flow.visit.in_flight
                     and kiosk.flow.visit.last is not None, what=what)
    kiosk.pump(2)
    return kiosk.flow.visit.last


def test_borrow_renew_and_return_by_scanning_at_the_kiosk(make_kiosk, desk, tmp_path):
    kiosk = make_kiosk(real_server_url=desk.url, SERVICEPOINT_KIOSK__KIOSK_ID="L1")
    assert kiosk.screen == "home" and not kiosk.app.offline

    # The card, scanned at the home screen: the reader has come to borrow.
    kiosk.scan(desk.wang)
    kiosk.wait_until(lambda: kiosk.screen == "lib_borrow", what="the borrow screen")
    ids = kiosk.app.root.current_screen.ids
    assert ids.status.text == kiosk.tr("lib_can_borrow", name="王阿姨", count=5)

    titles = {"LB-0009": "长沙老街旧事", "LB-0010": "湖湘文化名人录"}
    for copy_id, title in titles.items():
        kiosk.scan(copy_id)
        last = wait_for_answer(kiosk, f"the loan of {copy_id}")
        assert last.kind is OutcomeKind.BORROWED, last
        mark, headline, detail = outcome(kiosk)
        assert mark == "✔" and headline == kiosk.tr("lib_borrowed_ok", title=title)
        assert detail == kiosk.tr("lib_due", date=format_date(kiosk.app.lang, last.loan.due_on))
    assert [x["copy_id"] for x in desk.loans_of("LB-0009")] == ["LB-0009"]

    # The same book again is refused in words, and nothing changes on the server.
    kiosk.scan("LB-0010")
    last = wait_for_answer(kiosk, "the refusal")
    assert last.kind is OutcomeKind.REFUSED and last.refusal.code == "already_borrowed"
    assert outcome(kiosk)[0] == "✘" and outcome(kiosk)[2] == last.refusal.text(kiosk.app.lang)
    assert len(desk.loans_of("LB-0010")) == 1

    # The receipt: each book with its due date, and the reader's phone page as a QR code.
    kiosk.tap_text(kiosk.tr("lib_done"))
    assert kiosk.screen == "lib_receipt"
    lines = kiosk.app.root.current_screen.ids.lines.text
    for loan in kiosk.flow.visit.borrowed:
        due = kiosk.tr("lib_due", date=format_date(kiosk.app.lang, loan.due_on))
        assert f"{loan.title}\n    {due}" in lines
    [url] = qr_codes_on_screen(tmp_path)
    assert url == kiosk.flow.visit.reader.phone_url
    assert url.startswith(desk.url + "/l/")
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200 and all(title in page.text for title in titles.values())
    token = url.rsplit("/", 1)[-1]
    phone = httpx.get(f"{desk.url}{LIBRARY}/phone/{token}", timeout=10).json()
    assert phone["address_as"] == "王阿姨"
    assert sorted(x["copy_id"] for x in phone["loans"]) == sorted(titles)

    # My loans, then a renewal with one tap.
    kiosk.tap_text(kiosk.tr("back"))
    kiosk.tap_text(kiosk.tr("back"))
    assert kiosk.screen == "library"
    kiosk.tap_text(kiosk.tr("lib_loans"))
    kiosk.wait_until(lambda: kiosk.screen == "lib_loans" and not kiosk.flow.library_busy,
                     what="my loans")
    kiosk.pump(2)
    assert kiosk.tr("lib_loans_count", name="王阿姨", count=2) == \
        kiosk.app.root.current_screen.ids.status.text
    kiosk.tap_key("LB-0010")
    last = wait_for_answer(kiosk, "the renewal")
    assert last.kind is OutcomeKind.RENEWED and last.loan.renewals_left == 1
    assert kiosk.app.root.current_screen.ids.result.text.startswith("✔ ")
    [renewed] = desk.loans_of("LB-0010")
    assert renewed["renewals"] == 1 and renewed["renewals_left"] == 1

    # Another reader puts a hold on the other book: it cannot be renewed, and says why.
    hold = httpx.post(desk.url + LIBRARY + "/holds", headers=desk.staff(), timeout=10,
                      json={"card_id": desk.li, "book_id": desk.book_id("LB-0009")})
    assert hold.status_code == 201 and hold.json()["status"] == "waiting"
    kiosk.tap_key("LB-0009")
    last = wait_for_answer(kiosk, "the refused renewal")
    assert last.kind is OutcomeKind.REFUSED and last.refusal.code == "renew_on_hold"
    assert kiosk.app.root.current_screen.ids.result.text == \
        "✘ " + last.refusal.text(kiosk.app.lang)

    # Home: the reader is forgotten, and so is their session on the server.
    session = kiosk.flow.visit.reader.session
    kiosk.tap_text(kiosk.tr("home"))
    assert kiosk.screen == "home" and kiosk.flow.visit is None

    kiosk.wait_until(lambda: session_over(desk, session),
                     what="the session to end on the server")

    # Returns need no card: each book confirmed with a big mark and its title.
    kiosk.tap_key("books")
    kiosk.tap_text(kiosk.tr("lib_return"))
    assert kiosk.screen == "lib_return"
    kiosk.scan("LB-0010")
    last = wait_for_answer(kiosk, "the return")
    assert last.kind is OutcomeKind.RETURNED and not last.check_in.hand_to_staff
    assert outcome(kiosk) == ("✔", kiosk.tr("lib_returned_ok", title="湖湘文化名人录"),
                              kiosk.tr("lib_put_away"))
    kiosk.scan("LB-0009")
    last = wait_for_answer(kiosk, "the return of the held book")
    assert last.check_in.hand_to_staff
    assert outcome(kiosk) == ("!", kiosk.tr("lib_returned_ok", title="长沙老街旧事"),
                              kiosk.tr("lib_hand_to_staff"))
    assert kiosk.app.root.current_screen.ids.count.text == kiosk.tr("lib_returned_count",
                                                                   count=2)
    # A book that is not out, typed on the keypad: refused in words, not kept for retrying.
    kiosk.tap_text(kiosk.tr("lib_type_copy"))
    assert kiosk.screen == "lib_copy"
    kiosk.type_digits("10")
    assert kiosk.app.root.current_screen.ids.display.text == "LB-0010"
    kiosk.tap_text(kiosk.tr("confirm"))
    assert kiosk.screen == "lib_return"
    last = wait_for_answer(kiosk, "the refused return")
    assert last.kind is OutcomeKind.REFUSED and last.refusal.code == "not_on_loan"
    assert outcome(kiosk)[0] == "✘" and "staff" in last.refusal.text("en")
    [ready] = desk.get("/holds", status="ready")["holds"]
    assert ready["card_id"] == desk.li and ready["copy_id"] == "LB-0009"
    assert all(x["returned_at"] for x in desk.loans_of("LB-0009") + desk.loans_of("LB-0010"))
    assert kiosk.app.returns.pending_count() == 0


def test_a_return_scanned_while_the_server_is_down_is_checked_in_exactly_once(
        make_kiosk, desk):
    # 李爷爷 borrowed LB-0001 at the desk (through the same API the kiosk uses).
    opened = httpx.post(desk.url + LIBRARY + "/sessions", headers=KIOSK_KEY, timeout=10,
                        json={"card_id": desk.li})
    session = {**KIOSK_KEY, "X-Library-Session": opened.json()["session"]}
    lent = httpx.post(desk.url + LIBRARY + "/loans", headers=session, timeout=10,
                      json={"copy_id": "LB-0001", "client_id": "desk-b-00000001"})
    assert lent.status_code == 201, lent.text

    kiosk = make_kiosk(real_server_url=desk.url, SERVICEPOINT_KIOSK__KIOSK_ID="L2")
    # Without the card: phone number and PIN on the keypad (a wrong PIN first).
    kiosk.tap_key("books")
    kiosk.tap_text(kiosk.tr("lib_loans"))
    kiosk.tap_text(kiosk.tr("lib_use_phone"))
    kiosk.type_digits("13900005678")
    kiosk.tap_text(kiosk.tr("confirm"))
    assert kiosk.screen == "lib_pin"
    kiosk.type_digits("9999")
    kiosk.tap_text(kiosk.tr("confirm"))
    last = wait_for_answer(kiosk, "the wrong PIN")
    assert last.refusal.code == "wrong_pin"
    assert kiosk.app.root.current_screen.ids.hint.text == last.refusal.text(kiosk.app.lang)
    kiosk.type_digits("1234")
    kiosk.tap_text(kiosk.tr("confirm"))
    kiosk.wait_until(lambda: kiosk.screen == "lib_loans", what="李爷爷's loans")
    kiosk.pump(2)
    [row] = [w for w in kiosk.app.root.current_screen.ids.rows.children if hasattr(w, "copy_id")]
    assert (row.copy_id, row.title) == ("LB-0001", "老年常见病防治手册（大字版）")
    # He walks away: the kiosk warns, then forgets him and ends his session on the server.
    session = kiosk.flow.visit.reader.session
    kiosk.clock.advance(kiosk.flow.idle_seconds + 1)
    kiosk.wait_until(lambda: kiosk.app.idle_warning is not None, what="the idle warning")
    kiosk.clock.advance(kiosk.flow.warning_seconds)
    kiosk.wait_until(lambda: kiosk.screen == "home", what="the idle timeout")
    assert kiosk.flow.visit is None
    kiosk.wait_until(lambda: session_over(desk, session), what="the session to end")

    kiosk.tap_key("books")
    kiosk.tap_text(kiosk.tr("lib_return"))
    desk.server.stop()
    try:
        kiosk.scan("LB-0001")
        last = wait_for_answer(kiosk, "the return kept offline")
        assert last.kind is OutcomeKind.RETURNED and last.check_in.queued
        # The reader is told it is noted and will be checked in; the book goes in the box.
        assert outcome(kiosk) == ("✔", kiosk.tr("lib_returned_ok", title="LB-0001"),
                                  kiosk.tr("lib_queued", copy="LB-0001"))
        assert kiosk.app.offline
        [kept] = kiosk.app.returns.pending()
        assert kept.copy_id == "LB-0001"
        kiosk.app.flush_outbox().result(timeout=30)
        assert kiosk.app.returns.pending_count() == 1  # still away: kept, not dropped
    finally:
        desk.server.start()

    kiosk.app.flush_outbox().result(timeout=30)
    kiosk.app.flush_outbox().result(timeout=30)
    assert kiosk.app.returns.pending_count() == 0
    assert kiosk.app.returns.get(kept.client_id).state == "delivered"
    kiosk.wait_until(lambda: not kiosk.app.offline, what="the offline banner to go")

    [loan] = desk.loans_of("LB-0001")
    assert loan["card_id"] == desk.li and loan["returned_at"]
    [book] = desk.get("/catalog", q="LB-0001")["books"]
    assert {c["copy_id"]: c["status"] for c in book["copies"]}["LB-0001"] == "available"
    # Exactly once: the kept return sent again is answered from the first receipt.
    again = httpx.post(desk.url + LIBRARY + "/returns", headers=KIOSK_KEY, json=kept.body,
                       timeout=10)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert len(desk.loans_of("LB-0001")) == 1
