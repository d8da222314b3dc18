"""Issue 14 items 5, 6 and 15: dates from outside are range-checked where they arrive (a 4xx
naming the field, never a 500), impossible register rows are refused when saved and flagged when
read, and the filing channel comes from who is calling."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from server.sensing.models import ExtinguisherBay
from tests.server.conftest import PASSWORDS, sign_in

EXTREMES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-02T00:00:00Z"]
KIOSK = {"X-Kiosk-Key": "development-kiosk-key"}


@pytest.mark.parametrize("field", ["start_date", "end_date"])
@pytest.mark.parametrize("value", EXTREMES)
def test_open311_extreme_dates_are_refused_naming_the_field(client: TestClient, field: str,
                                                            value: str) -> None:
    reply = client.get("/open311/v2/requests.json", params={field: value})
    assert reply.status_code == 400, reply.text
    assert field in reply.json()[0]["description"]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_a_tank_cleaning_at_the_ends_of_time_is_refused(client: TestClient, value: str) -> None:
    staff = sign_in(client, "staff")
    reply = client.post("/api/v1/tanks/tank-1/cleanings", headers=staff,
                        json={"cleaned_on": value, "water_test_passed": True})
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["message"].startswith("cleaned_on")


@pytest.mark.parametrize("field", ["manufactured_on", "last_inspected_on", "last_maintained_on"])
def test_an_extinguisher_date_at_the_ends_of_time_is_refused(client: TestClient,
                                                             field: str) -> None:
    staff = sign_in(client, "staff")
    body = {"name": "1栋 灭火器", "extinguisher_type": "dry_powder",
            "manufactured_on": "2022-05-01", field: "0001-01-01"}
    reply = client.put("/api/v1/assets/extinguishers/ext-9", headers=staff, json=body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["message"].startswith(field)


def test_a_library_return_dated_near_year_one_is_refused(client: TestClient) -> None:
    reply = client.post("/api/v1/library/returns", headers=KIOSK, json={
        "client_id": "k1-r-0001", "copy_id": "LB-0001",
        "returned_at": "0001-01-01T00:00:00+05:00"})
    assert reply.status_code == 422, reply.text
    assert "returned_at" in reply.json()["error"]["message"]


def test_an_inspection_before_manufacture_is_refused_when_saved(client: TestClient) -> None:
    staff = sign_in(client, "staff")
    reply = client.put("/api/v1/assets/extinguishers/ext-9", headers=staff, json={
        "name": "1栋 灭火器", "extinguisher_type": "dry_powder",
        "manufactured_on": "2024-05-01", "last_inspected_on": "2020-01-01"})
    assert reply.status_code == 422, reply.text
    assert "last_inspected_on" in reply.json()["error"]["message"]


def test_an_impossible_register_row_is_flagged_not_a_500(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    staff = sign_in(client, "staff")
    saved = client.put("/api/v1/assets/extinguishers/ext-9", headers=staff, json={
        "name": "九号 灭火器", "extinguisher_type": "dry_powder",
        "manufactured_on": "2024-05-01", "last_inspected_on": "2026-11-01"})
    assert saved.status_code == 200, saved.text
    with app.state.sessions() as db:  # a row from before the check, or typed into the database
        db.execute(update(ExtinguisherBay).where(ExtinguisherBay.asset_id == "ext-9")
                   .values(manufactured_on=date(2026, 11, 20),
                           last_inspected_on=date(2020, 1, 1)))
        db.commit()
    assets = client.get("/api/v1/assets", headers=staff)
    assert assets.status_code == 200, assets.text
    row = next(e for e in assets.json()["extinguishers"] if e["asset_id"] == "ext-9")
    assert row["flag"]
    client.cookies.set("sp_session", _session(client, "staff"))
    page = client.get("/staff/site")
    assert page.status_code == 200, page.text[:300]
    row = next(r for r in page.text.split("<tr>") if "九号 灭火器" in r)
    assert "记录有误" in row and "is before manufacture" in row


FILING = {"category": "water_electric", "unit_code": "C01-B01-U1",
          "answers": {"problem": "leak"}}


@pytest.mark.parametrize("headers", [{}, KIOSK], ids=["anonymous", "kiosk"])
def test_an_anonymous_caller_cannot_file_as_staff(client: TestClient,
                                                  headers: dict[str, str]) -> None:
    reply = client.post("/api/v1/requests", headers=headers,
                        json={**FILING, "client_id": "staff-channel-0001", "channel": "staff"})
    assert reply.status_code == 403, reply.text
    assert reply.json()["error"]["message"].startswith("channel")


def test_the_channel_is_the_callers(client: TestClient) -> None:
    staff = sign_in(client, "staff")
    by_staff = client.post("/api/v1/requests", headers=staff,
                           json={**FILING, "client_id": "staff-channel-0002", "channel": "kiosk"})
    by_kiosk = client.post("/api/v1/requests", headers=KIOSK,
                           json={**FILING, "client_id": "staff-channel-0003", "channel": "web"})
    assert by_staff.status_code == by_kiosk.status_code == 201
    tickets = client.get("/api/v1/tickets", headers=staff, params={"limit": 500}).json()
    ids = {t["number"]: t["id"] for t in tickets["tickets"]}
    staff_filed = client.get(f"/api/v1/tickets/{ids[by_staff.json()['number']]}",
                             headers=staff).json()
    kiosk_filed = client.get(f"/api/v1/tickets/{ids[by_kiosk.json()['number']]}",
                             headers=staff).json()
    assert staff_filed["history"][0]["note"] == "via staff"
    assert kiosk_filed["history"][0]["note"] == "via kiosk"



def _session(client: TestClient, username: str) -> str:
    reply = client.post("/api/v1/auth/login",
                        json={"username": username, "password": PASSWORDS[username]})
    return str(reply.json()["access_token"])
