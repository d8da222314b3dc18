"""The real thing, end to end: staff issue a key with `servicepoint open311 key`, and the PyPI
Open311 client (`georeport`) reads the real server in XML and JSON while a platform files with
that key over plain HTTP (the client has no filing call)."""

from __future__ import annotations

import httpx
from georeport import GeoReport

from tests.support.server import ServerProcess


def test_a_city_platform_with_a_key_from_the_command_line(live_server: ServerProcess) -> None:
    key = live_server.command("open311", "key", "bar").stdout.strip().splitlines()[-1]
    root = live_server.url + "/open311/v2"

    def file(**fields: str) -> httpx.Response:
        return httpx.post(root + "/requests.json", data=fields, timeout=10)

    assert file(api_key="not-the-key", service_code="haircut",
                address_string="劳动新村").status_code == 403
    placed = file(api_key=key, service_code="water_electric", **{"attribute[problem]": "leak"},
                  address_string="劳动新村 1号楼 1单元", description="厨房水管漏水")
    assert placed.status_code == 201, placed.text
    lost = file(api_key=key, service_code="policy", **{"attribute[topic]": "other"},
                address_string="火星大道 99号")
    assert lost.status_code == 201, lost.text
    number = placed.json()[0]["service_request_id"]

    for output_format in ("xml", "json"):
        client = GeoReport(root, jurisdiction="site-01", output_format=output_format)
        codes = [s["service_code"] for s in client.get_service_list()]
        assert "water_electric" in codes and "sensor_node" not in codes
        definition = client.get_service_definition("water_electric")
        assert "attributes" in definition
        one = client.get_service_request(number)
        assert one["address_id"] == "C01-B01-U1" and one["description"] == "厨房水管漏水"
        listed = client.get_service_requests(status="open")
        numbers = [r["service_request_id"] for r in (
            listed if isinstance(listed, list) else [listed])]
        assert number in numbers and lost.json()[0]["service_request_id"] in numbers

    # Another key for the same client replaces the first.
    live_server.command("open311", "key", "bar")
    assert file(api_key=key, service_code="haircut", **{"attribute[when]": "any"},
                address_string="劳动新村").status_code == 403
