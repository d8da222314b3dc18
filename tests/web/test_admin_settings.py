"""The site's own settings and its Open311 clients in the browser (issue 16): the phone number,
opening hours and quiet hours a worker sets are what the pages, the kiosk and the alerts use
(the file's values stay the defaults); an Open311 client's key is shown once and a revoked key
stops working; every form answers mistakes beside the field, refuses a stale save, is in the
audit log, and is for an admin with the page's token only."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.alerts import RecordingNotifier
from server.alerts.rows import AlertDelivery
from server.audit_log import AuditEntry
from server.open311.models import Open311Client
from server.services.notices import NoticeCourier
from tests.web.conftest import cookie_sign_in, csrf_of, file_request

VERSION = re.compile(r'name="version" value="([0-9a-f]*)"')


def _settings_form(client: TestClient) -> dict[str, str]:
    page = client.get("/admin/site")
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'name="(\w+)" type="(?:text|tel)" value="([^"]*)"', page.text))
    found = VERSION.search(page.text)
    assert found
    return {**fields, "csrf_token": csrf_of(page.text), "version": found.group(1)}


def test_the_phone_and_opening_hours_set_here_reach_the_pages_and_the_kiosk(
        client: TestClient) -> None:
    assert client.get("/api/v1/site").json()["phone"] == "0731-8888 0000"  # the file's
    cookie_sign_in(client, "admin")
    form = _settings_form(client)
    assert form["phone"] == "0731-8888 0000" and form["quiet_start"] == ""
    saved = client.post("/admin/site", data={
        **form, "phone": "0731-8123 4567", "opening_hours_zh": "周一至周六 8:30–17:30",
        "opening_hours_en": "Mon–Sat 8:30–17:30"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert client.get("/api/v1/site").json()["phone"] == "0731-8123 4567"
    page = client.get("/account?lang=en")
    assert "0731-8123 4567" in page.text and "Mon–Sat 8:30–17:30" in page.text
    assert "周一至周六 8:30–17:30" in client.get("/account?lang=zh").text
    with client.app.state.sessions() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "site.edit")).one()
        assert entry.before["phone"] is None and entry.after["phone"] == "0731-8123 4567"


def test_quiet_hours_set_here_hold_back_a_normal_notice(client: TestClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_SQUAD1_URL", "wecombot://squad1key")  # its group
    cookie_sign_in(client, "admin")
    form = _settings_form(client)
    # The test clock says 17:00 in Changsha: outside the file's 22:00–07:00, inside these.
    assert client.post("/admin/site", data={**form, "quiet_start": "12:00",
                                            "quiet_end": "18:30"},
                       follow_redirects=False).status_code == 303
    file_request(client, category="haircut", answers={"when": "morning"})
    courier = NoticeCourier.from_settings(client.app.state.settings,
                                          sessions=client.app.state.sessions,
                                          notifier=RecordingNotifier(),
                                          clock=client.app.state.clock,
                                          metrics=client.app.state.metrics)
    with client.app.state.sessions() as db:
        assert courier.desk.read_history(db, now=client.app.state.clock()) > 0
        held = set(db.scalars(select(AlertDelivery.next_attempt_at)))
    assert held == {datetime(2026, 11, 25, 10, 30, tzinfo=UTC)}  # 18:30 in Changsha


def test_a_mistake_is_answered_beside_its_field_and_a_stale_save_is_refused(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    mine, theirs = _settings_form(client), _settings_form(client)
    wrong = client.post("/admin/site?lang=en", data={**mine, "phone": "call me",
                                                     "quiet_start": "25:00"})
    assert wrong.status_code == 422
    assert 'value="call me"' in wrong.text and 'value="25:00"' in wrong.text
    assert "Please enter a phone number" in wrong.text
    assert "Please write it as hours:minutes" in wrong.text
    assert "Please fill this in" in wrong.text  # the end of the quiet hours, left empty
    assert client.post("/admin/site", data={**theirs, "phone": "0731-8000 0001"},
                       follow_redirects=False).status_code == 303
    stale = client.post("/admin/site", data={**mine, "opening_hours_zh": "每天 9:00–17:00"})
    assert stale.status_code == 409
    assert "0731-8000 0001" in stale.text and "每天 9:00–17:00" in stale.text


def test_an_open311_key_is_shown_once_and_a_revoked_one_stops_working(client: TestClient
                                                                     ) -> None:
    cookie_sign_in(client, "admin")
    page = client.get("/admin/open311")
    added = client.post("/admin/open311", data={"csrf_token": csrf_of(page.text),
                                                "name": "city-platform"})
    assert added.status_code == 200
    key = re.search(r'id="new-key">([^<]+)<', added.text).group(1)  # type: ignore[union-attr]
    services = client.get("/open311/v2/services.json")
    assert services.status_code == 200
    body = {"api_key": key, "service_code": "water_electric", "address_id": "C01-B01-U1",
            "description": "楼道灯不亮", "attribute[problem]": "light"}
    assert client.post("/open311/v2/requests.json", data=body).status_code == 201
    listing = client.get("/admin/open311")
    assert key not in listing.text  # shown once, never again
    row = re.search(r"city-platform.*?/admin/open311/(\d+)/revoke.*?"
                    r'name="version" value="([0-9a-f]+)"', listing.text, re.S)
    assert row
    revoked = client.post(f"/admin/open311/{row.group(1)}/revoke", data={
        "csrf_token": csrf_of(listing.text), "version": row.group(2)}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.post("/open311/v2/requests.json", data=body).status_code == 403
    with client.app.state.sessions() as db:
        actions = [e.action for e in db.scalars(select(AuditEntry).where(
            AuditEntry.subject_kind == "open311_client").order_by(AuditEntry.id))]
        assert actions == ["open311_client.add", "open311_client.revoke"]
        assert all(key not in str(e.after) for e in db.scalars(select(AuditEntry)))
        client_row = db.scalar(select(Open311Client).where(Open311Client.name == "city-platform"))
        assert client_row is not None and client_row.revoked_at is not None


def test_a_bad_client_name_is_answered_beside_the_field(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    page = client.get("/admin/open311?lang=en")
    reply = client.post("/admin/open311?lang=en", data={"csrf_token": csrf_of(page.text),
                                                        "name": "城市 平台"})
    assert reply.status_code == 422
    assert 'value="城市 平台"' in reply.text and "Use only letters, digits, dots" in reply.text


def test_only_an_admin_with_the_pages_token_changes_the_settings(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    form = _settings_form(client)
    assert client.post("/admin/site", data={k: v for k, v in form.items()
                                            if k != "csrf_token"}).status_code == 403
    for who in ("staff", "leader1", "lijianguo"):
        cookie_sign_in(client, who)
        assert client.get("/admin/site").status_code == 403
        assert client.get("/admin/open311").status_code == 403
        assert client.post("/admin/site", data=form).status_code == 403
        assert client.post("/admin/open311", data={"csrf_token": form["csrf_token"],
                                                   "name": "x"}).status_code == 403
