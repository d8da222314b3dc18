"""A person's own account (issue 13): set my password, sign out everywhere; and how long a
phone stays signed in (squad leaders and volunteers: 14 days, sliding; staff: a working day)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.models import Ticket
from tests.server.conftest import FakeClock
from tests.web.conftest import (
    advance,
    csrf_of,
    file_request,
    post_form,
    ticket_id_of,
    web_sign_in,
)


def test_a_volunteer_sets_their_own_password(client: TestClient) -> None:
    web_sign_in(client, "lijianguo")
    assert "设置我的密码" in client.get("/account").text
    wrong = post_form(client, "/account", "/account/password",
                      {"current": "not-it", "new": "jianguo-2026", "repeat": "jianguo-2026"})
    assert wrong.status_code == 403 and "现在的密码不对" in wrong.text  # type: ignore[attr-defined]
    short = post_form(client, "/account", "/account/password",
                      {"current": "volunteer-demo", "new": "short", "repeat": "short"})
    assert short.status_code == 422 and "至少要 8 个字符" in short.text  # type: ignore[attr-defined]
    differ = post_form(client, "/account", "/account/password",
                       {"current": "volunteer-demo", "new": "jianguo-2026",
                        "repeat": "jianguo-2027"})
    assert differ.status_code == 422  # type: ignore[attr-defined]

    other_phone = TestClient(client.app)
    other_phone.cookies.set("sp_session", client.cookies["sp_session"])
    done = post_form(client, "/account", "/account/password",
                     {"current": "volunteer-demo", "new": "jianguo-2026",
                      "repeat": "jianguo-2026"})
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert "新密码已设好" in client.get("/account?done=password").text  # still signed in here
    assert other_phone.get("/v", follow_redirects=False).status_code == 303  # not there

    fresh = TestClient(client.app)
    page = fresh.get("/login")
    old = fresh.post("/login", data={"username": "lijianguo", "password": "volunteer-demo",
                                     "csrf_token": csrf_of(page.text)})
    assert old.status_code == 401
    new = fresh.post("/login", data={"username": "lijianguo", "password": "jianguo-2026",
                                     "csrf_token": csrf_of(fresh.get("/login").text)},
                     follow_redirects=False)
    assert new.status_code == 303 and new.headers["location"] == "/v"


def test_sign_out_everywhere_ends_every_session_and_task_link(client: TestClient) -> None:
    from tests.web.test_task_link import _link

    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "dispatched")
    link = _link(client, ticket_id)
    web_sign_in(client, "lijianguo")
    other_phone = TestClient(client.app)
    other_phone.cookies.set("sp_session", client.cookies["sp_session"])
    reply = post_form(client, "/account", "/account/sign-out-all", {})
    assert reply.status_code == 303  # type: ignore[attr-defined]
    assert "已在所有设备上退出" in client.get(reply.headers["location"]).text  # type: ignore[attr-defined]
    assert other_phone.get("/v", follow_redirects=False).status_code == 303
    assert client.get(link).status_code == 410
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.get(Ticket, ticket_id).status == "dispatched"  # type: ignore[union-attr]


def test_a_volunteers_phone_stays_signed_in_while_used_twice_a_week(
        client: TestClient, clock: FakeClock) -> None:
    web_sign_in(client, "lijianguo")
    cookie = next(c for c in client.cookies.jar if c.name == "sp_session")
    assert cookie.expires is not None  # kept across browser restarts
    for _ in range(6):  # three weeks, opened every three or four days
        clock.advance(days=3, hours=12)
        assert client.get("/v", follow_redirects=False).status_code == 200
    clock.advance(days=15)  # then not for two weeks and a day
    assert client.get("/v", follow_redirects=False).status_code == 303


def test_staff_sessions_keep_their_working_day(client: TestClient, clock: FakeClock) -> None:
    web_sign_in(client, "staff")
    clock.advance(hours=11)
    assert client.get("/staff", follow_redirects=False).status_code == 200
    clock.advance(hours=2)  # used an hour ago, but staff sessions do not slide
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_the_queue_leads_with_new_requests_and_refreshes_itself(client: TestClient) -> None:
    filed = file_request(client)
    web_sign_in(client, "leader1")
    page = client.get("/staff").text
    fresh = page[page.index('id="fresh"'):page.index('id="alerts"')]  # above the alerts
    assert str(filed["number"]) in fresh
    assert 'src="/static/queue.js"' in page and "自动更新" in page
    assert client.get("/static/queue.js").status_code == 200
