"""Who reads which sites, and who may write (server/sites/rules.py, pure)."""

from __future__ import annotations

import pytest

from server.sites.rules import SiteScope, refuses_write, scope_for


@pytest.mark.parametrize("role", ["admin", "staff", "squad_leader", "volunteer"])
def test_a_sites_people_read_and_act_in_their_site_only(role: str) -> None:
    scope = scope_for(role=role, site_id="site-02", street=None, street_sites=["site-09"])
    assert scope == SiteScope(sites=frozenset({"site-02"}), acting="site-02")
    assert scope.covers("site-02") and not scope.covers("site-01")


def test_a_person_without_a_site_sees_nothing() -> None:
    scope = scope_for(role="staff", site_id=None, street=None, street_sites=[])
    assert scope.sites == frozenset() and not scope.covers("site-01")


def test_the_street_office_reads_its_streets_sites_and_acts_in_none() -> None:
    scope = scope_for(role="street_office", site_id=None, street="劳动路街道",
                      street_sites=["site-01", "site-02"])
    assert scope.sites == frozenset({"site-01", "site-02"})
    assert scope.acting is None and scope.read_only
    no_street = scope_for(role="street_office", site_id=None, street=None,
                          street_sites=["site-01"])
    assert no_street.sites == frozenset()


def test_the_district_admin_reads_every_site() -> None:
    scope = scope_for(role="district_admin", site_id=None, street=None, street_sites=[])
    assert scope.sites is None and scope.covers("any-site") and not scope.read_only


@pytest.mark.parametrize(("method", "path", "refused"), [
    ("GET", "/street", False), ("HEAD", "/api/v1/street/figures", False),
    ("POST", "/staff/new", True), ("PUT", "/api/v1/assets/tanks/t1", True),
    ("DELETE", "/api/v1/anything", True), ("PATCH", "/x", True),
    ("POST", "/logout", False), ("POST", "/api/v1/auth/logout", False),
])
def test_the_street_office_writes_nothing_but_its_sign_out(method: str, path: str,
                                                           refused: bool) -> None:
    assert refuses_write(role="street_office", method=method, path=path) is refused
    assert refuses_write(role="staff", method=method, path=path) is False
