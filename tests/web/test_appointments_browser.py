"""Appointments in real headless Chromium: a squad leader publishes a month of Tuesday mornings on
a phone, and a resident picks a time on the phone form (a full one greyed 已满) and sees it on
the status page. Each page passes the elder-friendly audit (body text, touch targets, contrast)
and the CSP, phone- and desktop-sized. WEB_SCREENSHOTS=1 saves them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from server.appointments.models import AppointmentSlot
from server.models import Category
from tests.web.conftest import shoot
from tests.web.test_browser import _audit, _sign_in

pytestmark = pytest.mark.browser


def test_a_leader_publishes_slots_and_a_resident_books_one(
        app, client: TestClient, live_url: str, phone, desktop, clock) -> None:  # type: ignore[no-untyped-def]
    with app.state.sessions() as db:
        db.get(Category, "haircut").by_appointment = True
        db.commit()
    _sign_in(phone, live_url, "leader1", "leader-demo")
    phone.goto(f"{live_url}/staff/appointments")
    phone.wait_for_selector("text=发布时段")
    tomorrow = (clock() + timedelta(hours=8, days=1)).date().isoformat()
    # Two services are by appointment now (证件预约上门办理 as shipped): the leader picks one.
    phone.select_option("#slot-category", "haircut")
    phone.fill("#slot-day", tomorrow)
    phone.fill("#slot-start", "09:00")
    phone.fill("#slot-end", "11:00")
    phone.fill("#slot-capacity", "1")
    phone.select_option("#slot-weeks", "4")
    phone.click("button:has-text('发布')")
    phone.wait_for_selector("text=已发布 4 个时段")
    _audit(phone)
    phone.select_option("#slot-category", "haircut")
    phone.fill("#slot-start", "14:00")  # a second time the same day, three places
    phone.fill("#slot-end", "16:00")
    phone.fill("#slot-capacity", "3")
    phone.select_option("#slot-weeks", "1")
    phone.click("button:has-text('发布')")
    phone.wait_for_selector("text=已发布 1 个时段")
    with app.state.sessions() as db:
        first = db.query(AppointmentSlot).order_by(AppointmentSlot.starts_at).first().id
    # Someone at the kiosk books the morning's only place.
    assert client.post("/api/v1/requests", json={
        "client_id": uuid.uuid4().hex, "category": "haircut", "unit_code": "C01-B01-U2",
        "answers": {"when": "any"}, "contact_name": "李大爷", "contact_phone": "13700001111",
        "room": "301", "slot_id": first}).status_code == 201
    phone.reload()
    phone.wait_for_selector("text=已约 1 / 1")
    _audit(phone)
    shoot(phone, "appointments-publish")
    phone.click(".slot-row >> nth=0")
    phone.wait_for_selector("text=预约的居民")
    _audit(phone)
    shoot(phone, "appointments-slot")

    desktop.goto(f"{live_url}/new?building=C01-B01&category=haircut")
    desktop.wait_for_selector("text=选一个上门时间")
    full = desktop.locator(f"input[name=slot][value='{first}']")
    assert full.is_disabled()
    assert "已满" in desktop.locator(".slot-choices").inner_text()
    _audit(desktop)
    desktop.locator(".slot-choice:not(:has(input:disabled)) >> nth=0").click()
    shoot(desktop, "new-request-slot")
    desktop.select_option("#unit", "C01-B01-U1")
    desktop.locator("input[name=q_when][value=any]").check(force=True)
    desktop.fill("#contact_name", "王阿姨")
    desktop.fill("#contact_phone", "13800001234")
    desktop.click("button:has-text('提交')")
    desktop.wait_for_selector("text=预约上门时间")
    assert "14:00" in desktop.locator(".appointment-time").inner_text()
    _audit(desktop)
    shoot(desktop, "status-appointment")
