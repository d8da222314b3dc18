"""The service-record pages in real headless Chromium: the volunteer's own hours on a phone,
the leader correcting a job, staff issuing a certificate; each page passes the elder-friendly
audit (body text, touch targets, contrast) and the CSP. WEB_SCREENSHOTS=1 saves them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import shoot
from tests.web.test_browser import AUDIT, _sign_in
from tests.web.test_records import _served

pytestmark = pytest.mark.browser


def test_hours_on_the_phone_and_a_certificate_from_the_staff_page(
        client: TestClient, live_url: str, phone, desktop, clock) -> None:  # type: ignore[no-untyped-def]
    for minutes, start in ((90, True), (30, True), (40, False)):
        _served(client, clock, minutes, start=start, rating=5 if start else None)

    _sign_in(phone, live_url, "lijianguo", "volunteer-demo")
    phone.click("text=我的服务时长")
    phone.wait_for_selector("text=我的志愿服务")
    assert phone.evaluate(AUDIT)["problems"] == []
    shoot(phone, "record-volunteer")

    _sign_in(desktop, live_url, "leader1", "leader-demo")
    desktop.click("text=志愿服务记录")
    desktop.click("text=李建国")
    desktop.wait_for_selector("text=开具志愿服务证明")
    desktop.locator("details.more summary").last.click()
    desktop.locator("details.more[open] input[name=minutes]").fill("45")
    desktop.locator("details.more[open] input[name=reason]").fill("忘了点出发")
    desktop.locator("details.more[open] button[type=submit]").click()
    desktop.wait_for_selector("text=服务时长已更正")
    desktop.click("button:has-text('开具证明')")
    desktop.wait_for_selector("text=已开具")
    assert desktop.evaluate(AUDIT)["problems"] == []
    shoot(desktop, "record-staff")


def test_a_volunteer_scans_the_patrols_code_and_signs_in_on_the_phone(
        client: TestClient, live_url: str, phone, desktop, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.web.test_activities import _local_hhmm, _set_up

    staff_page, sign_url = _set_up(client, clock, start=_local_hhmm(clock, 10),
                                   end=_local_hhmm(clock, 130))
    phone.goto(f"{live_url}{sign_url}")  # what the camera app opens
    phone.fill("#username", "lijianguo")
    phone.fill("#password", "volunteer-demo")
    phone.click("form[action='/login'] button[type=submit]")
    phone.wait_for_selector("text=早间巡逻")
    phone.click("button:has-text('签到')")
    phone.wait_for_selector("text=已签到")
    assert phone.evaluate(AUDIT)["problems"] == []
    shoot(phone, "activity-signed-in")

    _sign_in(desktop, live_url, "staff", "staff-demo")
    desktop.goto(f"{live_url}{staff_page}")
    desktop.wait_for_selector("text=李建国")
    assert desktop.evaluate("document.querySelector('img').naturalWidth") > 0  # the QR code
    assert desktop.evaluate(AUDIT)["problems"] == []
    shoot(desktop, "activity-staff")
