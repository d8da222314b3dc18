"""Looking a request up by its number and phone ending (POST /api/v1/requests/lookup): what the
kiosk's 查进度 screen and a resident who lost the QR link rely on."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from server.services.lookup import normalise_number
from server.settings import ServerSettings
from tests.server.conftest import file_request, sign_in

LOOKUP = "/api/v1/requests/lookup"


def test_the_right_pair_leads_to_the_status_page(client: TestClient) -> None:
    filed = file_request(client, number="K1-0042")
    reply = client.post(LOOKUP, json={"number": "K1-0042", "phone_last4": "1234"})
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert found["number"] == "K1-0042"
    assert (found["status"], found["status_label_zh"], found["status_label_en"]) == (
        "new", "新建", "Received")
    assert (found["category_name_zh"], found["category_name_en"]) == ("水电维修",
                                                                      "Water & electrical repair")
    assert found["volunteer_given_name"] is None
    assert found["status_url"] == filed["status_url"]
    assert client.get(urlsplit(found["status_url"]).path).status_code == 200


def test_a_number_typed_loosely_is_still_found(client: TestClient) -> None:
    file_request(client, number="K1-0043")
    reply = client.post(LOOKUP, json={"number": " k1－0043 ", "phone_last4": "1234"})
    assert reply.status_code == 200 and reply.json()["number"] == "K1-0043"
    assert normalise_number("k1 - 0043") == "K1-0043"
    assert normalise_number("<script>") == ""


def test_the_volunteers_given_name_once_accepted(client: TestClient) -> None:
    filed = file_request(client, number="K1-0044")
    leader, volunteer = sign_in(client, "leader1"), sign_in(client, "lijianguo")
    ticket = next(t for t in client.get("/api/v1/tickets", headers=leader).json()["tickets"]
                  if t["number"] == filed["number"])
    proposal = client.get(f"/api/v1/tickets/{ticket['id']}/proposals",
                          headers=leader).json()["proposals"][0]
    client.post(f"/api/v1/tickets/{ticket['id']}/dispatch", headers=leader,
                json={"volunteer_id": proposal["volunteer_id"]})
    client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=volunteer)
    found = client.post(LOOKUP, json={"number": "K1-0044", "phone_last4": "1234"}).json()
    assert (found["status_label_zh"], found["status_label_en"]) == ("已接单", "Accepted")
    assert found["volunteer_given_name"] == "建国"  # given name only, never the full name


@pytest.mark.parametrize("body", [
    {"number": "K1-0045", "phone_last4": "9999"},   # wrong ending
    {"number": "K1-9999", "phone_last4": "1234"},   # no such number
    {"number": "K1-0045"},                          # ending left out, but the request has one
])
def test_a_wrong_pair_is_one_404_that_reveals_nothing(client: TestClient,
                                                       body: dict[str, str]) -> None:
    file_request(client, number="K1-0045")
    reply = client.post(LOOKUP, json=body)
    assert reply.status_code == 404
    assert reply.json() == {"error": {"code": "not_found",
                                      "message": "no request matches this number and phone "
                                                 "ending"}}


def test_a_request_without_a_phone_is_found_by_its_number_alone(client: TestClient) -> None:
    file_request(client, number="K1-0046", contact_phone=None)
    assert client.post(LOOKUP, json={"number": "K1-0046"}).status_code == 200
    assert client.post(LOOKUP, json={"number": "K1-0046",
                                     "phone_last4": "1234"}).status_code == 404


def test_bad_bodies_are_422_with_json(client: TestClient) -> None:
    for body in ({"number": "K1-0001", "phone_last4": "12a4"}, {"phone_last4": "1234"},
                 {"number": "K1-0001", "extra": 1}):
        reply = client.post(LOOKUP, json=body)
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "invalid"


def test_wrong_pairs_are_throttled_and_counted(client: TestClient) -> None:
    file_request(client, number="K1-0047")
    for ending in range(10):
        assert client.post(LOOKUP, json={"number": "K1-0047",
                                         "phone_last4": f"{ending:04d}"}).status_code == 404
    # Past ten misses even the right pair waits: the endings cannot be walked.
    refused = client.post(LOOKUP, json={"number": "K1-0047", "phone_last4": "1234"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_lookups"
    assert int(refused.headers["Retry-After"]) > 0
    metrics = client.get("/metrics").text
    assert 'servicepoint_lookups_refused_total{reason="misses"} 1' in metrics
    assert 'servicepoint_lookups_total{result="not_found"} 10' in metrics


def test_lookups_share_the_per_address_limit_of_token_lookups(client: TestClient) -> None:
    file_request(client, number="K1-0048")
    for _ in range(60):
        client.get("/api/v1/track/" + "x" * 32)
    refused = client.post(LOOKUP, json={"number": "K1-0048", "phone_last4": "1234"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert 'servicepoint_lookups_refused_total{reason="rate"} 1' in client.get("/metrics").text


def test_the_kiosk_shared_by_every_resident_has_a_larger_budget_for_typos(
        client: TestClient, settings: ServerSettings) -> None:
    file_request(client, number="K1-0049")
    kiosk = {"X-Kiosk-Key": settings.security.kiosk_key}
    for ending in range(12):  # more than one address may miss
        assert client.post(LOOKUP, headers=kiosk, json={
            "number": "K1-0049", "phone_last4": f"{ending:04d}"}).status_code == 404
    assert client.post(LOOKUP, headers=kiosk, json={
        "number": "K1-0049", "phone_last4": "1234"}).status_code == 200
    wrong = client.post(LOOKUP, headers={"X-Kiosk-Key": "not-the-key"},
                        json={"number": "K1-0049", "phone_last4": "1234"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"]
