"""The admin pages for people (issue 16): volunteers, staff accounts, residents; the 管理 page
itself; each change in the audit log, each admin route closed to everyone but admins."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.attachments import MemoryAttachmentStore
from server.audit_log import AuditEntry
from server.models import Squad, Ticket, User, Volunteer
from server.photo_records import Photo
from tests.server.alerts.robots import robot_api
from tests.web.conftest import (
    advance,
    api_headers,
    cookie_sign_in,
    csrf_of,
    file_request,
    post_form,
    ticket_id_of,
)

__all__ = ["robot_api"]  # a fixture used here


def test_the_admin_page_lists_the_sections_in_both_languages(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    page = client.get("/admin")
    assert page.status_code == 200
    assert "志愿者" in page.text and "操作记录" in page.text and 'href="/admin"' in page.text
    english = client.get("/admin?lang=en")
    assert "Volunteers" in english.text and "Audit log" in english.text


@pytest.mark.parametrize("who", ["staff", "leader1", "lijianguo"])
def test_only_admins_open_the_admin_page(client: TestClient, who: str) -> None:
    cookie_sign_in(client, who)
    assert client.get("/admin").status_code == 403
    assert 'href="/admin"' not in client.get("/account").text


# --- volunteers -----------------------------------------------------------------------------

def _volunteer(client: TestClient, code: str) -> Volunteer:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        found = db.scalar(select(Volunteer).where(Volunteer.code == code)
                          .options(selectinload(Volunteer.skills),
                                   selectinload(Volunteer.user)))
        assert found is not None
        db.expunge_all()
        return found


def _audit(client: TestClient, action: str) -> list[AuditEntry]:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        db.expunge_all()
        return rows


def _squad_id(client: TestClient, code: str) -> str:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return str(db.scalar(select(Squad.id).where(Squad.code == code)))


def test_an_admin_adds_a_volunteer_with_a_sign_in_shown_once(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    reply = post_form(client, "/admin/volunteers/new", "/admin/volunteers/new", {
        "given_name": "德明", "full_name": "刘德明", "code": "v21", "phone": "139 0000 2121",
        "squad_id": _squad_id(client, "squad-2"), "skills": "plumbing",
        "new_skills": "appliance， haircut", "party_member": "1",
        "channels": "wecom=SERVICEPOINT_NOTIFY_V21_URL\r\n", "username": "liudeming"})
    assert reply.status_code == 200, reply.text  # type: ignore[attr-defined]
    password = re.search(r'id="new-password">([^<]+)<', reply.text)  # type: ignore[attr-defined]
    assert password and "只显示这一次" in reply.text  # type: ignore[attr-defined]
    added = _volunteer(client, "v21")
    assert (added.given_name, added.phone, added.party_member) == ("德明", "13900002121", True)
    assert added.skill_tags == ["appliance", "haircut", "plumbing"]
    [entry] = _audit(client, "volunteer.add")
    assert entry.after is not None and entry.after["channels"] == [
        "wecom=SERVICEPOINT_NOTIFY_V21_URL"]
    # The password works once shown; the page never shows it again.
    client.cookies.clear()
    page = client.get("/login")
    signed = client.post("/login", data={"username": "liudeming",
                                         "password": password.group(1),
                                         "csrf_token": csrf_of(page.text)},
                         follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/v"


def test_mistakes_are_answered_beside_each_field_keeping_what_was_typed(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    reply = post_form(client, "/admin/volunteers/new", "/admin/volunteers/new", {
        "given_name": "", "full_name": "张某某", "code": "v01", "phone": "12345",
        "squad_id": "", "channels": "not a channel"})
    text = reply.text  # type: ignore[attr-defined]
    assert reply.status_code == 422  # type: ignore[attr-defined]
    assert "这个代码已经有了" in text and "请填写 11 位手机号" in text and "请选择一项" in text
    assert 'value="张某某"' in text and 'value="12345"' in text and "not a channel" in text
    assert 'aria-invalid="true"' in text
    english = client.post("/admin/volunteers/new?lang=en", data={
        "code": "v01", "csrf_token": csrf_of(text)})
    assert "already taken" in english.text and 'value="v01"' in english.text
    assert _audit(client, "volunteer.add") == []


def test_a_second_stale_save_is_refused_showing_the_others_change(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    vid = _volunteer(client, "v01").id
    first_page = client.get(f"/admin/volunteers/{vid}").text
    second_page = client.get(f"/admin/volunteers/{vid}").text  # another admin, same moment
    base = {"given_name": "建国", "full_name": "李建国", "code": "v01", "phone": "",
            "squad_id": _squad_id(client, "squad-1"), "skills": ["water_electric", "plumbing"],
            "party_member": "1", "channels": "wecom=SERVICEPOINT_NOTIFY_V01_URL"}
    version = re.search(r'name="version" value="(\d+)"', first_page)
    assert version
    saved = client.post(f"/admin/volunteers/{vid}", data={
        **base, "phone": "13700001111", "version": version.group(1),
        "csrf_token": csrf_of(first_page)}, follow_redirects=False)
    assert saved.status_code == 303
    late = client.post(f"/admin/volunteers/{vid}", data={
        **base, "full_name": "李建国（老李）", "version": version.group(1),
        "csrf_token": csrf_of(second_page)})
    assert late.status_code == 409
    assert "别人已保存了这条记录" in late.text and "13700001111" in late.text
    assert 'value="李建国（老李）"' in late.text  # what the second admin typed is kept
    now = _volunteer(client, "v01")
    assert (now.phone, now.full_name) == ("13700001111", "李建国")
    # Having seen it, the second admin saves again on purpose: it goes through.
    again = re.search(r'name="version" value="(\d+)"', late.text)
    assert again and again.group(1) != version.group(1)
    redo = client.post(f"/admin/volunteers/{vid}", data={
        **base, "phone": "13700001111", "full_name": "李建国（老李）",
        "version": again.group(1), "csrf_token": csrf_of(late.text)}, follow_redirects=False)
    assert redo.status_code == 303
    assert len(_audit(client, "volunteer.edit")) == 2


def test_deactivating_hands_tasks_back_and_ends_sign_in_and_links(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "accepted")  # 建国 has it
    volunteer_session = client.cookies.get("sp_session")
    cookie_sign_in(client, "lijianguo")
    jianguo_cookie = client.cookies.get("sp_session")
    assert client.get("/v").status_code == 200
    cookie_sign_in(client, "admin")
    vid = _volunteer(client, "v01").id
    reply = post_form(client, f"/admin/volunteers/{vid}",
                      f"/admin/volunteers/{vid}/deactivate", {})
    assert reply.status_code == 303  # type: ignore[attr-defined]
    page = client.get(reply.headers["location"]).text  # type: ignore[attr-defined]
    assert "1 件手头任务已退回小分队" in page and "已停用" in page
    staff = api_headers(client, "staff")
    ticket = client.get(f"/api/v1/tickets/{ticket_id}", headers=staff).json()
    assert ticket["status"] == "new" and ticket["assignee_id"] is None
    history = [e["action"] for e in ticket["history"]]
    assert history[-1] == "decline"
    # His old session no longer opens his page, and his password no longer signs in.
    client.cookies.set("sp_session", jianguo_cookie or "")
    assert client.get("/v", follow_redirects=False).status_code == 303
    assert client.post("/api/v1/auth/login", json={"username": "lijianguo",
                                                   "password": "volunteer-demo"}
                       ).status_code == 401
    # He is not proposed again for the returned task.
    proposals = client.get(f"/api/v1/tickets/{ticket_id}/proposals", headers=staff).json()
    assert "建国" not in [p["given_name"] for p in proposals["proposals"]]
    [entry] = _audit(client, "volunteer.deactivate")
    assert entry.before is not None and entry.before["active"] is True
    assert entry.after is not None and entry.after["active"] is False
    assert str(filed["number"]) in entry.note
    del volunteer_session


def test_a_reactivated_volunteer_signs_in_again(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    vid = _volunteer(client, "v01").id
    post_form(client, f"/admin/volunteers/{vid}", f"/admin/volunteers/{vid}/deactivate", {})
    post_form(client, f"/admin/volunteers/{vid}", f"/admin/volunteers/{vid}/reactivate", {})
    assert _volunteer(client, "v01").active
    assert client.post("/api/v1/auth/login", json={"username": "lijianguo",
                                                   "password": "volunteer-demo"}
                       ).status_code == 200
    assert [len(_audit(client, a)) for a in ("volunteer.deactivate", "volunteer.reactivate")
            ] == [1, 1]
    reset = post_form(client, f"/admin/volunteers/{vid}",
                      f"/admin/volunteers/{vid}/reset-password", {})
    found = re.search(r'id="new-password">([^<]+)<', reset.text)  # type: ignore[attr-defined]
    assert found and _login_status(client, "lijianguo", found.group(1)) == 200
    assert _login_status(client, "lijianguo", "volunteer-demo") == 401


# --- staff accounts -------------------------------------------------------------------------

def _user_id(client: TestClient, username: str) -> int:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        found = db.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


def _login_status(client: TestClient, username: str, password: str) -> int:
    return client.post("/api/v1/auth/login",
                       json={"username": username, "password": password}).status_code


def test_a_reset_password_is_shown_once_works_and_the_old_one_fails(client: TestClient) -> None:
    cookie_sign_in(client, "staff")
    staff_cookie = client.cookies.get("sp_session")
    cookie_sign_in(client, "admin")
    uid = _user_id(client, "staff")
    reply = post_form(client, f"/admin/users/{uid}", f"/admin/users/{uid}/reset-password", {})
    text = reply.text  # type: ignore[attr-defined]
    found = re.search(r'id="new-password">([^<]+)<', text)
    assert found and "只显示这一次" in text
    assert found.group(1) not in client.get(f"/admin/users/{uid}").text
    assert _login_status(client, "staff", "staff-demo") == 401
    assert _login_status(client, "staff", found.group(1)) == 200
    client.cookies.set("sp_session", staff_cookie or "")
    assert client.get("/staff", follow_redirects=False).status_code == 303  # signed out
    [entry] = _audit(client, "user.reset_password")
    assert found.group(1) not in repr((entry.before, entry.after, entry.note))


def test_an_admin_adds_and_deactivates_a_staff_account(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    leader = post_form(client, "/admin/users/new", "/admin/users/new", {
        "username": "leader9", "display_name": "王队长", "role": "squad_leader",
        "squad_id": ""})
    assert leader.status_code == 422  # type: ignore[attr-defined]
    assert "小分队队长要选一个小分队" in leader.text  # type: ignore[attr-defined]
    reply = post_form(client, "/admin/users/new", "/admin/users/new", {
        "username": "wangfang", "display_name": "王芳", "role": "staff", "squad_id": ""})
    found = re.search(r'id="new-password">([^<]+)<', reply.text)  # type: ignore[attr-defined]
    assert found and _login_status(client, "wangfang", found.group(1)) == 200
    uid = _user_id(client, "wangfang")
    post_form(client, f"/admin/users/{uid}", f"/admin/users/{uid}/deactivate", {})
    assert _login_status(client, "wangfang", found.group(1)) == 401
    assert "已停用" in client.get("/admin/users").text
    assert [len(_audit(client, a)) for a in ("user.add", "user.deactivate")] == [1, 1]
    # An admin cannot lock themself out.
    me = _user_id(client, "admin")
    assert post_form(client, f"/admin/users/{me}", f"/admin/users/{me}/deactivate",
                     {}).status_code == 403  # type: ignore[attr-defined]


# --- residents ------------------------------------------------------------------------------

def test_a_resident_is_found_exported_and_erased_with_the_figures_unchanged(
        client: TestClient) -> None:
    filed = file_request(client, contact_name="王阿姨", contact_phone="13800001234",
                         description="腿脚不便，请上楼", room="502", floor="5")
    file_request(client, contact_name="王阿姨", contact_phone="13800001234",
                 unit_code="C01-B01-U2")
    store = MemoryAttachmentStore()
    client.app.state.attachments = store  # type: ignore[attr-defined]
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        keys = [store.put(b"jpeg", media_type="image/jpeg") for _ in range(2)]
        ticket = db.scalar(select(Ticket).where(Ticket.number == filed["number"]))
        assert ticket is not None
        db.add(Photo(ticket_id=ticket.id, kind="resident", key=keys[0], thumb_key=keys[1],
                     width=10, height=10, size_bytes=4, added_by="resident"))
        db.commit()
    cookie_sign_in(client, "admin")
    figures_before = client.get("/staff/figures.csv").text
    found = client.get("/admin/residents?q=1234").text
    assert "王阿姨" in found and "138****1234" in found and "13800001234" not in found
    rid = re.search(r'href="/admin/residents/(\d+)"', found)
    assert rid
    page = client.get(f"/admin/residents/{rid.group(1)}").text
    assert "13800001234" in page and "腿脚不便，请上楼" in page and str(filed["number"]) in page
    exported = client.get(f"/admin/residents/{rid.group(1)}/export.json")
    assert exported.headers["content-disposition"].startswith("attachment")
    data = exported.json()
    assert data["resident"]["phone"] == "13800001234" and len(data["requests"]) == 2
    assert [r["photos"] for r in data["requests"]] == [1, 0]
    refused = post_form(client, f"/admin/residents/{rid.group(1)}",
                        f"/admin/residents/{rid.group(1)}/erase", {})
    assert refused.status_code == 422 and "请先勾选确认" in refused.text  # type: ignore
    erased = post_form(client, f"/admin/residents/{rid.group(1)}",
                       f"/admin/residents/{rid.group(1)}/erase", {"confirm": "1"})
    assert erased.status_code == 303  # type: ignore[attr-defined]
    after = client.get(f"/admin/residents/{rid.group(1)}/export.json").json()
    assert after["resident"]["phone"] is None and after["resident"]["erased_at"]
    assert all(r["contact_phone"] is None and r["description"] == "" and r["room"] == ""
               for r in after["requests"])
    assert client.get("/admin/residents?q=13800001234").text.count("/admin/residents/") == 0
    assert store.files == {} and [r["photos"] for r in after["requests"]] == [0, 0]
    assert client.get("/staff/figures.csv").text == figures_before
    assert [len(_audit(client, a)) for a in ("resident.view", "resident.export",
                                             "resident.erase")] == [3, 2, 1]  # 3 opened
    [entry] = _audit(client, "resident.erase")
    assert "13800001234" not in repr((entry.before, entry.after, entry.note))


# --- the audit log page ---------------------------------------------------------------------

def test_the_audit_log_page_filters_and_answers_a_bad_date_beside_the_field(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    vid = _volunteer(client, "v02").id
    post_form(client, f"/admin/volunteers/{vid}", f"/admin/volunteers/{vid}/deactivate", {})
    page = client.get("/admin/audit?what=volunteer").text
    assert "volunteer.deactivate" in page and "共 1 条" in page
    assert "共 0 条" in client.get("/admin/audit?kind=reads").text
    bad = client.get("/admin/audit?since=2026-13-45&who=站长")
    assert bad.status_code == 422 and "请按 年-月-日 填写" in bad.text
    assert 'value="2026-13-45"' in bad.text and 'value="站长"' in bad.text


ADMIN_PAGES = ["/admin", "/admin/volunteers", "/admin/volunteers/new", "/admin/volunteers/1",
               "/admin/users", "/admin/users/new", "/admin/users/1", "/admin/residents",
               "/admin/residents/1", "/admin/residents/1/export.json", "/admin/audit"]
ADMIN_FORMS = ["/admin/volunteers/new", "/admin/volunteers/1", "/admin/volunteers/1/deactivate",
               "/admin/volunteers/1/reactivate", "/admin/volunteers/1/reset-password",
               "/admin/users/new", "/admin/users/1",
               "/admin/users/1/deactivate", "/admin/users/1/reactivate",
               "/admin/users/1/reset-password", "/admin/residents/1/erase"]


@pytest.mark.parametrize("who", ["staff", "leader1", "lijianguo"])
def test_every_admin_route_refuses_everyone_but_admins(client: TestClient, who: str) -> None:
    file_request(client)
    cookie_sign_in(client, who)
    token = csrf_of(client.get("/account").text)
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    for path in ADMIN_FORMS:
        assert client.post(path, data={"csrf_token": token, "confirm": "1"}
                           ).status_code == 403, path
    client.cookies.clear()
    for path in ADMIN_PAGES:
        reply = client.get(path, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login")
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalar(select(AuditEntry.id).where(AuditEntry.action.not_like("phone.%"))
                         ) is None


def test_admin_forms_need_the_csrf_token(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    reply = client.post("/admin/volunteers/1/deactivate", data={})
    assert reply.status_code == 403 and _volunteer(client, "v01").active


# --- the site file (servicepoint seed) ------------------------------------------------------

def test_seeding_active_false_deactivates_a_volunteer_and_true_brings_them_back(
        client: TestClient) -> None:
    from server.services.site_data import apply_site_data, load_site_data
    from tests.server.conftest import CONFIG

    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "dispatched")  # offered to 建国
    demo = load_site_data(CONFIG / "demo-site.toml")
    gone = demo.model_copy(update={"volunteer": [
        v.model_copy(update={"active": v.code != "v01"}) for v in demo.volunteer]})
    for _ in range(2):  # seeding the same file again changes nothing more
        with client.app.state.sessions() as db:  # type: ignore[attr-defined]
            apply_site_data(db, data=gone)
    assert not _volunteer(client, "v01").active
    assert _login_status(client, "lijianguo", "volunteer-demo") == 401
    staff = api_headers(client, "staff")
    ticket = client.get(f"/api/v1/tickets/{ticket_id}", headers=staff).json()
    assert ticket["status"] == "new" and ticket["assignee_id"] is None
    [entry] = _audit(client, "volunteer.deactivate")
    assert entry.actor_label == "servicepoint seed"
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        apply_site_data(db, data=demo)
    assert _volunteer(client, "v01").active
    assert _login_status(client, "lijianguo", "volunteer-demo") == 200


def test_the_phone_form_says_what_is_kept_and_for_how_long(client: TestClient) -> None:
    page = client.get("/new?building=C01-B01&category=water_electric")
    assert page.status_code == 200
    assert "我们保存哪些信息、保存多久" in page.text and "请求办完 180 天后删除" in page.text
    assert "最后一件请求办完 365 天后删除" in page.text
    english = client.get("/new?building=C01-B01&category=water_electric&lang=en").text
    assert "erased 180 days after the request is closed" in english


# --- the squad leader is told ---------------------------------------------------------------

@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch, settings, clock, robot_api):  # type: ignore[no-untyped-def]
    """The app with its notice loop running, squad 1's WeCom robot a local stand-in."""
    from server.alerts import AppriseNotifier
    from server.app import create_app

    monkeypatch.setenv("SERVICEPOINT_NOTIFY_SQUAD1_URL", "wecombot://squad1key")
    for unset in ("SERVICEPOINT_NOTIFY_V01_URL", "SERVICEPOINT_ALERT_DUTY_WECOM_URL",
                  "SERVICEPOINT_NOTIFY_RESIDENT_SMS_URL"):
        monkeypatch.delenv(unset, raising=False)
    app = create_app(settings, clock=clock, background=False,
                     notifier=AppriseNotifier(timeout_s=5))
    with TestClient(app) as live:
        yield live, robot_api
    app.state.engine.dispose()


def test_the_squad_is_told_when_a_deactivated_volunteers_task_comes_back(told) -> None:  # type: ignore[no-untyped-def]
    import time

    live, robots = told
    filed = file_request(live)
    ticket_id = ticket_id_of(live, str(filed["number"]))
    advance(live, ticket_id, "accepted")
    cookie_sign_in(live, "admin")
    vid = _volunteer(live, "v01").id
    post_form(live, f"/admin/volunteers/{vid}", f"/admin/volunteers/{vid}/deactivate", {})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        back = [c for c in robots.wecom("squad1key") if "志愿者已停用" in c.text]
        if back:
            break
        time.sleep(0.1)
    assert back, "squad 1's group heard nothing of the task handed back"
    assert str(filed["number"]) in back[0].text and "志愿者已停用" in back[0].text
