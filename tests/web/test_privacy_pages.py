"""The full phone number on the pages (issue 13): on the volunteer's own page once accepted,
on staff's and the squad's own leader's ticket page; masked before, after, and for others."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.task_access import PhoneReveal
from tests.web.conftest import (
    advance,
    api_headers,
    cookie_sign_in,
    file_request,
    ticket_id_of,
)

FULL = "13800001234"


def _page_reveals(client: TestClient, ticket_id: int) -> list[str]:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return [r.who for r in db.scalars(select(PhoneReveal).where(
            PhoneReveal.ticket_id == ticket_id, PhoneReveal.via == "page"))]


def test_my_tasks_page_gives_the_number_to_call_only_once_accepted(client: TestClient) -> None:
    filed = file_request(client, room="502")
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "dispatched")
    cookie_sign_in(client, "lijianguo")
    offered = client.get("/v").text
    assert "138****1234" in offered and FULL not in offered and "502 室" in offered
    assert "接单后可以看到居民的完整电话" in offered
    assert _page_reveals(client, ticket_id) == []

    client.post(f"/api/v1/tickets/{ticket_id}/accept",
                headers=api_headers(client, "lijianguo"))
    accepted = client.get("/v").text
    assert f'href="tel:{FULL}"' in accepted and "打电话给王阿姨" in accepted
    assert _page_reveals(client, ticket_id) == ["建国"]


def test_the_ticket_page_shows_the_number_to_staff_and_the_squads_leader_only(
        client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    for username in ("staff", "leader1"):
        cookie_sign_in(client, username)
        assert f'href="tel:{FULL}"' in client.get(f"/staff/tickets/{ticket_id}").text
    assert len(_page_reveals(client, ticket_id)) == 2
    cookie_sign_in(client, "leader2")
    other = client.get(f"/staff/tickets/{ticket_id}")
    assert other.status_code == 403 and FULL not in other.text
    cookie_sign_in(client, "wangxiuying")
    volunteer = client.get(f"/staff/tickets/{ticket_id}")
    assert volunteer.status_code == 403 and FULL not in volunteer.text
    assert len(_page_reveals(client, ticket_id)) == 2
