"""Open311 GeoReport v2: a city platform can list services, file and read requests."""

from fastapi.testclient import TestClient

from tests.server.conftest import file_request


def test_services_and_their_attributes(client: TestClient) -> None:
    services = client.get("/open311/v2/services.json").json()
    codes = [s["service_code"] for s in services]
    assert "water_electric" in codes and "tank_cleaning" in codes
    water = next(s for s in services if s["service_code"] == "water_electric")
    assert water["metadata"] is True and water["type"] == "realtime"
    definition = client.get("/open311/v2/services/water_electric.json").json()
    problem = definition["attributes"][0]
    assert problem["code"] == "problem" and problem["datatype"] == "singlevaluelist"
    assert {"key": "leak", "name": "漏水"} in problem["values"]


def test_unknown_service_is_an_open311_error(client: TestClient) -> None:
    reply = client.get("/open311/v2/services/nothing.json")
    assert reply.status_code == 404
    assert reply.json() == [{"code": 404, "description": "service_code nothing not found"}]


def test_post_a_request_form_encoded_then_read_it_back(client: TestClient) -> None:
    reply = client.post("/open311/v2/requests.json", data={
        "service_code": "pipe_unclog", "address_id": "C05-B02-U1",
        "attribute[where]": "toilet", "description": "马桶堵了", "first_name": "阿姨",
        "phone": "13700001234"})
    assert reply.status_code == 201, reply.text
    created = reply.json()[0]
    number = created["service_request_id"]
    assert "/r/" in created["service_notice"]
    one = client.get(f"/open311/v2/requests/{number}.json").json()[0]
    assert one["status"] == "open" and one["service_code"] == "pipe_unclog"
    assert one["address_id"] == "C05-B02-U1" and one["description"] == "马桶堵了"
    assert "13700001234" not in str(one)


def test_post_with_an_idempotency_key_files_once(client: TestClient) -> None:
    form = {"service_code": "haircut", "address_id": "C01-B01", "attribute[when]": "any"}
    headers = {"Idempotency-Key": "city-platform-req-77"}
    first = client.post("/open311/v2/requests.json", data=form, headers=headers).json()
    again = client.post("/open311/v2/requests.json", data=form, headers=headers).json()
    assert first[0]["service_request_id"] == again[0]["service_request_id"]


def test_post_errors_use_open311_shape(client: TestClient) -> None:
    no_place = client.post("/open311/v2/requests.json", data={"service_code": "haircut",
                                                             "lat": "28.2", "long": "112.9"})
    assert no_place.status_code == 400
    assert "address_id" in no_place.json()[0]["description"]
    missing = client.post("/open311/v2/requests.json", data={})
    assert missing.status_code == 400 and "service_code" in missing.json()[0]["description"]
    bad_answer = client.post("/open311/v2/requests.json", data={
        "service_code": "haircut", "address_id": "C01-B01", "attribute[when]": "midnight"})
    assert bad_answer.status_code == 400


def test_list_with_filters(client: TestClient) -> None:
    first = file_request(client)
    file_request(client, category="haircut", answers={"when": "any"})
    client.post(f"/api/v1/track/{first['phone_token']}/cancel")
    everything = client.get("/open311/v2/requests.json").json()
    assert len(everything) == 2
    haircuts = client.get("/open311/v2/requests.json?service_code=haircut").json()
    assert [r["service_code"] for r in haircuts] == ["haircut"]
    assert [r["service_request_id"] for r in client.get(
        "/open311/v2/requests.json?status=closed").json()] == [first["number"]]
    window = client.get("/open311/v2/requests.json?start_date=2026-11-01T00:00:00%2B08:00"
                        "&end_date=2026-11-30T00:00:00%2B08:00").json()
    assert len(window) == 2
    bad = client.get("/open311/v2/requests.json?start_date=yesterday")
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400
