"""Who may do what: every staff action refuses volunteers and anonymous callers."""

from fastapi.testclient import TestClient

from tests.server.conftest import FakeClock, file_request, sign_in


def _ticket_id(client: TestClient) -> int:
    file_request(client)
    return int(client.get("/api/v1/tickets", headers=sign_in(client, "staff")).json()[
        "tickets"][0]["id"])


def test_anonymous_callers_are_refused_everywhere(client: TestClient) -> None:
    ticket_id = _ticket_id(client)
    for method, path in [("get", "/api/v1/tickets"), ("get", f"/api/v1/tickets/{ticket_id}"),
                         ("post", f"/api/v1/tickets/{ticket_id}/dispatch"),
                         ("post", f"/api/v1/tickets/{ticket_id}/close"),
                         ("get", "/api/v1/figures/monthly?year=2026"),
                         ("get", "/api/v1/site/status"), ("get", "/api/v1/me/tasks")]:
        reply = client.request(method, path, json={"volunteer_id": 1})
        assert reply.status_code == 401, (method, path, reply.text)
        assert reply.json()["error"]["code"] == "not_authenticated"


def test_a_volunteer_cannot_dispatch_close_or_read_figures(client: TestClient) -> None:
    ticket_id = _ticket_id(client)
    volunteer = sign_in(client, "lijianguo")
    assert client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=volunteer,
                       json={"volunteer_id": 1}).status_code == 403
    assert client.post(f"/api/v1/tickets/{ticket_id}/close", headers=volunteer).status_code == 403
    assert client.get("/api/v1/figures/monthly?year=2026", headers=volunteer).status_code == 403
    # Not dispatched to them, so not theirs to see or accept.
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=volunteer).status_code == 403
    assert client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=volunteer).status_code == 403


def test_a_squad_leader_only_dispatches_in_their_own_grid(client: TestClient) -> None:
    ticket_id = _ticket_id(client)  # grid 1
    other = sign_in(client, "leader2")
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=other).status_code == 403
    assert client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=other,
                       json={"volunteer_id": 5}).status_code == 403
    assert client.get("/api/v1/tickets", headers=other).json()["count"] == 0


def test_only_the_chosen_volunteer_may_accept(client: TestClient) -> None:
    ticket_id = _ticket_id(client)
    client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=sign_in(client, "leader1"),
                json={"volunteer_id": 1})
    other = sign_in(client, "chenguoqing")
    assert client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=other).status_code == 403


def test_dispatch_needs_the_skill(client: TestClient) -> None:
    ticket_id = _ticket_id(client)  # water_electric
    reply = client.post(f"/api/v1/tickets/{ticket_id}/dispatch",
                        headers=sign_in(client, "leader1"), json={"volunteer_id": 2})  # haircut
    assert reply.status_code == 422 and "water_electric" in reply.json()["error"]["message"]


def test_repeated_wrong_passwords_are_throttled(client: TestClient, clock: FakeClock) -> None:
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json={"username": "staff", "password": "x"}
                           ).status_code == 401
    locked = client.post("/api/v1/auth/login", json={"username": "staff",
                                                      "password": "staff-demo"})
    assert locked.status_code == 429
    clock.advance(minutes=6)
    assert client.post("/api/v1/auth/login", json={"username": "staff",
                                                    "password": "staff-demo"}).status_code == 200


def test_sessions_end_on_logout_and_expire(client: TestClient, clock: FakeClock) -> None:
    staff = sign_in(client, "staff")
    assert client.get("/api/v1/tickets", headers=staff).status_code == 200
    client.post("/api/v1/auth/logout", headers=staff)
    assert client.get("/api/v1/tickets", headers=staff).status_code == 401
    staff = sign_in(client, "staff")
    clock.advance(hours=13)
    assert client.get("/api/v1/tickets", headers=staff).status_code == 401


def test_the_kiosk_key_opens_the_site_status_only(client: TestClient) -> None:
    file_request(client)
    status = client.get("/api/v1/site/status", headers={"X-Kiosk-Key": "development-kiosk-key"})
    assert status.status_code == 200 and len(status.json()["open_tickets"]) == 1
    assert client.get("/api/v1/site/status", headers={"X-Kiosk-Key": "guess-guess-guess"}
                      ).status_code == 401
    assert client.get("/api/v1/tickets", headers={"X-Kiosk-Key": "development-kiosk-key"}
                      ).status_code == 401
