"""The district admin's sites pages and the street office's overview (issue 19): each role
lands on its page, a new site comes with its first admin and kiosk key shown once, mistakes are
answered beside the field, and the street office reads every site of its street and changes
nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from server.models import Compound, Ticket, User
from server.security import hash_password
from server.sites.models import Site
from tests.web.conftest import cookie_sign_in, csrf_of, file_request, post_form

STREET = "劳动路街道"
PASSWORD = "district-demo"


@pytest.fixture
def district(client: TestClient) -> Iterator[TestClient]:
    """The demo site on a street, a second site on it, a district admin and a street office."""
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        db.get(Site, "site-01").street = STREET
        db.add(Site(id="site-02", name_zh="二号服务站", name_en="Site Two", street=STREET))
        db.add(Site(id="site-99", name_zh="别的街道的站", street="别的街道"))
        db.flush()
        db.add(Compound(code="S2-C01", name_zh="二号小区", site_id="site-02"))
        db.add_all([
            User(username="quguan", password_hash=hash_password(PASSWORD),
                 role="district_admin", display_name="区管理员"),
            User(username="jiedao", password_hash=hash_password(PASSWORD),
                 role="street_office", display_name="街道办", street=STREET),
        ])
        db.commit()
    yield client


def _login(client: TestClient, username: str) -> str:
    page = client.get("/login")
    reply = client.post("/login", data={"username": username, "password": PASSWORD,
                                        "csrf_token": csrf_of(page.text)},
                        follow_redirects=False)
    assert reply.status_code == 303, reply.text
    return reply.headers["location"]


def test_each_new_role_lands_on_its_own_page(district: TestClient) -> None:
    assert _login(district, "quguan") == "/admin/sites"
    district.cookies.clear()
    assert _login(district, "jiedao") == "/street"


def test_the_district_admin_adds_a_site_with_its_admin_and_kiosk_key(
        district: TestClient) -> None:
    cookie_sign_in(district, "quguan")
    reply = post_form(district, "/admin/sites", "/admin/sites", {
        "site_id": "site-03", "name_zh": "三号服务站", "name_en": "Site Three",
        "street": STREET, "timezone": "Asia/Shanghai", "admin_username": "zhanzhang3",
        "admin_name": "王站长"})
    assert reply.status_code == 200, reply.text  # type: ignore[attr-defined]
    html = reply.text  # type: ignore[attr-defined]
    password = re.search(r'id="new-password">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    key = re.search(r'id="new-key">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert "三号服务站" in district.get("/admin/sites").text
    # the new admin signs in, belongs to site-03 and sees none of site-01's requests
    ours = file_request(district)
    district.cookies.clear()
    login = district.post("/api/v1/auth/login",
                          json={"username": "zhanzhang3", "password": password})
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    listed = district.get("/api/v1/tickets", headers=headers).json()["tickets"]
    assert ours["number"] not in {t["number"] for t in listed}
    # the kiosk's key is site-03's: the site status it reads is site-03's
    status = district.get("/api/v1/site/status", headers={"X-Kiosk-Key": key})
    assert status.status_code == 200
    assert status.json()["site"] == "site-03"
    assert status.json()["open_tickets"] == []
    assert district.get("/api/v1/site/status",
                        headers={"X-Kiosk-Key": "not-a-key"}).status_code == 401


def test_a_mistake_on_the_add_form_is_answered_beside_the_field(district: TestClient) -> None:
    cookie_sign_in(district, "quguan")
    reply = post_form(district, "/admin/sites", "/admin/sites", {
        "site_id": "Site 2", "name_zh": "二号", "name_en": "", "street": STREET,
        "timezone": "Mars/Base", "admin_username": "quguan", "admin_name": "某人"})
    assert reply.status_code == 422  # type: ignore[attr-defined]
    html = reply.text  # type: ignore[attr-defined]
    assert 'id="site_id-err"' in html and 'id="timezone-err"' in html
    assert 'id="admin_username-err"' in html  # taken
    assert 'value="Site 2"' in html and 'value="Mars/Base"' in html


def test_the_district_admin_edits_a_site_and_makes_a_new_kiosk_key(district: TestClient) -> None:
    cookie_sign_in(district, "quguan")
    page = district.get("/admin/sites/site-02")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    reply = district.post("/admin/sites/site-02", data={
        "csrf_token": csrf_of(page.text), "version": version, "name_zh": "二号站（新）",
        "name_en": "Site Two", "street": STREET, "timezone": "Asia/Shanghai"},
        follow_redirects=False)
    assert reply.status_code == 303
    stale = district.post("/admin/sites/site-02", data={
        "csrf_token": csrf_of(page.text), "version": version, "name_zh": "旧的",
        "name_en": "", "street": STREET, "timezone": "Asia/Shanghai"})
    assert stale.status_code == 409  # someone saved since this form was drawn
    keyed = post_form(district, "/admin/sites/site-02", "/admin/sites/site-02/kiosk-key", {})
    key = re.search(r'id="new-key">([^<]+)<', keyed.text).group(1)  # type: ignore[union-attr,attr-defined]
    assert district.get("/api/v1/site/status",
                        headers={"X-Kiosk-Key": key}).json()["site"] == "site-02"
    assert district.get("/admin/sites/site-404").status_code == 404


def test_others_cannot_open_the_sites_pages(district: TestClient) -> None:
    cookie_sign_in(district, "admin")  # a site's own admin
    assert district.get("/admin/sites").status_code == 403
    cookie_sign_in(district, "jiedao")
    assert district.get("/admin/sites").status_code == 403


def test_the_street_office_sees_its_streets_sites_and_changes_nothing(
        district: TestClient) -> None:
    file_request(district)
    file_request(district)
    with district.app.state.sessions() as db:  # type: ignore[attr-defined]
        db.add(Ticket(number="S2-1", kind="request", category_code="water_electric",
                      title="水电维修", status="new", priority="normal", site_id="site-02",
                      created_at=district.app.state.clock()))  # type: ignore[attr-defined]
        db.commit()
    cookie_sign_in(district, "jiedao")
    page = district.get("/street")
    assert page.status_code == 200
    html = page.text
    assert "劳动路社区服务站" in html and "二号服务站" in html
    assert "别的街道的站" not in html  # another street's site
    # site-01 has two open requests, site-02 one: the total says three
    total = re.search(r'class="total">.*?未完成的请求[^>]*><strong>(\d+)<', html, re.S)
    assert total is not None and total.group(1) == "3"
    # every write is refused, even on pages it could open
    assert district.post("/staff/new", data={"csrf_token": csrf_of(
        district.get("/account").text)}).status_code == 403
    assert district.get("/staff").status_code == 403
    english = district.get("/street?lang=en")
    assert english.status_code == 200 and "Street overview" in english.text
    # this year's months so far (the clock says November), none to come; a later year: none
    assert "2026-11" in html and "2026-12" not in html
    assert "这一年还没有数字" in district.get("/street?year=2030").text
