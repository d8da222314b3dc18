"""Filing requests: idempotent, validated, and private to whoever holds the phone token."""

import threading
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import file_request


def test_a_retry_with_the_same_client_id_never_files_twice(client: TestClient) -> None:
    client_id = uuid.uuid4().hex
    first = client.post("/api/v1/requests", json={
        "client_id": client_id, "category": "pipe_unclog", "unit_code": "C02-B01-U2",
        "answers": {"where": "kitchen"}})
    again = client.post("/api/v1/requests", json={
        "client_id": client_id, "category": "pipe_unclog", "unit_code": "C02-B01-U2",
        "answers": {"where": "kitchen"}})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    # The retry proves nothing (no token in the body, no kiosk key): it is told the request
    # exists, not the phone token that would let it follow or cancel it.
    assert first.json()["phone_token"] and again.json()["phone_token"] is None


def test_someone_elses_client_id_with_another_body_is_a_409_that_reveals_nothing(
        client: TestClient) -> None:
    client_id = uuid.uuid4().hex
    mine = client.post("/api/v1/requests", json={
        "client_id": client_id, "category": "pipe_unclog", "unit_code": "C02-B01-U2",
        "answers": {"where": "kitchen"}, "contact_phone": "13800001234"})
    theirs = client.post("/api/v1/requests", json={
        "client_id": client_id, "category": "haircut", "unit_code": "C01-B01-U1",
        "answers": {"when": "any"}})
    assert (mine.status_code, theirs.status_code) == (201, 409)
    assert theirs.json()["error"]["code"] == "conflict"
    token, number = mine.json()["phone_token"], mine.json()["number"]
    assert token not in theirs.text and number not in theirs.text
    assert client.get(f"/api/v1/track/{token}").json()["status"] == "new"


def test_the_kiosk_retrying_with_the_same_body_gets_its_filing_back(
        client: TestClient, settings) -> None:  # type: ignore[no-untyped-def]
    body = {"client_id": uuid.uuid4().hex, "category": "haircut", "unit_code": "C01-B01-U1",
            "answers": {"when": "any"}, "number": "K1-0777", "phone_token": "q" * 43}
    key = {"X-Kiosk-Key": settings.security.kiosk_key}
    first = client.post("/api/v1/requests", json=body, headers=key)
    again = client.post("/api/v1/requests", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == "K1-0777" and again.json()["phone_token"] == "q" * 43
    # Anyone guessing the id without the kiosk's token learns nothing to follow it with.
    guess = client.post("/api/v1/requests", json={**body, "phone_token": None})
    assert guess.status_code == 200 and guess.json()["phone_token"] is None


def test_kiosk_chosen_number_and_token_are_kept(client: TestClient) -> None:
    token = "k" * 43
    filed = file_request(client, number="K1-0042", phone_token=token)
    assert filed["number"] == "K1-0042"
    assert client.get(f"/api/v1/track/{token}").json()["number"] == "K1-0042"
    # A reinstalled kiosk reusing a number is not refused: the server numbers it instead.
    clash = client.post("/api/v1/requests", json={
        "client_id": uuid.uuid4().hex, "category": "haircut", "unit_code": "C01-B01-U1",
        "answers": {"when": "any"}, "number": "K1-0042"})
    assert clash.status_code == 201 and clash.json()["number"] != "K1-0042"


@pytest.mark.parametrize(("change", "message"), [
    ({"category": "space_travel"}, "category"),
    ({"unit_code": "C99-B01-U1"}, "place"),
    ({"answers": {"problem": "volcano"}}, "answers.problem"),
    ({"answers": {}}, "answers.problem"),
    ({"answers": {"problem": "leak", "colour": "red"}}, "answers.colour"),
    ({"contact_phone": "12345"}, "contact_phone"),
    ({"phone_token": "short"}, "phone_token"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_requests_get_a_clear_4xx(client: TestClient, change: dict[str, object],
                                      message: str) -> None:
    body = {"client_id": uuid.uuid4().hex, "category": "water_electric",
            "unit_code": "C01-B01-U1", "answers": {"problem": "leak"}, **change}
    reply = client.post("/api/v1/requests", json=body)
    assert reply.status_code == 422
    assert message in reply.json()["error"]["message"]


def test_a_bug_in_a_route_is_logged_and_answered_with_json_not_a_text_page(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from server.api.routes import public

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(public, "request_by_token", broken)
    with caplog.at_level("ERROR", logger="server.app"):
        reply = client.get(f"/api/v1/track/{'k' * 43}")
    assert reply.status_code == 500
    assert reply.json() == {"error": {"code": "internal", "message": "internal error"}}
    assert "unhandled error on GET /api/v1/track/" in caplog.text
    assert client.get("/healthz").status_code == 200  # and the server goes on


def test_malformed_and_oversized_bodies_are_4xx(client: TestClient) -> None:
    assert client.post("/api/v1/requests", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 422
    big = b'{"description": "' + b"x" * 100_000 + b'"}'
    reply = client.post("/api/v1/requests", content=big,
                        headers={"content-type": "application/json"})
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "too_large"


def test_a_building_code_is_enough_for_a_place(client: TestClient) -> None:
    filed = file_request(client, unit_code="C03-B02")
    assert filed["place"] == "建材院宿舍 2栋"


def test_the_phone_link_reveals_only_its_own_request(client: TestClient) -> None:
    mine = file_request(client, contact_name="李奶奶", contact_phone="13900009999")
    file_request(client, contact_name="张爷爷")
    seen = client.get(f"/api/v1/track/{mine['phone_token']}").json()
    assert "13900009999" not in str(seen) and "李奶奶" not in str(seen)
    assert "phone_token" not in seen or seen["phone_token"] is None
    assert client.get("/api/v1/track/" + "A" * 32).status_code == 404
    assert len(mine["phone_token"]) >= 32  # 192 random bits


def test_the_phone_page_shows_the_status_in_chinese(client: TestClient) -> None:
    filed = file_request(client)
    page = client.get(f"/r/{filed['phone_token']}")
    assert page.status_code == 200
    assert filed["number"] in page.text and "新建" in page.text and "水电维修" in page.text
    assert "Received" in client.get(f"/r/{filed['phone_token']}?lang=en").text


def test_token_lookups_are_rate_limited(client: TestClient) -> None:
    codes = [client.get("/api/v1/track/" + "B" * 32).status_code for _ in range(61)]
    assert codes[:60] == [404] * 60 and codes[60] == 429


def test_two_deliveries_racing_file_once(app, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """The kiosk's outbox and a retry can deliver the same request at the same moment."""
    import uvicorn

    from tests.support.ports import free_port, wait_for_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    body = {"client_id": uuid.uuid4().hex, "category": "water_electric",
            "unit_code": "C01-B01-U1", "answers": {"problem": "leak"}}
    results: list[httpx.Response] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        results.append(httpx.post(f"http://127.0.0.1:{port}/api/v1/requests", json=body,
                                  timeout=30))

    workers = [threading.Thread(target=deliver) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    server.should_exit = True
    thread.join(timeout=10)
    assert sorted(r.status_code for r in results).count(201) == 1
    assert {r.json()["number"] for r in results} == {results[0].json()["number"]}
