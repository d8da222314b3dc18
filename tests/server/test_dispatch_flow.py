"""居民点单、分队下单、党员接单: the whole path of a request, on SQLite and on PostgreSQL."""

from fastapi.testclient import TestClient

from tests.server.conftest import FakeClock, file_request, sign_in


def test_request_is_filed_dispatched_accepted_done_and_confirmed(
        client: TestClient, clock: FakeClock) -> None:
    filed = file_request(client)
    token = filed["phone_token"]
    assert filed["status"] == "new"
    assert filed["status_url"].endswith(f"/r/{token}")

    leader = sign_in(client, "leader1")
    queue = client.get("/api/v1/tickets", headers=leader).json()["tickets"]
    ticket = next(t for t in queue if t["number"] == filed["number"])
    assert ticket["squad"] == "squad-1"  # C01 is in grid 1, covered by squad 1

    proposals = client.get(f"/api/v1/tickets/{ticket['id']}/proposals",
                           headers=leader).json()["proposals"]
    assert all("water_electric" in p["skills"] for p in proposals)
    assert proposals[0]["in_squad"] and proposals[0]["given_name"] == "建国"

    clock.advance(minutes=10)
    reply = client.post(f"/api/v1/tickets/{ticket['id']}/dispatch", headers=leader,
                        json={"volunteer_id": proposals[0]["volunteer_id"]})
    assert reply.status_code == 200 and reply.json()["status"] == "dispatched"

    volunteer = sign_in(client, "lijianguo")
    assert [t["number"] for t in client.get("/api/v1/me/tasks",
                                            headers=volunteer).json()["current"]] == [
        filed["number"]]
    clock.advance(minutes=5)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/accept",
                       headers=volunteer).json()["status"] == "accepted"
    seen = client.get(f"/api/v1/track/{token}").json()
    assert seen["volunteer_given_name"] == "建国"
    clock.advance(hours=1)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/resolve", headers=volunteer,
                       json={"note": "换了水龙头"}).json()["status"] == "resolved"

    done = client.post(f"/api/v1/track/{token}/confirm", json={"rating": 5, "comment": "谢谢"})
    assert done.status_code == 200
    assert done.json()["status"] == "closed" and done.json()["rating"] == 5

    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=leader).json()
    assert [(e["action"], e["to_status"]) for e in detail["history"]] == [
        ("file", "new"), ("dispatch", "dispatched"), ("accept", "accepted"),
        ("resolve", "resolved"), ("close", "closed")]
    assert detail["history"][3]["note"] == "换了水龙头"
    assert detail["contact_phone_masked"] == "138****1234"


def test_a_declined_task_returns_to_the_squad(client: TestClient) -> None:
    filed = file_request(client)
    leader, volunteer = sign_in(client, "leader1"), sign_in(client, "lijianguo")
    ticket_id = client.get("/api/v1/tickets", headers=leader).json()["tickets"][0]["id"]
    client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=leader, json={"volunteer_id": 1})
    reply = client.post(f"/api/v1/tickets/{ticket_id}/decline", headers=volunteer,
                        json={"note": "今天在外地"})
    assert reply.json()["status"] == "new" and reply.json()["assignee_id"] is None
    assert client.get(f"/api/v1/track/{filed['phone_token']}").json()["status"] == "new"


def test_resident_cannot_confirm_before_the_work_is_done(client: TestClient) -> None:
    filed = file_request(client)
    reply = client.post(f"/api/v1/track/{filed['phone_token']}/confirm", json={"rating": 4})
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "illegal_transition"


def test_resident_may_cancel_until_a_volunteer_accepts(client: TestClient) -> None:
    first, second = file_request(client), file_request(client)
    assert client.post(f"/api/v1/track/{first['phone_token']}/cancel").json()[
        "status"] == "cancelled"
    leader, volunteer = sign_in(client, "leader1"), sign_in(client, "lijianguo")
    ticket_id = next(t["id"] for t in client.get("/api/v1/tickets", headers=leader).json()[
        "tickets"] if t["number"] == second["number"])
    client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=leader, json={"volunteer_id": 1})
    client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=volunteer)
    assert client.post(f"/api/v1/track/{second['phone_token']}/cancel").status_code == 409


def test_requests_not_accepted_in_time_are_flagged_overdue(
        client: TestClient, clock: FakeClock, app) -> None:  # type: ignore[no-untyped-def]
    from server.services.tickets import flag_overdue

    filed = file_request(client)  # water_electric: 4 hours to acceptance
    staff = sign_in(client, "staff")
    assert client.get("/api/v1/tickets?overdue=true", headers=staff).json()["count"] == 0
    clock.advance(hours=4, minutes=1)
    late = client.get("/api/v1/tickets?overdue=true", headers=staff).json()["tickets"]
    assert [t["number"] for t in late] == [filed["number"]]
    assert client.get(f"/api/v1/track/{filed['phone_token']}").json()["overdue"] is True
    with app.state.sessions() as db:
        assert flag_overdue(db, now=clock()) == 1
        assert flag_overdue(db, now=clock()) == 0  # noted once, not on every sweep
    detail = client.get(f"/api/v1/tickets/{late[0]['id']}", headers=staff).json()
    assert detail["history"][-1]["action"] == "overdue"


def test_monthly_figures_by_category_and_squad(client: TestClient, clock: FakeClock) -> None:
    for _ in range(2):
        file_request(client, contact_phone="13800001111")
    file_request(client, contact_phone="13800002222", category="haircut",
                 answers={"when": "morning"}, unit_code="C08-B01-U1")
    leader, volunteer = sign_in(client, "leader1"), sign_in(client, "lijianguo")
    ticket_id = client.get("/api/v1/tickets?category=water_electric",
                           headers=leader).json()["tickets"][0]["id"]
    client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=leader, json={"volunteer_id": 1})
    clock.advance(hours=2)
    client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=volunteer)
    clock.advance(hours=1)
    client.post(f"/api/v1/tickets/{ticket_id}/resolve", headers=volunteer)

    figures = client.get("/api/v1/figures/monthly?year=2026",
                         headers=sign_in(client, "staff")).json()["figures"]
    by_key = {(f["month"], f["category"], f["squad"]): f for f in figures}
    water = by_key[("2026-11", "water_electric", "squad-1")]
    assert (water["requests"], water["residents"], water["completed"]) == (2, 1, 1)
    assert water["median_hours_to_accept"] == 2.0
    assert water["median_hours_to_resolve"] == 3.0
    assert by_key[("2026-11", "haircut", "squad-3")]["requests"] == 1
