"""The service categories' admin pages (issue 16): an admin edits what residents can ask for in
the browser; the kiosk's list follows at once and the file no longer overrides the change; a
retired category is no longer offered but its old requests still show it; every form answers a
mistake beside its field, refuses the second of two concurrent saves, and is in the audit log."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.app import create_app
from server.audit_log import AuditEntry
from server.models import Ticket
from tests.web.conftest import cookie_sign_in, csrf_of, file_request

VERSION = re.compile(r'name="version" value="([0-9a-f]*)"')


def _form(client: TestClient, code: str) -> dict[str, str]:
    """What the category's page shows, as a browser would post it back unchanged."""
    page = client.get(f"/admin/categories/{code}")
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'name="(\w+)" type="(?:text|tel)" value="([^"]*)"', page.text))
    found = VERSION.search(page.text)
    assert found
    questions = re.search(r'name="questions"[^>]*>([^<]*)</textarea>', page.text)
    assert questions
    fields.update(csrf_token=csrf_of(page.text), version=found.group(1),
                  questions=questions.group(1).replace("&gt;", ">"), priority="normal",
                  kiosk="1", public="1")
    return fields


def _kiosk_names(client: TestClient) -> dict[str, str]:
    return {c["code"]: c["name_zh"] for c in client.get("/api/v1/categories").json()["categories"]}


def test_an_edit_reaches_the_kiosk_at_once_and_survives_a_restart(client: TestClient,
                                                                 settings, clock) -> None:  # type: ignore[no-untyped-def]
    cookie_sign_in(client, "admin")
    form = _form(client, "haircut")
    reply = client.post("/admin/categories/haircut", data={
        **form, "name_zh": "上门理发（老人优先）", "target_hours": "36"}, follow_redirects=False)
    assert reply.status_code == 303, reply.text
    assert _kiosk_names(client)["haircut"] == "上门理发（老人优先）"
    # A restart reads config/categories.toml again: the file seeds, the admin's change stays.
    again = create_app(settings, clock=clock, background=False)
    with TestClient(again) as restarted:
        assert _kiosk_names(restarted)["haircut"] == "上门理发（老人优先）"
        assert "water_electric" in _kiosk_names(restarted)  # the file's others still load
    again.state.engine.dispose()
    with client.app.state.sessions() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "category.edit")).one()
        assert entry.subject_id == "haircut" and entry.actor_label
        assert entry.before["target_hours"] == 48 and entry.after["target_hours"] == 36


def test_a_mistake_is_answered_beside_its_field_in_english_keeping_what_was_typed(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    form = _form(client, "haircut")
    reply = client.post("/admin/categories/haircut?lang=en", data={
        **form, "name_zh": "", "target_hours": "two days",
        "questions": "? when | 什么时候？ | When?\nleak | 漏水 | Water leak"})
    assert reply.status_code == 422
    assert 'value="two days"' in reply.text  # kept as typed
    assert "Please enter a whole number" in reply.text
    assert "Please fill this in" in reply.text
    assert "Line 2:" in reply.text and "Line 1:" in reply.text  # no answers; a line without - or ?
    assert _kiosk_names(client)["haircut"] == "上门理发"  # nothing saved


def test_the_second_of_two_concurrent_saves_is_refused_showing_the_others_change(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    mine, theirs = _form(client, "appliance"), _form(client, "appliance")
    first = client.post("/admin/categories/appliance",
                        data={**theirs, "name_zh": "家电上门维修"}, follow_redirects=False)
    assert first.status_code == 303
    second = client.post("/admin/categories/appliance", data={**mine, "target_hours": "12"})
    assert second.status_code == 409
    assert "家电上门维修" in second.text  # the other's change, shown
    assert 'value="12"' in second.text  # mine, kept
    assert _kiosk_names(client)["appliance"] == "家电上门维修"


def test_a_retired_category_is_no_longer_offered_but_its_requests_still_show_it(
        client: TestClient) -> None:
    filed = file_request(client, category="pipe_unclog", answers={"where": "kitchen"})
    cookie_sign_in(client, "admin")
    form = _form(client, "pipe_unclog")
    reply = client.post("/admin/categories/pipe_unclog/retire",
                        data={"csrf_token": form["csrf_token"], "version": form["version"]},
                        follow_redirects=False)
    assert reply.status_code == 303
    assert "pipe_unclog" not in _kiosk_names(client)
    refused = client.post("/api/v1/requests", json={
        "client_id": "retired-1", "category": "pipe_unclog", "unit_code": "C01-B01-U1",
        "answers": {"where": "kitchen"}, "contact_phone": "13800001234", "channel": "kiosk"})
    assert refused.status_code in (404, 422)
    with client.app.state.sessions() as db:
        ticket_id = db.scalar(select(Ticket.id).where(Ticket.number == filed["number"]))
    ticket = client.get(f"/staff/tickets/{ticket_id}")
    assert ticket.status_code == 200 and "管道疏通" in ticket.text
    listing = client.get("/admin/categories")
    assert "已停用" in listing.text


def test_a_new_category_is_added_and_offered(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    page = client.get("/admin/categories/new")
    reply = client.post("/admin/categories/new", data={
        "csrf_token": csrf_of(page.text), "code": "tank_report", "name_zh": "水箱问题",
        "name_en": "Water tank problem", "skill": "water_electric", "target_hours": "4",
        "priority": "high", "kiosk": "1", "public": "1",
        "questions": "? what | 什么问题？ | What is wrong? | 必答\n- smell | 有异味 | Smells"},
        follow_redirects=False)
    assert reply.status_code == 303, reply.text
    offered = {c["code"]: c for c in client.get("/api/v1/categories").json()["categories"]}
    assert offered["tank_report"]["name_en"] == "Water tank problem"
    taken = client.post("/admin/categories/new", data={
        "csrf_token": csrf_of(page.text), "code": "tank_report", "name_zh": "x", "name_en": "x",
        "skill": "x", "target_hours": "4", "priority": "high"})
    assert taken.status_code == 422 and "这个代码已经有了" in taken.text


def test_only_an_admin_with_the_pages_token_changes_a_category(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    form = _form(client, "haircut")
    no_token = client.post("/admin/categories/haircut",
                           data={k: v for k, v in form.items() if k != "csrf_token"})
    assert no_token.status_code == 403
    cookie_sign_in(client, "staff")
    assert client.get("/admin/categories").status_code == 403
    assert client.post("/admin/categories/haircut", data=form).status_code == 403
    assert _kiosk_names(client)["haircut"] == "上门理发"
