"""The district admin's sites pages and the street office's overview in real headless Chromium
(issue 19): the district admin lands on the sites, adds one (a mistake first, answered beside
the field with what was typed kept), sees the first admin's password and the kiosk key once;
the street office lands on its overview of both sites, in both languages. Phone- and desktop-
sized, each page passing the elder-friendly audit and the Content-Security-Policy. With
WEB_SCREENSHOTS=1 the pages are saved as docs/screenshots/web/district-*.png and street-*.png.

    WEB_SCREENSHOTS=1 .venv/bin/python -m pytest tests/web/test_browser_sites.py
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Building, Compound, Ticket, Unit, User
from server.security import hash_password
from server.sites.models import Site
from tests.web.conftest import file_request, shoot
from tests.web.test_browser import _audit, _sign_in

pytestmark = pytest.mark.browser
STREET = "劳动路街道"
PASSWORD = "district-demo"


def _district(client: TestClient) -> None:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        db.get(Site, "site-01").street = STREET
        db.add(Site(id="site-02", name_zh="清水塘社区服务站", name_en="Qingshuitang Service Point",
                    street=STREET))
        db.flush()
        compound = Compound(code="S2-C01", name_zh="清水塘小区", site_id="site-02")
        building = Building(code="S2-B01", name="1栋", compound=compound)
        db.add_all([compound, building, Unit(code="S2-B01-U1", name="1单元", building=building)])
        db.add_all([
            User(username="quguan", password_hash=hash_password(PASSWORD),
                 role="district_admin", display_name="区管理员"),
            User(username="jiedao", password_hash=hash_password(PASSWORD),
                 role="street_office", display_name="劳动路街道办", street=STREET),
        ])
        db.commit()


def test_the_district_admin_adds_a_site_in_a_browser(
        client: TestClient, live_url: str, desktop) -> None:  # type: ignore[no-untyped-def]
    _district(client)
    page = desktop
    _sign_in(page, live_url, "quguan", PASSWORD)
    assert page.url.endswith("/admin/sites")
    assert "清水塘社区服务站" in page.content()
    _audit(page)
    shoot(page, "district-sites")
    page.fill("#f-site_id", "Site 3")
    page.fill("#f-name_zh", "东塘社区服务站")
    page.fill("#f-name_en", "Dongtang Service Point")
    page.fill("#f-street", STREET)
    page.fill("#f-admin_username", "dongtang-admin")
    page.fill("#f-admin_name", "刘站长")
    page.click("form[action='/admin/sites'] button[type=submit]")
    assert page.locator("#site_id-err").is_visible()
    assert page.input_value("#f-name_zh") == "东塘社区服务站"
    _audit(page)
    shoot(page, "district-site-error")
    page.fill("#f-site_id", "site-03")
    page.click("form[action='/admin/sites'] button[type=submit]")
    assert page.locator("#new-password").is_visible()
    assert len(page.inner_text("#new-key")) >= 20
    _audit(page)
    shoot(page, "district-site-added")
    page.click("text=我已记下，返回")
    assert "东塘社区服务站" in page.content()
    page.click("text=English")
    assert "Add a service point" in page.content()


def test_the_street_office_reads_its_sites_in_a_browser(
        client: TestClient, live_url: str, phone) -> None:  # type: ignore[no-untyped-def]
    _district(client)
    file_request(client)
    file_request(client, unit_code="S2-B01-U1")
    file_request(client, unit_code="S2-B01-U1")
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        late = db.scalars(select(Ticket).where(Ticket.site_id == "site-02")).first()
        late.due_at = client.app.state.clock() - timedelta(hours=1)  # type: ignore[attr-defined,union-attr]
        db.commit()
    page = phone
    _sign_in(page, live_url, "jiedao", PASSWORD)
    assert page.url.endswith("/street")
    body = page.content()
    assert "劳动路社区服务站" in body and "清水塘社区服务站" in body
    assert page.locator("tr.total").inner_text().count("3") >= 1
    _audit(page)
    shoot(page, "street-overview")
    page.click("text=English")
    assert "Street overview" in page.content()
    _audit(page)
    shoot(page, "street-overview-en")
