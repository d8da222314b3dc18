"""A kiosk asking ``GET /api/v1/site`` is told its own site on a district centre
(issue 19): a site-02 kiosk sending its X-Kiosk-Key is told site-02's names and the phone its
staff set, never the home site's; without a key, or with the home kiosk's, the home site as
before. Real SQLite, the real app.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.services.sites import new_kiosk_key
from server.site_profile import SiteProfile
from server.sites.models import Site


def _site_two_kiosk(client: TestClient, *, phone: str | None) -> str:
    """Site-02 with its names (and its staff's phone, if given); returns a kiosk key of it."""
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        site = Site(id="site-02", name_zh="二号服务站", name_en="Site Two")
        db.add(site)
        db.flush()
        if phone is not None:
            db.add(SiteProfile(site_id="site-02", phone=phone))
        key = new_kiosk_key(db, site=site, now=client.app.state.clock())  # type: ignore[attr-defined]
        db.commit()
    return key


def test_a_site_two_kiosk_is_told_site_two_names_and_phone(client: TestClient) -> None:
    key = _site_two_kiosk(client, phone="0731-8888 0002")
    reply = client.get("/api/v1/site", headers={"X-Kiosk-Key": key})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["id"], body["name_zh"], body["name_en"]) == ("site-02", "二号服务站", "Site Two")
    assert body["phone"] == "0731-8888 0002"


def test_a_site_two_kiosk_without_a_phone_set_is_not_given_the_home_sites(
        client: TestClient) -> None:
    home_phone = client.get("/api/v1/site").json()["phone"]
    assert home_phone  # the demo site's [site] phone
    key = _site_two_kiosk(client, phone=None)
    body = client.get("/api/v1/site", headers={"X-Kiosk-Key": key}).json()
    assert body["name_zh"] == "二号服务站" and body["phone"] != home_phone


def test_the_home_kiosk_and_a_keyless_caller_are_told_the_home_site(client: TestClient) -> None:
    _site_two_kiosk(client, phone="0731-8888 0002")
    settings = client.app.state.settings  # type: ignore[attr-defined]
    home_key = settings.security.kiosk_key
    for headers in ({}, {"X-Kiosk-Key": home_key}, {"X-Kiosk-Key": "no-such-kiosk-key-000"}):
        reply = client.get("/api/v1/site", headers=headers)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert (body["id"], body["name_zh"]) == (settings.site.id, settings.site.name_zh)
        assert body["phone"] != "0731-8888 0002"
