"""The catalogue's admin pages in real headless Chromium (issue 16): an admin moves a building
to another grid, edits a category (a mistake first, answered beside the field with what was
typed kept) and retires another, sets the site's phone and opening hours, adds an Open311
client (its key shown once), adds a book and prints its labels, enrols a reader; each page
phone- and desktop-sized, passing the elder-friendly audit and the Content-Security-Policy.
With WEB_SCREENSHOTS=1 the pages are saved as docs/screenshots/web/admin-*.png.

    WEB_SCREENSHOTS=1 .venv/bin/python -m pytest tests/web/test_browser_admin_catalogue.py
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORDS, file_request, shoot
from tests.web.test_browser import _audit, _sign_in

pytestmark = pytest.mark.browser


def test_an_admin_runs_places_categories_settings_and_the_library_in_a_browser(
        client: TestClient, live_url: str, desktop, phone) -> None:  # type: ignore[no-untyped-def]
    page = desktop
    _sign_in(page, live_url, "admin", PASSWORDS["admin"])
    page.click("nav >> text=管理")
    page.click(".admin-sections >> text=地点和网格")
    assert page.url.endswith("/admin/places")
    _audit(page)
    shoot(page, "admin-places")

    # Move a building to another grid: the next request goes to the new grid's squad.
    page.click("a[href='/admin/places/building/C01-B02']")
    page.select_option("#f-grid", "grid-4")
    shoot(page, "admin-place-building")
    page.click("form.admin-form button[type=submit]")
    assert "已保存" in page.inner_text(".flash")
    filed = file_request(client, unit_code="C01-B02-U1")
    with client.app.state.sessions() as db:
        from sqlalchemy import select

        from server.models import Squad, Ticket
        ticket = db.scalar(select(Ticket).where(Ticket.number == filed["number"]))
        assert ticket is not None and db.get(Squad, ticket.squad_id).code == "squad-4"

    # A category: a mistake answered beside its field, what was typed kept; then saved.
    page.goto(f"{live_url}/admin/categories")
    _audit(page)
    shoot(page, "admin-categories")
    page.click("a[href='/admin/categories/haircut']")
    page.fill("#f-name_zh", "上门理发（老人优先）")
    page.fill("#f-target_hours", "两天")
    page.click("form.admin-form button[type=submit]")
    assert page.locator("#target_hours-err").is_visible()
    assert page.input_value("#f-name_zh") == "上门理发（老人优先）"
    _audit(page)
    shoot(page, "admin-category-mistake")
    page.fill("#f-target_hours", "36")
    page.click("form.admin-form button[type=submit]")
    assert "上门理发（老人优先）" in page.inner_text("table")
    names = {c["code"]: c["name_zh"] for c in
             client.get("/api/v1/categories").json()["categories"]}
    assert names["haircut"] == "上门理发（老人优先）"
    # Retire one: the kiosk no longer offers it.
    page.click("a[href='/admin/categories/jobs']")
    page.click("form[action$='/retire'] button")
    assert "jobs" not in {c["code"] for c in
                              client.get("/api/v1/categories").json()["categories"]}

    # The site's settings: the phone and opening hours show at the foot of every page.
    page.goto(f"{live_url}/admin/site")
    page.fill("#f-phone", "0731-8123 4567")
    page.fill("#f-opening_hours_zh", "周一至周六 8:30–17:30")
    page.fill("#f-opening_hours_en", "Mon–Sat 8:30–17:30")
    page.click("form.admin-form button[type=submit]")
    assert "0731-8123 4567" in page.inner_text("footer")
    assert "周一至周六 8:30–17:30" in page.inner_text("footer")
    _audit(page)
    shoot(page, "admin-site-settings")

    # An Open311 client: the key is shown once.
    page.goto(f"{live_url}/admin/open311")
    page.fill("#f-name", "city-platform")
    page.click("form[action='/admin/open311'] button")
    key = page.inner_text("#new-key")
    assert len(key) >= 24
    _audit(page)
    shoot(page, "admin-open311")
    page.goto(f"{live_url}/admin/open311")
    assert key not in page.content()

    # The library: add a book with its copies, print its labels, enrol a reader.
    page.goto(f"{live_url}/admin/library")
    page.fill("#f-isbn", "978-7-02-000220-7")
    page.fill("#f-title", "红楼梦")
    page.fill("#f-author", "曹雪芹")
    page.fill("#f-publisher", "人民文学出版社")
    page.fill("#f-copies", "2")
    page.fill("#f-shelf", "B-2")
    page.click("form[action='/admin/library/books'] button")
    assert "人民文学出版社" in page.content()
    _audit(page)
    shoot(page, "admin-library-book")
    page.click("text=打印书标")
    image = page.locator(".sheet-pages img").first
    assert image.evaluate("img => img.complete && img.naturalWidth") == 2480  # A4 at 300 dpi
    shoot(page, "admin-library-labels")
    page.goto(f"{live_url}/admin/library")
    page.fill("#f-address_as", "李奶奶")
    page.fill("#f-phone", "13912345678")
    page.click("form[action='/admin/library/readers'] button")
    assert "李奶奶" in page.inner_text("table >> nth=1")
    _audit(page)
    shoot(page, "admin-library")

    # On a phone, in English: the category list reads as a stack, nothing cut off.
    _sign_in(phone, live_url, "admin", PASSWORDS["admin"])
    phone.goto(f"{live_url}/admin/categories?lang=en")
    assert "Service categories" in phone.inner_text("h1")
    _audit(phone)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
