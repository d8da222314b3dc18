"""The kiosk's HTTP client and catalog parsing, over httpx.MockTransport (no network)."""

from __future__ import annotations

import httpx
import pytest

from kiosk.api import ServerClient, parse_site_status
from kiosk.catalog import parse_categories, parse_places
from kiosk.errors import BadReply, ServerRefused, ServerUnavailable
from kiosk.tooling.demo import CATEGORIES, PLACES, SITE_STATUS


def client_for(handler) -> ServerClient:
    return ServerClient("http://server.test", kiosk_key="kiosk-key-123456", timeout=1,
                        transport=httpx.MockTransport(handler))


def test_reads_categories_and_places():
    def handler(request):
        data = CATEGORIES if request.url.path == "/api/v1/categories" else PLACES
        return httpx.Response(200, json=data)

    client = client_for(handler)
    categories = parse_categories(client.get_categories())
    compounds = parse_places(client.get_places())
    assert categories[0].name("zh_CN") == "水电维修"
    assert categories[0].questions[0].choices[0].label("en") == "Water leak"
    assert compounds[0].buildings[0].units[0].code == "C01-B01-U1"


def test_site_status_sends_the_kiosk_key():
    seen = {}

    def handler(request):
        seen["key"] = request.headers.get("X-Kiosk-Key")
        return httpx.Response(200, json=SITE_STATUS)

    status = client_for(handler).site_status()
    assert seen["key"] == "kiosk-key-123456"
    assert status.tanks[1].conditions == ("low_level",)
    assert not status.extinguisher_bays[1].ok and status.extinguisher_bays[0].ok
    assert status.alerts[0].urgent


def test_an_empty_site_status_means_no_sensor_data_yet():
    status = parse_site_status({"site": "site-01"})
    assert status.tanks == () and status.extinguisher_bays == ()


@pytest.mark.parametrize("failure", [
    httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut"),
])
def test_no_answer_is_server_unavailable(failure):
    def handler(request):
        raise failure

    with pytest.raises(ServerUnavailable):
        client_for(handler).get_categories()


def test_a_5xx_is_server_unavailable():
    with pytest.raises(ServerUnavailable):
        client_for(lambda r: httpx.Response(503, json={"error": {"code": "db"}})).get_places()


def test_a_4xx_is_refused_with_the_api_error_code():
    def handler(request):
        return httpx.Response(422, json={"error": {"code": "invalid", "message": "bad unit"}})

    with pytest.raises(ServerRefused) as caught:
        client_for(handler).file_request({"client_id": "abcdefgh"})
    assert caught.value.status == 422 and caught.value.code == "invalid"
    assert isinstance(caught.value, ValueError)


def test_a_non_json_answer_is_a_bad_reply():
    with pytest.raises(BadReply):
        client_for(lambda r: httpx.Response(200, text="<html>")).get_categories()


def test_filing_returns_the_number_and_status_url():
    def handler(request):
        return httpx.Response(201, json={"number": "K1-0001", "status": "new",
                                         "phone_token": "t" * 43,
                                         "status_url": "http://x/r/" + "t" * 43})

    filed = client_for(handler).file_request({"client_id": "abcdefgh"})
    assert filed.number == "K1-0001" and filed.status_url.endswith("t" * 43)


@pytest.mark.parametrize("payload", [
    None, [], {"categories": "no"}, {"categories": [{"kiosk": True, "code": "x"}]},
    {"categories": [{"kiosk": True, "code": "x", "name_zh": "甲",
                     "questions": [{"code": "q", "label_zh": "问", "choices": []}]}]},
])
def test_a_malformed_catalog_is_refused(payload):
    with pytest.raises(BadReply):
        parse_categories(payload)


def test_buildings_without_units_and_empty_compounds_are_dropped():
    compounds = parse_places({"compounds": [
        {"code": "C1", "name_zh": "甲", "buildings": [{"code": "B", "name": "1栋", "units": []}]},
        {"code": "C2", "name_zh": "乙", "buildings": [
            {"code": "C2-B1", "name": "1栋", "units": [{"code": "C2-B1-U1", "name": "1单元"}]}]},
    ]})
    assert [c.code for c in compounds] == ["C2"]
