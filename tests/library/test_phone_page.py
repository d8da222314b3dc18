"""The reader's phone page (/l/<token>), where the kiosk's receipt QR code leads: their loans
with due dates, and renewal with one tap, from the phone, with no account."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.library.conftest import KIOSK, Readers
from tests.server.conftest import FakeClock, sign_in
from tests.web.conftest import csrf_of

pytestmark = pytest.mark.usefixtures("catalog")
API = "/api/v1/library"


def borrow(client: TestClient, card_id: str, *copies: str) -> None:
    session = client.post(f"{API}/sessions", json={"card_id": card_id}, headers=KIOSK).json()
    headers = {**KIOSK, "X-Library-Session": session["session"]}
    for n, copy_id in enumerate(copies):
        reply = client.post(f"{API}/loans", headers=headers,
                            json={"copy_id": copy_id, "client_id": f"phone-test-{card_id}-{n}"})
        assert reply.status_code == 201, reply.text


def test_the_page_lists_my_loans_and_renews_one_with_a_tap(
        client: TestClient, readers: Readers, clock: FakeClock) -> None:
    borrow(client, readers.wang.card_id, "LB-0001", "LB-0009")
    url = f"/l/{readers.wang.phone_token}"
    page = client.get(url)
    assert page.status_code == 200
    assert "王阿姨" in page.text and "老年常见病防治手册（大字版）" in page.text
    assert "2026-12-25" in page.text and "还可续借 2 次" in page.text
    assert page.text.count("续借这本") == 2

    clock.advance(days=10)
    renewed = client.post(f"{url}/renew", data={"copy_id": "LB-0001",
                                                "csrf_token": csrf_of(page.text)})
    assert renewed.status_code == 200  # after the redirect
    assert "续借好了" in renewed.text and "还可续借 1 次" in renewed.text
    loans = client.get(f"{API}/phone/{readers.wang.phone_token}").json()["loans"]
    due = {x["copy_id"]: (x["due_on"], x["renewals_left"]) for x in loans}
    assert due["LB-0001"] == ("2027-01-04", 1)  # 30 days from the day of renewal
    assert due["LB-0009"] == ("2026-12-25", 2)  # the other book is untouched

    english = client.get(f"{url}?lang=en")
    assert "My library loans" in english.text and "Renew this book" in english.text


def test_a_refused_renewal_says_why_and_changes_nothing(
        client: TestClient, readers: Readers) -> None:
    borrow(client, readers.wang.card_id, "LB-0010")  # the only copy of its book
    staff = sign_in(client, "staff")
    [book] = client.get(f"{API}/catalog", params={"q": "LB-0010"}, headers=staff).json()["books"]
    held = client.post(f"{API}/holds", headers=staff,
                       json={"card_id": readers.li.card_id, "book_id": book["id"]})
    assert held.status_code == 201, held.text
    url = f"/l/{readers.wang.phone_token}"
    page = client.get(url)
    refused = client.post(f"{url}/renew", data={"copy_id": "LB-0010",
                                                "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 409
    assert "没有续借" in refused.text and "有读者在等这本书" in refused.text
    loans = client.get(f"{API}/phone/{readers.wang.phone_token}").json()["loans"]
    assert loans[0]["renewals_left"] == 2
    # Someone else's book is not theirs to renew, and says so.
    borrow(client, readers.li.card_id, "LB-0009")
    other = client.post(f"{url}/renew", data={"copy_id": "LB-0009",
                                              "csrf_token": csrf_of(page.text)})
    assert other.status_code == 409 and "没有续借" in other.text


def test_the_page_shows_only_its_own_reader_and_forms_need_their_token(
        client: TestClient, readers: Readers) -> None:
    borrow(client, readers.wang.card_id, "LB-0001")
    borrow(client, readers.li.card_id, "LB-0009")
    mine = client.get(f"/l/{readers.li.phone_token}")
    assert "长沙老街旧事" in mine.text
    assert "王阿姨" not in mine.text and "老年常见病防治手册" not in mine.text
    assert client.get(f"/l/{'x' * 32}").status_code == 404
    no_token = client.post(f"/l/{readers.li.phone_token}/renew", data={"copy_id": "LB-0009"})
    assert no_token.status_code == 403
    loans = client.get(f"{API}/phone/{readers.li.phone_token}").json()["loans"]
    assert loans[0]["renewals_left"] == 2
