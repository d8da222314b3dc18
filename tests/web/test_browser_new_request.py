"""Every way in, in real headless Chromium: a daughter files for her father from her phone
(the building poster's link, building already chosen), lands on the status page, a double tap
files once; the lookup page finds it again; a staff member files a phoned-in request on a
desktop and the ticket's history says who.

    WEB_SCREENSHOTS=1 .venv/bin/python -m pytest tests/web/test_browser_new_request.py
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.models import ServiceRequest
from tests.server.conftest import PASSWORDS
from tests.web.conftest import shoot
from tests.web.test_browser import _audit, _sign_in

pytestmark = pytest.mark.browser


def _count(client: TestClient) -> int:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return int(db.scalar(select(func.count()).select_from(ServiceRequest)) or 0)


def _latest(client: TestClient) -> Any:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        request = db.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
        assert request is not None
        return (request.ticket.number, request.phone_token, request.for_someone_else,
                request.resident_name, request.contact_name, request.contact_phone,
                request.channel)


def test_a_daughter_files_for_her_father_from_the_poster_link(
        client: TestClient, live_url: str, phone) -> None:  # type: ignore[no-untyped-def]
    phone.goto(f"{live_url}/new?building=C01-B01")
    assert phone.locator(".place-chosen").inner_text() == "劳动新村 1栋"
    _audit(phone)
    shoot(phone, "new-request-start")
    phone.click("label.choice:has-text('水电维修')")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=哪里出了问题？")
    phone.click("label.choice:has-text('漏水')")
    phone.select_option("#unit", label="1单元")
    phone.fill("#floor", "5")
    phone.fill("#room", "502")
    phone.fill("#description", "厨房水管一直滴水，已经关了总阀。")
    phone.click("label.choice:has-text('家人或邻居的家')")
    phone.fill("#resident_name", "王大爷")
    phone.fill("#contact_name", "王女士（女儿）")
    phone.fill("#contact_phone", "139 0000 5678")
    honeypot = phone.locator("#website").bounding_box()
    assert honeypot is not None and honeypot["x"] + honeypot["width"] <= 0  # off the screen
    _audit(phone)
    shoot(phone, "new-request")

    before = _count(client)
    phone.dblclick("button[type=submit]")  # an impatient double tap
    phone.wait_for_selector("h1.number")
    assert "/r/" in phone.url
    assert "已收到您的请求" in phone.content()
    _audit(phone)
    assert _count(client) == before + 1
    number, token, for_other, resident, contact, mobile, channel = _latest(client)
    assert phone.locator("h1.number").inner_text() == number
    assert (for_other, resident, contact, mobile, channel) == (
        True, "王大爷", "王女士（女儿）", "13900005678", "phone")
    assert phone.url.endswith(f"/r/{token}?done=filed")
    shoot(phone, "new-request-filed")

    # She lost the link: the lookup page finds it again by number and phone ending.
    phone.goto(f"{live_url}/lookup")
    phone.fill("#number", number.lower())
    phone.fill("#phone_last4", "5678")
    _audit(phone)
    shoot(phone, "lookup")
    phone.click("button:has-text('查看进度')")
    phone.wait_for_selector("h1.number")
    assert phone.url.endswith(f"/r/{token}")


def test_the_form_speaks_english_and_says_what_to_fix_beside_the_field(
        client: TestClient, live_url: str, phone) -> None:  # type: ignore[no-untyped-def]
    phone.goto(f"{live_url}/new?building=C01-B01&category=water_electric")
    phone.click("text=English")
    phone.wait_for_selector("text=Report on your phone")
    phone.fill("#contact_name", "Ms Wang")
    phone.fill("#contact_phone", "12345")
    before = _count(client)
    phone.click("button[type=submit]")
    phone.wait_for_selector("#contact_phone-error")
    assert "11 digits" in phone.locator("#contact_phone-error").inner_text()
    assert phone.locator("#contact_phone").input_value() == "12345"
    assert phone.locator("#contact_name").input_value() == "Ms Wang"
    assert phone.locator("#q_problem-error").is_visible()
    _audit(phone)
    shoot(phone, "new-request-errors-en")
    assert _count(client) == before


def test_staff_file_a_phoned_in_request(client: TestClient, live_url: str,
                                        desktop) -> None:  # type: ignore[no-untyped-def]
    _sign_in(desktop, live_url, "staff", PASSWORDS["staff"])
    desktop.click("nav >> text=为居民登记")
    desktop.select_option("#building", value="C01-B02")
    desktop.click("label.choice:has-text('管道疏通')")
    desktop.click("button:has-text('下一步')")
    desktop.wait_for_selector("text=来电的是住户本人吗？")
    desktop.click("label.choice:has-text('马桶')")
    desktop.select_option("#unit", label="不清楚")
    desktop.fill("#contact_name", "李奶奶")
    desktop.fill("#contact_phone", "13700001111")
    _audit(desktop)
    shoot(desktop, "staff-new-request")
    desktop.click("button:has-text('登记')")
    desktop.wait_for_selector(".filed-number")
    number = desktop.locator(".filed-number").inner_text()
    assert number == _latest(client)[0]
    _audit(desktop)
    shoot(desktop, "staff-new-request-filed")
    desktop.click("text=查看工单")
    desktop.wait_for_selector("text=代为登记（电话）")
    assert "由工作人员" in desktop.locator(".history-list").inner_text()
