"""Who may open what: a volunteer never reaches staff pages, a squad leader only their squad,
and each refusal is a page (4xx), never a crash."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import (
    advance,
    cookie_sign_in,
    csrf_of,
    file_request,
    post_form,
    ticket_id_of,
)

STAFF_PAGES = ["/staff", "/staff/tickets/1", "/staff/figures", "/staff/figures.csv",
               "/staff/site", "/staff/alerts.json"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_volunteer_cannot_open_staff_pages(client: TestClient, path: str) -> None:
    file_request(client)
    cookie_sign_in(client, "lijianguo")
    reply = client.get(path)
    assert reply.status_code == 403 and "无权访问" in reply.text


def test_a_volunteer_cannot_post_staff_forms(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, filed["number"])
    cookie_sign_in(client, "lijianguo")
    token = csrf_of(client.get("/v").text)
    for action in (f"/staff/tickets/{ticket_id}/dispatch", f"/staff/tickets/{ticket_id}/act/close"):
        reply = client.post(action, data={"volunteer_id": "1", "csrf_token": token})
        assert reply.status_code == 403
    assert "新建" in client.get(f"/r/{filed['phone_token']}").text


def test_staff_pages_are_not_volunteer_pages(client: TestClient) -> None:
    cookie_sign_in(client, "staff")
    assert client.get("/v").status_code == 403


def test_a_squad_leader_sees_only_their_own_squad(client: TestClient) -> None:
    grid1 = file_request(client, unit_code="C01-B01-U1")   # grid-1, squad-1
    grid2 = file_request(client, unit_code="C05-B01-U1")   # grid-2, squad-2
    cookie_sign_in(client, "leader1")
    queue = client.get("/staff").text
    assert grid1["number"] in queue and grid2["number"] not in queue
    other = ticket_id_of(client, grid2["number"])
    assert client.get(f"/staff/tickets/{other}").status_code == 403
    assert client.get("/staff/figures").status_code == 403  # figures are for staff


def test_a_volunteer_cannot_act_on_someone_elses_task(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, filed["number"])
    advance(client, ticket_id, "dispatched")  # to 建国
    cookie_sign_in(client, "chenguoqing")
    reply = post_form(client, "/v", f"/v/tasks/{ticket_id}/accept", {})
    assert reply.status_code == 403  # type: ignore[attr-defined]


def test_unknown_tickets_and_bad_ids_are_pages_not_errors(client: TestClient) -> None:
    cookie_sign_in(client, "staff")
    assert client.get("/staff/tickets/999999").status_code == 404
    assert client.get("/staff/tickets/abc").status_code == 404
    assert client.get("/staff?page=0").status_code == 422
    assert client.get("/staff/figures?year=1800").status_code == 422
    assert "text/html" in client.get("/staff/tickets/abc").headers["content-type"]
