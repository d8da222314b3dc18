"""The people admin pages in real headless Chromium (issue 16's "done means"): an admin adds a
volunteer, deactivates another whose open task goes back to the squad and whose sign-in stops,
resets a staff password (shown once; it works and the old one fails), finds a resident and
reads the audit log; phone- and desktop-sized, each page passing the elder-friendly audit and
the Content-Security-Policy. With WEB_SCREENSHOTS=1 the pages are saved as
docs/screenshots/web/admin-*.png.

    WEB_SCREENSHOTS=1 .venv/bin/python -m pytest tests/web/test_browser_admin_people.py
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import (
    PASSWORDS,
    advance,
    api_headers,
    file_request,
    shoot,
    ticket_id_of,
)
from tests.web.test_browser import _audit, _sign_in

pytestmark = pytest.mark.browser


def test_an_admin_runs_the_people_pages_in_a_browser(
        client: TestClient, live_url: str, desktop, browser) -> None:  # type: ignore[no-untyped-def]
    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "accepted")  # 建国 has it in hand
    page = desktop
    _sign_in(page, live_url, "admin", PASSWORDS["admin"])
    page.click("nav >> text=管理")
    assert page.url.endswith("/admin")
    _audit(page)
    shoot(page, "admin-home")

    # Add a volunteer: a mistake first, answered beside the field with what was typed kept.
    page.click("text=志愿者")
    shoot(page, "admin-volunteers")
    page.click("text=＋ 添加志愿者")
    page.fill("#f-given_name", "德明")
    page.fill("#f-full_name", "刘德明")
    page.fill("#f-code", "v21")
    page.fill("#f-phone", "1390000")
    page.select_option("#f-squad_id", label="帮帮快递先锋队第二志愿服务小分队")
    page.check("input[name=skills][value=plumbing]")
    page.check("#f-party_member")
    page.fill("#f-username", "liudeming")
    page.click(".admin-form form button[type=submit]")
    assert page.locator("#phone-err").is_visible()
    assert page.input_value("#f-full_name") == "刘德明"
    assert page.is_checked("input[name=skills][value=plumbing]")
    _audit(page)
    shoot(page, "admin-volunteer-error")
    page.fill("#f-phone", "13900002121")
    page.click(".admin-form form button[type=submit]")
    password = page.inner_text("#new-password")
    assert len(password) == 12 and "只显示这一次" in page.content()
    shoot(page, "admin-password-once")
    page.click("text=我已记下，返回")
    assert "刘德明" in page.content()
    shoot(page, "admin-volunteer")

    # Deactivate 建国: his accepted task goes back to the squad, his sign-in stops.
    page.goto(f"{live_url}/admin/volunteers?q=建国")
    page.click("text=李建国")
    page.click("button:has-text('停用这位志愿者')")
    assert "1 件手头任务已退回小分队" in page.content()
    ticket = client.get(f"/api/v1/tickets/{ticket_id}",
                        headers=api_headers(client, "staff")).json()
    assert ticket["status"] == "new" and ticket["assignee_id"] is None
    volunteer = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = volunteer.new_page()
        _sign_in(phone, live_url, "lijianguo", PASSWORDS["lijianguo"])
        assert phone.url.endswith("/login") and "用户名或密码不对" in phone.content()
        _sign_in(phone, live_url, "liudeming", password)
        assert phone.url.endswith("/v")
    finally:
        volunteer.close()

    # Reset the staff member's password: shown once, works, the old one fails.
    page.goto(f"{live_url}/admin/users")
    shoot(page, "admin-users")
    page.click("tr:has(td:text-is('staff')) a")
    page.click("form[action$='/reset-password'] button")
    new = page.inner_text("#new-password")
    shoot(page, "admin-user-reset")
    assert client.post("/api/v1/auth/login", json={"username": "staff", "password": new}
                       ).status_code == 200
    assert client.post("/api/v1/auth/login", json={"username": "staff",
                                                   "password": PASSWORDS["staff"]}
                       ).status_code == 401

    # A resident found by phone; the audit log shows what was done, filtered.
    page.goto(f"{live_url}/admin/residents?q=13800001234")
    shoot(page, "admin-residents")
    page.locator("table a").first.click()
    assert "13800001234" in page.content()
    shoot(page, "admin-resident")
    page.goto(f"{live_url}/admin/audit")
    for action in ("volunteer.add", "volunteer.deactivate", "user.reset_password",
                   "resident.view"):
        assert action in page.content()
    _audit(page)
    shoot(page, "admin-audit")


def test_the_phone_form_opens_its_privacy_notice(live_url: str, phone) -> None:  # type: ignore[no-untyped-def]
    phone.goto(f"{live_url}/new?building=C01-B01&category=water_electric")
    phone.click("summary:has-text('我们保存哪些信息、保存多久')")
    notice = phone.locator(".privacy-notice")
    assert "请求办完 180 天后删除" in notice.inner_text()
    notice.scroll_into_view_if_needed()
    _audit(phone)
    if __import__("os").environ.get("WEB_SCREENSHOTS") == "1":
        notice.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs" / "screenshots"
                                   / "web" / "phone-privacy-notice.png"))
