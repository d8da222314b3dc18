"""Open311 GeoReport v2 as a city platform uses it: list the public services, file with a key
from any kind of location and body, read requests back in JSON or XML with the spec's filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Ticket
from server.open311.models import Open311Filing
from server.open311.service import issue_key
from tests.server.conftest import FakeClock, file_request, sign_in

POST = "/open311/v2/requests.json"


@pytest.fixture
def sessions(app: Any) -> Any:
    return app.state.sessions


@pytest.fixture
def key(client: TestClient, sessions: Any, clock: FakeClock) -> Iterator[str]:
    with sessions() as db:
        yield issue_key(db, name="city-platform", now=clock())


def post(client: TestClient, key: str, **fields: Any) -> Any:
    reply = client.post(POST, data={"api_key": key, **fields})
    assert reply.status_code == 201, reply.text
    return reply.json()[0]


def read(client: TestClient, number: str, **headers: str) -> dict[str, Any]:
    reply = client.get(f"/open311/v2/requests/{number}.json", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()[0]  # type: ignore[no-any-return]


# --- services ---------------------------------------------------------------------------------

def test_only_what_the_public_may_file_is_listed(client: TestClient) -> None:
    services = client.get("/open311/v2/services.json").json()
    codes = [s["service_code"] for s in services]
    assert "water_electric" in codes and "haircut" in codes
    for internal in ("tank_cleaning", "fire_safety", "water_supply", "sensor_node"):
        assert internal not in codes
    assert client.get("/open311/v2/services/sensor_node.json").status_code == 404


def test_services_speak_the_clients_language_with_real_groups_and_keywords(
        client: TestClient) -> None:
    chinese = {s["service_code"]: s for s in client.get("/open311/v2/services.json").json()}
    assert chinese["water_electric"]["service_name"] == "水电维修"
    assert "漏水" in chinese["water_electric"]["keywords"]
    assert chinese["water_electric"]["keywords"] != "water_electric"
    assert chinese["water_electric"]["group"] == "维修"
    assert len({s["group"] for s in chinese.values()}) >= 3
    english = {s["service_code"]: s for s in client.get(
        "/open311/v2/services.json", headers={"Accept-Language": "en-US,en;q=0.9"}).json()}
    assert english["water_electric"]["service_name"] == "Water & electrical repair"
    assert english["water_electric"]["group"] == "Repairs"
    assert "Water leak" in english["water_electric"]["keywords"]
    # A Chinese-first browser still gets Chinese.
    mixed = client.get("/open311/v2/services.json",
                       headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).json()
    assert mixed[0]["service_name"] == chinese[mixed[0]["service_code"]]["service_name"]


def test_service_definition_lists_the_questions(client: TestClient) -> None:
    definition = client.get("/open311/v2/services/water_electric.json").json()
    problem = definition["attributes"][0]
    assert problem["code"] == "problem" and problem["datatype"] == "singlevaluelist"
    assert {"key": "leak", "name": "漏水"} in problem["values"]


def test_every_endpoint_answers_in_xml(client: TestClient, key: str) -> None:
    services = ElementTree.fromstring(client.get("/open311/v2/services.xml").content)
    assert services.tag == "services"
    codes = [s.findtext("service_code") for s in services.findall("service")]
    assert "water_electric" in codes and "sensor_node" not in codes
    assert services.find("service/metadata").text in ("true", "false")
    definition = ElementTree.fromstring(
        client.get("/open311/v2/services/water_electric.xml").content)
    values = definition.findall("attributes/attribute/values/value")
    assert ("leak", "漏水") in [(v.findtext("key"), v.findtext("name")) for v in values]
    filed = client.post("/open311/v2/requests.xml", data={
        "api_key": key, "service_code": "haircut", "address_id": "C01-B01",
        "attribute[when]": "any"})
    assert filed.status_code == 201 and filed.headers["content-type"].startswith("text/xml")
    number = ElementTree.fromstring(filed.content).findtext("request/service_request_id")
    listed = ElementTree.fromstring(client.get("/open311/v2/requests.xml").content)
    assert number in [r.findtext("service_request_id") for r in listed.findall("request")]
    one = ElementTree.fromstring(client.get(f"/open311/v2/requests/{number}.xml").content)
    assert one.findtext("request/status") == "open"
    assert one.findtext("request/address_id") == "C01-B01"


def test_errors_come_in_the_format_asked_for(client: TestClient) -> None:
    missing = client.get("/open311/v2/services/nothing.xml")
    assert missing.status_code == 404
    error = ElementTree.fromstring(missing.content)
    assert error.tag == "errors" and error.findtext("error/code") == "404"
    bad = client.get("/open311/v2/requests.xml?start_date=yesterday")
    assert bad.status_code == 400
    assert "start_date" in ElementTree.fromstring(bad.content).findtext("error/description")
    as_json = client.get("/open311/v2/services/nothing.json")
    assert as_json.json() == [{"code": 404, "description": "service_code nothing not found"}]


# --- filing -----------------------------------------------------------------------------------

def test_filing_needs_a_key_staff_issued(client: TestClient, key: str) -> None:
    form = {"service_code": "haircut", "address_id": "C01-B01", "attribute[when]": "any"}
    none = client.post(POST, data=form)
    assert none.status_code == 403 and "api_key" in none.json()[0]["description"]
    wrong = client.post("/open311/v2/requests.xml", data={**form, "api_key": "guessed"})
    assert wrong.status_code == 403
    assert ElementTree.fromstring(wrong.content).findtext("error/code") == "403"
    assert client.post(POST, data={**form, "api_key": key}).status_code == 201


def test_a_new_key_replaces_the_old_one(client: TestClient, sessions: Any, key: str,
                                        clock: FakeClock) -> None:
    with sessions() as db:
        new_key = issue_key(db, name="city-platform", now=clock())
    form = {"service_code": "haircut", "address_id": "C01-B01", "attribute[when]": "any"}
    assert client.post(POST, data={**form, "api_key": key}).status_code == 403
    assert client.post(POST, data={**form, "api_key": new_key}).status_code == 201


def test_staff_only_categories_cannot_be_filed(client: TestClient, key: str) -> None:
    reply = client.post(POST, data={"api_key": key, "service_code": "sensor_node",
                                    "address_id": "C01-B01"})
    assert reply.status_code == 400 and "sensor_node" in reply.json()[0]["description"]


def test_an_address_string_is_placed_on_the_unit_it_names(client: TestClient, key: str) -> None:
    filed = post(client, key, service_code="water_electric", address_string="劳动新村 1号楼 1单元",
                 **{"attribute[problem]": "leak"})
    seen = read(client, filed["service_request_id"])
    assert seen["address_id"] == "C01-B01-U1"
    assert seen["address"] == "劳动新村 1栋 1单元"
    assert seen["agency_responsible"].startswith("帮帮快递先锋队第一")


@pytest.mark.parametrize(("written", "place"), [
    ("劳动新村1幢2单元", "C01-B01-U2"), ("劳动新村 一栋", "C01-B01"), ("劳动村3号楼", "C01-B03"),
    ("Laodong New Village building 2 unit 1", "C01-B02-U1"), ("邮电大楼", "C12-B01"),
    ("五一新村", "C05")])
def test_the_usual_ways_of_writing_a_place(client: TestClient, key: str, written: str,
                                          place: str) -> None:
    filed = post(client, key, service_code="policy", address_string=written,
                 **{"attribute[topic]": "other"})
    assert read(client, filed["service_request_id"])["address_id"] == place


def test_a_position_is_placed_on_the_nearest_compound(client: TestClient, key: str) -> None:
    # 五一新村 (C05) has its centre at 28.19715, 113.02700 in the demo site file.
    filed = post(client, key, service_code="pipe_unclog", lat="28.1972", long="113.0271",
                 **{"attribute[where]": "toilet"})
    seen = read(client, filed["service_request_id"])
    assert seen["address_id"] == "C05" and seen["address"] == "五一新村"
    assert seen["agency_responsible"].startswith("帮帮快递先锋队第二")
    assert (seen["lat"], seen["long"]) == (28.1972, 113.0271)


def test_what_cannot_be_placed_goes_to_triage_and_is_never_refused(
        client: TestClient, key: str, sessions: Any) -> None:
    far = post(client, key, service_code="appliance", address_string="火星大道 99号",
               **{"attribute[appliance]": "tv"})
    elsewhere = post(client, key, service_code="appliance", lat="39.9", long="116.4",
                     **{"attribute[appliance]": "tv"})
    for filed in (far, elsewhere):
        seen = read(client, filed["service_request_id"])
        assert seen["status"] == "open" and seen["address_id"] is None
        assert seen["agency_responsible"] == ""
    assert read(client, far["service_request_id"])["address"] == "火星大道 99号"
    with sessions() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.number == far["service_request_id"]))
        assert ticket.squad_id is None and ticket.building_id is None
        filing = db.get(Open311Filing, ticket.id)
        assert "火星大道" in filing.placed_how and filing.client.name == "city-platform"
    staff = sign_in(client, "staff")
    queue = client.get("/api/v1/tickets", headers=staff).json()["tickets"]
    assert far["service_request_id"] in [t["number"] for t in queue]


def test_staff_place_what_came_without_a_place(client: TestClient, key: str) -> None:
    lost = post(client, key, service_code="haircut", address_string="人民路菜场后面那栋",
                **{"attribute[when]": "any"})["service_request_id"]
    staff = sign_in(client, "staff")
    waiting = client.get("/api/v1/triage", headers=staff).json()["tickets"]
    assert [t["number"] for t in waiting] == [lost]
    ticket_id = waiting[0]["id"]
    history = client.get(f"/api/v1/tickets/{ticket_id}", headers=staff).json()["history"]
    assert any("人民路菜场后面那栋" in event["note"] for event in history)
    volunteer = sign_in(client, "lijianguo")
    refused = client.post(f"/api/v1/tickets/{ticket_id}/place", headers=volunteer,
                          json={"place_code": "C05-B01"})
    assert refused.status_code == 403
    placed = client.post(f"/api/v1/tickets/{ticket_id}/place", headers=staff,
                         json={"place_code": "C05-B01"})
    assert placed.status_code == 200 and placed.json()["squad"] == "squad-2"
    assert client.get("/api/v1/triage", headers=staff).json()["tickets"] == []
    seen = read(client, lost)
    assert seen["address_id"] == "C05-B01" and seen["address"] == "五一新村 1栋"
    nowhere = client.post(f"/api/v1/tickets/{ticket_id}/place", headers=staff,
                          json={"place_code": "C99"})
    assert nowhere.status_code == 422


def test_no_location_at_all_is_a_clear_error(client: TestClient, key: str) -> None:
    reply = client.post(POST, data={"api_key": key, "service_code": "haircut",
                                    "attribute[when]": "any"})
    assert reply.status_code == 400
    assert "address_string" in reply.json()[0]["description"]


def test_chinese_text_arrives_intact_as_json_and_as_a_raw_utf8_form(
        client: TestClient, key: str) -> None:
    as_json = client.post(POST, json={
        "api_key": key, "service_code": "water_electric", "address_id": "C01-B01-U1",
        "attribute": {"problem": "leak"}, "description": "厨房水管漏水", "first_name": "阿姨"})
    assert as_json.status_code == 201, as_json.text
    raw = "api_key=" + key + "&service_code=water_electric&address_id=C01-B01-U1" \
          "&attribute[problem]=leak&description=厨房水管漏水 滴个不停"
    as_form = client.post(POST, content=raw.encode("utf-8"),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert as_form.status_code == 201, as_form.text
    percent = client.post(POST, data={"api_key": key, "service_code": "water_electric",
                                      "address_id": "C01-B01-U1", "attribute[problem]": "leak",
                                      "description": "卫生间漏水"})
    assert read(client, as_json.json()[0]["service_request_id"])["description"] == "厨房水管漏水"
    assert read(client, as_form.json()[0]["service_request_id"])["description"] == \
        "厨房水管漏水 滴个不停"
    assert read(client, percent.json()[0]["service_request_id"])["description"] == "卫生间漏水"


def test_what_the_client_sent_is_kept(client: TestClient, key: str, sessions: Any) -> None:
    filed = post(client, key, service_code="haircut", address_id="C01-B01",
                 email="wang@example.cn", device_id="app-7f3a", phone="+86 138 0000 5678",
                 media_url="https://img.example.cn/p/1.jpg", **{"attribute[when]": "any"})
    seen = read(client, filed["service_request_id"])
    assert seen["media_url"] == "https://img.example.cn/p/1.jpg"
    assert "13800005678" not in str(seen) and "wang@example.cn" not in str(seen)
    with sessions() as db:
        number = filed["service_request_id"]
        ticket = db.scalar(select(Ticket).where(Ticket.number == number))
        filing = db.get(Open311Filing, ticket.id)
        assert (filing.email, filing.device_id) == ("wang@example.cn", "app-7f3a")
        assert ticket.request.contact_phone == "13800005678"
        assert ticket.request.channel == "open311"


def test_an_idempotency_key_files_once_per_client(client: TestClient, key: str) -> None:
    form = {"api_key": key, "service_code": "haircut", "address_id": "C01-B01",
            "attribute[when]": "any"}
    headers = {"Idempotency-Key": "city-platform-req-77"}
    first = client.post(POST, data=form, headers=headers).json()
    again = client.post(POST, data=form, headers=headers).json()
    assert first[0]["service_request_id"] == again[0]["service_request_id"]


# --- reading ----------------------------------------------------------------------------------

def test_status_notes_carry_the_staffs_public_note(client: TestClient, key: str) -> None:
    filed = post(client, key, service_code="haircut", address_id="C01-B01",
                 **{"attribute[when]": "any"})
    number = filed["service_request_id"]
    assert read(client, number)["status_notes"] is None
    staff = sign_in(client, "staff")
    ticket_id = next(t["id"] for t in client.get("/api/v1/tickets", headers=staff).json()[
        "tickets"] if t["number"] == number)
    client.post(f"/api/v1/tickets/{ticket_id}/cancel", headers=staff,
                json={"note": "理发师本周休假，请下周再约，电话13912345678"})
    seen = read(client, number)
    assert seen["status"] == "closed"
    assert seen["status_notes"].startswith("理发师本周休假")
    assert "13912345678" not in seen["status_notes"]
    english = read(client, number, **{"Accept-Language": "en"})
    assert english["service_name"] == "Haircut at home"


def test_filters_as_the_spec_says(client: TestClient, clock: FakeClock) -> None:
    old = file_request(client, category="haircut", answers={"when": "any"})
    clock.advance(days=100)
    first = file_request(client)
    file_request(client, category="haircut", answers={"when": "any"})
    client.post(f"/api/v1/track/{first['phone_token']}/cancel")
    listed = [r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()]
    assert len(listed) == 2 and old["number"] not in listed  # the last 90 days by default
    haircuts = client.get("/open311/v2/requests.json?service_code=haircut").json()
    assert [r["service_code"] for r in haircuts] == ["haircut"]
    closed = client.get("/open311/v2/requests.json?status=closed").json()
    assert [r["service_request_id"] for r in closed] == [first["number"]]
    # service_request_id overrides every other filter.
    both = client.get(f"/open311/v2/requests.json?service_request_id={old['number']},"
                      f"{first['number']}&status=open&service_code=policy").json()
    assert {r["service_request_id"] for r in both} == {old["number"], first["number"]}
    back_then = client.get("/open311/v2/requests.json?start_date=2026-11-20T00:00:00Z"
                           "&end_date=2026-11-30T00:00:00%2B08:00").json()
    assert [r["service_request_id"] for r in back_then] == [old["number"]]
    too_long = client.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z"
                          "&end_date=2026-12-31T00:00:00Z")
    assert too_long.status_code == 400


def test_jurisdiction_id_is_checked(client: TestClient, key: str) -> None:
    assert client.get("/open311/v2/services.json?jurisdiction_id=site-01").status_code == 200
    other = client.get("/open311/v2/requests.json?jurisdiction_id=other-city")
    assert other.status_code == 404 and "jurisdiction_id" in other.json()[0]["description"]
    filed = client.post(POST, data={"api_key": key, "jurisdiction_id": "other-city",
                                    "service_code": "haircut", "address_id": "C01-B01",
                                    "attribute[when]": "any"})
    assert filed.status_code == 404

