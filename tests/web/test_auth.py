"""Signing in on the web: the login form, its cookie, throttling, redirects and signing out."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.app import create_app
from server.web.common import safe_next
from tests.web.conftest import csrf_of, web_sign_in


def test_login_sets_an_httponly_samesite_cookie_and_lands_on_the_role_home(
        client: TestClient) -> None:
    page = client.get("/login")
    reply = client.post("/login", data={"username": "staff", "password": "staff-demo",
                                        "csrf_token": csrf_of(page.text)},
                        follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/staff"
    cookie = next(h for h in reply.headers.get_list("set-cookie") if h.startswith("sp_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert "社区工作人员" in client.get("/staff").text
    web_sign_in(client, "lijianguo")
    assert client.get("/", follow_redirects=False).headers["location"] == "/v"


def test_the_cookie_is_secure_when_the_public_url_is_https(settings, clock) -> None:  # type: ignore[no-untyped-def]
    https = settings.model_copy(update={"http": settings.http.model_copy(
        update={"public_url": "https://sp.example.cn"})})
    app = create_app(https, clock=clock, background=False)
    with TestClient(app, base_url="https://testserver") as secure_client:
        page = secure_client.get("/login")
        assert "Secure" in page.headers["set-cookie"]  # the CSRF cookie too
        reply = secure_client.post("/login", data={
            "username": "staff", "password": "staff-demo", "csrf_token": csrf_of(page.text)},
            follow_redirects=False)
        cookie = next(h for h in reply.headers.get_list("set-cookie")
                      if h.startswith("sp_session="))
        assert "Secure" in cookie and "HttpOnly" in cookie
    app.state.engine.dispose()


def test_a_wrong_password_says_so_and_keeps_the_username(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    reply = client.post("/login", data={"username": "leader1", "password": "nope",
                                        "csrf_token": token})
    assert reply.status_code == 401
    assert "用户名或密码不对" in reply.text and 'value="leader1"' in reply.text
    assert "nope" not in reply.text  # a password is never echoed back
    empty = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert empty.status_code == 422 and "请填写用户名和密码" in empty.text


def test_repeated_wrong_passwords_are_throttled(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        client.post("/login", data={"username": "leader2", "password": "x", "csrf_token": token})
    reply = client.post("/login", data={"username": "leader2", "password": "leader-demo",
                                        "csrf_token": token})
    assert reply.status_code == 429 and "等几分钟" in reply.text


def test_login_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/login")
    reply = client.post("/login", data={"username": "staff", "password": "staff-demo"})
    assert reply.status_code == 403 and "sp_session" not in client.cookies


def test_pages_send_you_to_sign_in_and_back(client: TestClient) -> None:
    reply = client.get("/staff/figures?year=2026", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login?next=%2Fstaff%2Ffigures%3Fyear%3D2026"
    page = client.get(reply.headers["location"])
    assert 'name="next" value="/staff/figures?year=2026"' in page.text
    landed = client.post("/login", data={"username": "staff", "password": "staff-demo",
                                         "next": "/staff/figures?year=2026",
                                         "csrf_token": csrf_of(page.text)},
                         follow_redirects=False)
    assert landed.headers["location"] == "/staff/figures?year=2026"


def test_next_never_leads_off_the_site(client: TestClient) -> None:
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example", "evil", ""):
        assert safe_next(evil, "/home") == "/home"
    assert safe_next("/staff?status=new") == "/staff?status=new"
    reply = client.post("/login", data={"username": "staff", "password": "staff-demo",
                                        "next": "//evil.example/x",
                                        "csrf_token": csrf_of(client.get("/login").text)},
                        follow_redirects=False)
    assert reply.headers["location"] == "/staff"
    assert client.get("/lang/en?next=//evil.example",
                      follow_redirects=False).headers["location"] == "/"


def test_sign_out_ends_the_session(client: TestClient) -> None:
    web_sign_in(client, "staff")
    session = client.cookies["sp_session"]
    token = csrf_of(client.get("/staff").text)
    reply = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/login"
    client.cookies.set("sp_session", session)  # even a kept copy of the cookie is dead
    assert client.get("/staff", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/tickets",
                      headers={"Authorization": f"Bearer {session}"}).status_code == 401
