"""The library's HTTP API as the kiosk and staff use it (the contract in docs/LIBRARY.md)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.library.rules import Reason
from tests.library.conftest import KIOSK, Readers
from tests.server.conftest import FakeClock, sign_in

pytestmark = pytest.mark.usefixtures("catalog")
API = "/api/v1/library"


def session_for(client: TestClient, **who: str) -> dict[str, str]:
    reply = client.post(f"{API}/sessions", json=who, headers=KIOSK)
    assert reply.status_code == 201, reply.text
    return {**KIOSK, "X-Library-Session": reply.json()["session"]}


def refusal(reply: Any, status: int, reason: Reason) -> None:
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == reason.value
    assert error["message_zh"] and error["message_en"]


def test_kiosk_borrow_list_renew_return(client: TestClient, readers: Readers,
                                        clock: FakeClock) -> None:
    reply = client.post(f"{API}/sessions", json={"card_id": readers.wang.card_id},
                        headers=KIOSK)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["patron"] == {"card_id": readers.wang.card_id, "address_as": "王阿姨",
                              "loans": 0, "max_items": 5, "can_borrow": 5, "blocked": False}
    assert body["phone_url"].endswith(f"/l/{readers.wang.phone_token}")
    headers = {**KIOSK, "X-Library-Session": body["session"]}

    reply = client.post(f"{API}/loans", json={"copy_id": "LB-0001\r", "client_id": "k1-b-0001"},
                        headers=headers)
    assert reply.status_code == 201, reply.text
    loan = reply.json()
    assert loan["copy_id"] == "LB-0001" and loan["due_on"] == "2026-12-25"
    assert loan["title"] == "老年常见病防治手册（大字版）" and loan["renewals_left"] == 2
    again = client.post(f"{API}/loans", json={"copy_id": "LB-0001", "client_id": "k1-b-0001"},
                        headers=headers)
    assert again.status_code == 200 and again.json()["loan_id"] == loan["loan_id"]

    mine = client.get(f"{API}/session/loans", headers=headers).json()
    assert [x["copy_id"] for x in mine["loans"]] == ["LB-0001"]
    assert mine["patron"]["can_borrow"] == 4

    clock.advance(days=10)  # ten days on, the reader comes back: a new session
    headers = session_for(client, phone="138-0000-1234", pin="1234")
    renewed = client.post(f"{API}/renewals", json={"copy_id": "LB-0001"}, headers=headers)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["due_on"] == "2027-01-04" and renewed.json()["renewals_left"] == 1

    returned = client.post(f"{API}/returns", json={"client_id": "k1-r-0001",
                                                   "copy_id": "LB-0001"}, headers=KIOSK)
    assert returned.status_code == 200, returned.text
    assert returned.json()["hand_to_staff"] is False
    assert returned.json()["replayed"] is False
    replay = client.post(f"{API}/returns", json={"client_id": "k1-r-0001", "copy_id": "LB-0001"},
                         headers=KIOSK)
    assert replay.status_code == 200 and replay.json()["replayed"] is True

    assert client.delete(f"{API}/sessions/current", headers=headers).status_code == 204
    gone = client.get(f"{API}/session/loans", headers=headers)
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "session_expired"


def test_refusals_are_4xx_with_the_reason_code_and_both_languages(
        client: TestClient, readers: Readers) -> None:
    wang = session_for(client, card_id=readers.wang.card_id)
    li = session_for(client, phone="13900005678", pin="5678")
    client.post(f"{API}/loans", json={"copy_id": "LB-0001"}, headers=wang)
    refusal(client.post(f"{API}/loans", json={"copy_id": "LB-0001"}, headers=li),
            409, Reason.ON_LOAN)
    refusal(client.post(f"{API}/loans", json={"copy_id": "NO-SUCH"}, headers=li),
            404, Reason.UNKNOWN_COPY)
    refusal(client.post(f"{API}/renewals", json={"copy_id": "LB-0001"}, headers=li),
            404, Reason.NOT_YOUR_LOAN)
    refusal(client.post(f"{API}/returns", json={"client_id": "k1-r-0009", "copy_id": "LB-0002"},
                        headers=KIOSK), 409, Reason.NOT_ON_LOAN)
    refusal(client.post(f"{API}/sessions", json={"card_id": "P0000000000"}, headers=KIOSK),
            404, Reason.UNKNOWN_PATRON)
    refusal(client.post(f"{API}/sessions", json={"phone": "13900005678", "pin": "0000"},
                        headers=KIOSK), 401, Reason.WRONG_PIN)
    for _ in range(4):
        client.post(f"{API}/sessions", json={"phone": "13900005678", "pin": "0000"},
                    headers=KIOSK)
    refusal(client.post(f"{API}/sessions", json={"phone": "13900005678", "pin": "5678"},
                        headers=KIOSK), 429, Reason.PIN_THROTTLED)
    codes = {r["code"]: r["status"] for r in client.get(f"{API}/reasons").json()["reasons"]}
    assert set(codes) == {r.value for r in Reason}
    assert codes["limit_reached"] == 409 and codes["unknown_copy"] == 404


def test_kiosk_endpoints_need_the_kiosk_key_or_staff(client: TestClient, readers: Readers
                                                    ) -> None:
    body = {"card_id": readers.wang.card_id}
    assert client.post(f"{API}/sessions", json=body).status_code == 401
    assert client.post(f"{API}/sessions", json=body,
                       headers={"X-Kiosk-Key": "wrong-key-wrong-key"}).status_code == 401
    staff = sign_in(client, "staff")
    assert client.post(f"{API}/sessions", json=body, headers=staff).status_code == 201
    volunteer = sign_in(client, "lijianguo")
    assert client.post(f"{API}/sessions", json=body, headers=volunteer).status_code == 403
    assert client.get(f"{API}/overdue", headers=KIOSK).status_code == 401


def test_a_returned_hold_is_flagged_to_the_reader_and_to_staff(
        client: TestClient, readers: Readers, clock: FakeClock) -> None:
    staff = sign_in(client, "staff")
    wang = session_for(client, card_id=readers.wang.card_id)
    client.post(f"{API}/loans", json={"copy_id": "LB-0006"}, headers=wang)
    book_id = client.get(f"{API}/catalog", params={"q": "太极"},
                         headers=staff).json()["books"][0]["id"]
    hold = client.post(f"{API}/holds", json={"card_id": readers.li.card_id, "book_id": book_id},
                       headers=staff)
    assert hold.status_code == 201 and hold.json()["status"] == "waiting"
    returned = client.post(f"{API}/returns", json={"client_id": "k1-r-0100",
                                                   "copy_id": "LB-0006"}, headers=KIOSK).json()
    assert returned["hand_to_staff"] is True and "工作人员" in returned["message_zh"]
    ready = client.get(f"{API}/holds", params={"status": "ready"}, headers=staff).json()
    assert [(h["copy_id"], h["card_id"]) for h in ready["holds"]] == [
        ("LB-0006", readers.li.card_id)]
    zhou = session_for(client, card_id=readers.zhou.card_id)
    refusal(client.post(f"{API}/loans", json={"copy_id": "LB-0006"}, headers=zhou),
            409, Reason.ON_HOLD_FOR_OTHER)
    books = client.get(f"{API}/catalog", params={"q": "太极"}, headers=staff).json()
    assert books["books"][0]["copies"][0]["status"] == "on_hold"


def test_staff_enrol_set_pin_history_overdue_and_phone_page(
        client: TestClient, db: Session, readers: Readers, clock: FakeClock) -> None:
    from tests.library.conftest import add_resident

    staff = sign_in(client, "staff")
    resident = add_resident(db, address_as="赵师傅", phone="13600001111")
    made = client.post(f"{API}/patrons", json={"resident_id": resident.id, "pin": "2468"},
                       headers=staff)
    assert made.status_code == 201 and made.json()["has_pin"] is True
    assert made.json()["phone"] == "136****1111"
    card = made.json()["card_id"]
    assert client.post(f"{API}/patrons", json={"resident_id": resident.id},
                       headers=staff).status_code == 200
    assert client.put(f"{API}/patrons/{card}/pin", json={"pin": "1357"},
                      headers=staff).status_code == 204
    zhao = session_for(client, phone="13600001111", pin="1357")
    client.post(f"{API}/loans", json={"copy_id": "LB-0010"}, headers=zhao)

    clock.advance(days=32)
    staff = sign_in(client, "staff")
    run = client.post(f"{API}/reminders/run", headers=staff).json()
    assert run["overdue"] == 1
    overdue = client.get(f"{API}/overdue", headers=staff).json()
    assert [(x["copy_id"], x["card_id"], x["overdue_days"], x["reminders"])
            for x in overdue["loans"]] == [("LB-0010", card, 2, 1)]
    history = client.get(f"{API}/loans", params={"card_id": card}, headers=staff).json()
    assert history["count"] == 1 and history["loans"][0]["address_as"] == "赵师傅"
    detail = client.get(f"{API}/patrons/{card}", headers=staff).json()
    token = detail["phone_url"].rsplit("/", 1)[-1]

    page = client.get(f"{API}/phone/{token}").json()
    assert page["loans"][0]["overdue_days"] == 2
    assert page["reminders"][0]["kind"] == "overdue"
    html = client.get(f"/l/{token}")
    assert html.status_code == 200 and "湖湘文化名人录" in html.text and "已超期 2 天" in html.text
    # Where the page used to be, links already handed out lead to it.
    moved = client.get(f"{API}/phone/{token}/page", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == f"/l/{token}"
    assert client.get(f"{API}/phone/{'x' * 32}").status_code == 404
