"""Web page fixtures: the server fixtures (app on a seeded SQLite database, FakeClock), a
signed-in browser-like client, and helpers to read CSRF tokens out of pages.

The pages run the same services the API tests cover on SQLite and PostgreSQL; these tests
exercise what the pages add, so they use SQLite only and stay fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import (  # noqa: F401  (fixtures, re-exported for tests/web)
    PASSWORDS,
    FakeClock,
    app,
    client,
    clock,
    file_request,
    settings,
    sqlite_template,
)

PASSWORDS = {**PASSWORDS, "leader3": "leader-demo", "leader4": "leader-demo",
             "hujianhua": "volunteer-demo", "wangxiuying": "volunteer-demo"}
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    import shutil

    target = tmp_path / "servicepoint.db"
    shutil.copy(sqlite_template, target)
    yield f"sqlite:///{target}"


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def web_sign_in(client: TestClient, username: str) -> None:  # noqa: F811
    """Sign in through the login form, as a browser would; the client keeps the cookies."""
    page = client.get("/login")
    reply = client.post("/login", data={"username": username, "password": PASSWORDS[username],
                                        "csrf_token": csrf_of(page.text)},
                        follow_redirects=False)
    assert reply.status_code == 303, reply.text
    assert "sp_session" in client.cookies


def post_form(client: TestClient, page_url: str, action: str,  # noqa: F811
              data: dict[str, str]) -> object:
    """Open a page, then post one of its forms with the page's CSRF token."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)


# --- real headless Chromium ---------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "web"


@pytest.fixture
def live_url(app) -> Iterator[str]:  # noqa: F811
    """The test's app served by uvicorn in a thread, for the browser to reach."""
    import threading

    import uvicorn

    from tests.support.ports import free_port, wait_for_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is not at {CHROMIUM}: scripts/bootstrap.sh test installs "
                    "it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield instance
        instance.close()


# Run in every document before its own scripts (Playwright injects it, outside the page's CSP).
_CSP_WATCH = """document.addEventListener("securitypolicyviolation", (e) => console.error(
    "csp-violation: " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber));"""


def watch_csp(context) -> list[str]:  # type: ignore[no-untyped-def]
    """Every Content-Security-Policy violation in ``context``'s pages, as the browser reports
    it; the page fixtures fail a test that leaves any."""
    violations: list[str] = []
    context.add_init_script(_CSP_WATCH)

    def heard(message) -> None:  # type: ignore[no-untyped-def]
        if message.text.startswith("csp-violation:"):
            violations.append(message.text)

    context.on("console", heard)
    return violations


@pytest.fixture
def phone(browser) -> Iterator[object]:
    """A phone-sized page (390×844, touch) in its own context: its own cookies."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True,
                                  is_mobile=True, locale="zh-CN")
    violations = watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert violations == [], "the pages broke their Content-Security-Policy"


@pytest.fixture
def desktop(browser) -> Iterator[object]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    violations = watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert violations == [], "the pages broke their Content-Security-Policy"


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save the page phone-sized and desktop-sized when WEB_SCREENSHOTS=1.

    Off by default so an ordinary test run does not rewrite the committed PNGs.
    """
    import os

    if os.environ.get("WEB_SCREENSHOTS") != "1":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(before)


# --- moving a request along through the JSON API (what other people did meanwhile) ---------

def session_for(app, username: str) -> str:  # type: ignore[no-untyped-def]  # noqa: F811
    """A session token for a demo user, opened directly: the password check (Argon2, slow on
    purpose) is tested once in test_auth, not paid again in every test."""
    from sqlalchemy import select

    from server.models import User
    from server.security import open_session

    with app.state.sessions() as db:
        user = db.scalar(select(User).where(User.username == username))
        assert user is not None, username
        return open_session(db, user=user, now=app.state.clock(), hours=12)


def api_headers(client: TestClient, username: str) -> dict[str, str]:  # noqa: F811
    return {"Authorization": f"Bearer {session_for(client.app, username)}"}


def cookie_sign_in(client: TestClient, username: str) -> None:  # noqa: F811
    """Be signed in on the web pages as ``username`` (the cookie the login form would set)."""
    client.cookies.set("sp_session", session_for(client.app, username))


def volunteer_id(client: TestClient, ticket_id: int, given_name: str) -> int:  # noqa: F811
    headers = api_headers(client, "staff")
    proposals = client.get(f"/api/v1/tickets/{ticket_id}/proposals", headers=headers).json()
    return next(p["volunteer_id"] for p in proposals["proposals"]
                if p["given_name"] == given_name)


def advance(client: TestClient, ticket_id: int, to: str, *,  # noqa: F811
            volunteer: str = "lijianguo", given_name: str = "建国") -> None:
    """Move a fresh request to ``to`` (dispatched, accepted or resolved) via the API."""
    staff = api_headers(client, "staff")
    vid = volunteer_id(client, ticket_id, given_name)
    assert client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=staff,
                       json={"volunteer_id": vid}).status_code == 200
    if to == "dispatched":
        return
    mine = api_headers(client, volunteer)
    assert client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=mine).status_code == 200
    if to == "accepted":
        return
    assert client.post(f"/api/v1/tickets/{ticket_id}/resolve", headers=mine,
                       json={"note": "换了水龙头"}).status_code == 200


def ticket_id_of(client: TestClient, number: str) -> int:  # noqa: F811
    rows = client.get("/api/v1/tickets?status=&limit=500",
                      headers=api_headers(client, "staff")).json()["tickets"]
    return next(r["id"] for r in rows if r["number"] == number)
