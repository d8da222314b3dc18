"""The places' admin pages (issue 16): compounds, buildings, units with their other names and
positions, grids and their squads. Moving a building to another grid re-routes only the requests
filed after the move; every form answers mistakes beside the field, refuses the second of two
concurrent saves, and is in the audit log; only an admin with the page's token changes a place."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.audit_log import AuditEntry
from server.models import Squad, Ticket
from server.place_locations import PlaceLocation
from tests.web.conftest import cookie_sign_in, csrf_of, file_request

VERSION = re.compile(r'name="version" value="([0-9a-f]*)"')
SELECTED = re.compile(r'<select id="f-(\w+)" name="\w+"[^>]*>.*?<option value="([^"]*)" selected',
                      re.S)


def _form(client: TestClient, url: str) -> dict[str, str]:
    """The place's form as the page shows it, ready to post back."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'name="(\w+)" type="text" value="([^"]*)"', page.text))
    fields.update(dict(SELECTED.findall(page.text)))
    for name, text in re.findall(r'name="(\w+)" rows="\d+"[^>]*>([^<]*)</textarea>', page.text):
        fields[name] = text
    found = VERSION.search(page.text)
    fields.update(csrf_token=csrf_of(page.text), version=found.group(1) if found else "")
    return fields


def _squad_of(client: TestClient, number: object) -> str | None:
    with client.app.state.sessions() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        return db.get(Squad, ticket.squad_id).code if ticket.squad_id else None


def test_moving_a_building_to_another_grid_reroutes_only_new_requests(client: TestClient) -> None:
    before = file_request(client, unit_code="C01-B01-U1")
    assert _squad_of(client, before["number"]) == "squad-1"
    cookie_sign_in(client, "admin")
    form = _form(client, "/admin/places/building/C01-B01")
    assert form["grid"] == "grid-1"
    moved = client.post("/admin/places/building/C01-B01",
                        data={**form, "grid": "grid-3", "floors": "7"}, follow_redirects=False)
    assert moved.status_code == 303, moved.text
    after = file_request(client, unit_code="C01-B01-U1")
    assert _squad_of(client, after["number"]) == "squad-3"  # the next one: the new squad
    assert _squad_of(client, before["number"]) == "squad-1"  # the open one keeps its squad
    buildings = {b["code"]: b for c in client.get("/api/v1/places").json()["compounds"]
                 for b in c["buildings"]}
    assert buildings["C01-B01"]["floors"] == 7  # what the kiosk and the phone form read
    with client.app.state.sessions() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "building.edit")).one()
        assert (entry.before["grid"], entry.after["grid"]) == ("grid-1", "grid-3")


def test_a_new_compound_with_aliases_and_position_then_a_building_and_a_unit(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    page = client.get("/admin/places/compound/new")
    reply = client.post("/admin/places/compound/new", data={
        "csrf_token": csrf_of(page.text), "code": "C15", "name_zh": "粮站宿舍",
        "name_en": "Grain Station Flats", "aliases": "粮站、老粮站", "lat": "28.1990",
        "long": "113.0301", "radius_m": "90"}, follow_redirects=False)
    assert reply.status_code == 303, reply.text
    page = client.get("/admin/places/building/new?compound=C15")
    assert client.post("/admin/places/building/new", data={
        "csrf_token": csrf_of(page.text), "code": "C15-B01", "name": "1栋", "compound": "C15",
        "grid": "grid-2", "aliases": ""}, follow_redirects=False).status_code == 303
    page = client.get("/admin/places/unit/new?building=C15-B01")
    assert client.post("/admin/places/unit/new", data={
        "csrf_token": csrf_of(page.text), "code": "C15-B01-U1", "name": "1单元",
        "building": "C15-B01"}, follow_redirects=False).status_code == 303
    with client.app.state.sessions() as db:
        location = db.get(PlaceLocation, "C15")
        assert location is not None and location.aliases == ["粮站", "老粮站"]
        assert location.radius_m == 90
    # The kiosk's place list and filing both know it at once.
    places = client.get("/api/v1/places").json()["compounds"]
    assert any(c["code"] == "C15" for c in places)
    filed = file_request(client, unit_code="C15-B01-U1")
    assert _squad_of(client, filed["number"]) == "squad-2"
    overview = client.get("/admin/places")
    assert "粮站宿舍" in overview.text and "粮站、老粮站" in overview.text


def test_mistakes_are_answered_beside_each_field_keeping_what_was_typed(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    form = _form(client, "/admin/places/compound/C01")
    reply = client.post("/admin/places/compound/C01?lang=en", data={
        **form, "name_zh": "", "lat": "north", "long": ""})
    assert reply.status_code == 422
    assert 'value="north"' in reply.text
    assert "Latitude is between -90 and 90" in reply.text
    assert "Please fill this in" in reply.text
    building = _form(client, "/admin/places/building/C01-B02")
    floors = client.post("/admin/places/building/C01-B02?lang=en",
                         data={**building, "floors": "99"})
    assert floors.status_code == 422 and 'value="99"' in floors.text
    assert "from 1 to 60 floors" in floors.text
    page = client.get("/admin/places/unit/new")
    taken = client.post("/admin/places/unit/new", data={
        "csrf_token": csrf_of(page.text), "code": "C01-B01-U1", "name": "一单元",
        "building": "C99-B01"})
    assert taken.status_code == 422
    assert "这个代码已经有了" in taken.text and "没有找到这一项" in taken.text
    assert 'value="一单元"' in taken.text


def test_the_second_of_two_concurrent_saves_is_refused_showing_the_others_change(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    mine = _form(client, "/admin/places/grid/grid-2")
    theirs = _form(client, "/admin/places/grid/grid-2")
    assert client.post("/admin/places/grid/grid-2", data={**theirs, "squad": "squad-4"},
                       follow_redirects=False).status_code == 303
    second = client.post("/admin/places/grid/grid-2", data={**mine, "name": "第二网格（东）"})
    assert second.status_code == 409
    assert "squad-4" in re.search(r'id="squad-stale".*?</p>', second.text, re.S).group(0)
    assert 'value="第二网格（东）"' in second.text


def test_only_an_admin_with_the_pages_token_changes_a_place(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    form = _form(client, "/admin/places/grid/grid-1")
    without = {k: v for k, v in form.items() if k != "csrf_token"}
    assert client.post("/admin/places/grid/grid-1", data={**without, "squad": ""}
                       ).status_code == 403
    for who in ("staff", "leader1"):
        cookie_sign_in(client, who)
        assert client.get("/admin/places").status_code == 403
        assert client.post("/admin/places/grid/grid-1", data={**form, "squad": ""}
                           ).status_code == 403
    with client.app.state.sessions() as db:
        assert db.scalars(select(AuditEntry).where(AuditEntry.subject_kind == "grid")).all() == []
