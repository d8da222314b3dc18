"""Who sees a resident's full phone number (issue 13): the volunteer who accepted the task until
it closes, staff, and the squad's own leader; each time is logged. The offered volunteer, another
volunteer, another squad's leader, the public and Open311 readers see it masked or not at all."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.services.requests import confirm_done
from server.task_access import PhoneReveal
from tests.server.conftest import file_request, sign_in

FULL = "13800001234"
MASKED = "138****1234"


def _ticket_id(client: TestClient, number: str, staff: dict[str, str]) -> int:
    rows = client.get("/api/v1/tickets?limit=500", headers=staff).json()["tickets"]
    return next(int(t["id"]) for t in rows if t["number"] == number)


def _reveals(client: TestClient, ticket_id: int) -> list[tuple[str, str]]:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        rows = db.scalars(select(PhoneReveal).where(PhoneReveal.ticket_id == ticket_id)
                          .order_by(PhoneReveal.id)).all()
        return [(r.who, r.via) for r in rows]


def _dispatched_to_jianguo(client: TestClient) -> tuple[dict[str, object], int, dict[str, str]]:
    filed = file_request(client, floor="5", room="502")
    staff = sign_in(client, "staff")
    ticket_id = _ticket_id(client, str(filed["number"]), staff)
    proposals = client.get(f"/api/v1/tickets/{ticket_id}/proposals", headers=staff).json()
    jianguo = next(p["volunteer_id"] for p in proposals["proposals"] if p["given_name"] == "建国")
    reply = client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=staff,
                        json={"volunteer_id": jianguo, "note": "阿姨腿脚不便，请上楼敲门"})
    assert reply.status_code == 200
    return filed, ticket_id, staff


def test_the_offered_volunteer_sees_the_job_but_not_the_number_until_accepting(
        client: TestClient) -> None:
    _, ticket_id, _ = _dispatched_to_jianguo(client)
    jianguo = sign_in(client, "lijianguo")
    offered = client.get(f"/api/v1/tickets/{ticket_id}", headers=jianguo).json()
    assert offered["contact_phone"] is None and offered["contact_phone_masked"] == MASKED
    assert (offered["floor"], offered["room"]) == ("5", "502")
    assert offered["dispatch_note"] == "阿姨腿脚不便，请上楼敲门"
    before = _reveals(client, ticket_id)  # staff's own, when dispatching
    assert all(who != "建国" for who, _ in before)

    accepted = client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=jianguo).json()
    assert accepted["contact_phone"] == FULL
    again = client.get(f"/api/v1/tickets/{ticket_id}", headers=jianguo).json()
    assert again["contact_phone"] == FULL
    assert _reveals(client, ticket_id)[len(before):] == [("建国", "api"), ("建国", "api")]


def test_after_close_the_volunteer_sees_it_masked_again(client: TestClient) -> None:
    filed, ticket_id, _ = _dispatched_to_jianguo(client)
    jianguo = sign_in(client, "lijianguo")
    client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=jianguo)
    done = client.post(f"/api/v1/tickets/{ticket_id}/resolve", headers=jianguo,
                       json={"note": "换了阀芯"}).json()
    assert done["contact_phone"] == FULL  # done, waiting for the resident: still needed
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        # The resident confirms on the phone (tests/web/test_phone.py drives that form).
        confirm_done(db, token=str(filed["phone_token"]), rating=5, comment="",
                     now=client.app.state.clock())  # type: ignore[attr-defined]
    closed = client.get(f"/api/v1/tickets/{ticket_id}", headers=jianguo).json()
    assert closed["status"] == "closed"
    assert closed["contact_phone"] is None and closed["contact_phone_masked"] == MASKED


def test_staff_and_the_squads_own_leader_see_it_others_do_not(client: TestClient) -> None:
    filed, ticket_id, staff = _dispatched_to_jianguo(client)
    before = len(_reveals(client, ticket_id))
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=staff).json()[
        "contact_phone"] == FULL
    leader1 = sign_in(client, "leader1")  # squad 1 covers building 1 of 劳动新村
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=leader1).json()[
        "contact_phone"] == FULL
    assert [via for _, via in _reveals(client, ticket_id)[before:]] == ["api", "api"]

    leader2 = sign_in(client, "leader2")
    other_volunteer = sign_in(client, "chenguoqing")
    for headers in (leader2, other_volunteer, {}):
        reply = client.get(f"/api/v1/tickets/{ticket_id}", headers=headers)
        assert reply.status_code in (401, 403)
        assert FULL not in reply.text
    # The public readings: the resident's own phone link, and Open311.
    assert FULL not in client.get(f"/api/v1/track/{filed['phone_token']}").text
    assert FULL not in client.get(f"/r/{filed['phone_token']}").text
    assert FULL not in client.get("/open311/v2/requests.json").text
    assert FULL not in client.get(f"/open311/v2/requests/{filed['number']}.json").text
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalar(select(func.count()).select_from(PhoneReveal)
                         .where(PhoneReveal.ticket_id == ticket_id)) == before + 2


def test_the_request_api_takes_floor_and_room(client: TestClient) -> None:
    filed = file_request(client, floor=" 3 ", room="301")
    staff = sign_in(client, "staff")
    ticket_id = _ticket_id(client, str(filed["number"]), staff)
    detail = client.get(f"/api/v1/tickets/{ticket_id}", headers=staff).json()
    assert (detail["floor"], detail["room"]) == ("3", "301")
    assert "301" not in client.get(f"/api/v1/track/{filed['phone_token']}").text
    too_long = client.post("/api/v1/requests", json={
        "client_id": "floor-room-too-long", "category": "water_electric",
        "unit_code": "C01-B01-U1", "answers": {"problem": "leak"}, "room": "x" * 21})
    assert too_long.status_code == 422
