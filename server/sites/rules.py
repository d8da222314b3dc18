"""Which sites a signed-in person reads, and in which one they act (pure: no framework).

- A site's people (admin, staff, squad leader, volunteer) read and act in their own site.
- The street office (街道) reads every site of its street and acts in none: it changes nothing.
- The district admin reads every site (``sites`` is None) and acts in none of their rows but
  the sites' own and each site's first admin, which name their site themselves.

A scope is attached to a request's database session (server/sites/scoping.py enforces it);
a session with no scope (background jobs, commands, public token links) sees every site.

>>> scope_for(role="staff", site_id="site-01", street=None, street_sites=())
SiteScope(sites=frozenset({'site-01'}), acting='site-01', read_only=False)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

__all__ = ["DISTRICT_ADMIN", "SIGN_OUT_PATHS", "SITE_ROLES", "STREET_OFFICE", "SiteScope",
           "refuses_write", "scope_for"]

STREET_OFFICE: Final = "street_office"
DISTRICT_ADMIN: Final = "district_admin"
# The roles whose user row names one site (server.models.Role values).
SITE_ROLES: Final = frozenset({"admin", "staff", "squad_leader", "volunteer"})


@dataclass(frozen=True)
class SiteScope:
    """``sites``: the site ids whose rows may be read (None: every site); ``acting``: the
    site new rows are stamped with (None: the session stamps none); ``read_only``: no site row
    may be added, changed or deleted."""

    sites: frozenset[str] | None
    acting: str | None
    read_only: bool = False

    def covers(self, site_id: str | None) -> bool:
        return self.sites is None or site_id in self.sites


def scope_for(*, role: str, site_id: str | None, street: str | None,
              street_sites: Iterable[str]) -> SiteScope:
    """The scope of a user with ``role``: ``street_sites`` are the ids of the sites of the
    user's street (read only for the street office)."""
    if role == STREET_OFFICE:
        return SiteScope(sites=frozenset(street_sites) if street else frozenset(),
                         acting=None, read_only=True)
    if role == DISTRICT_ADMIN:
        return SiteScope(sites=None, acting=None)
    # A site's person with no site (a row the migration could not place) sees nothing.
    return SiteScope(sites=frozenset({site_id}) if site_id else frozenset(), acting=site_id)


# What the street office may still send that is not a GET: signing itself out.
SIGN_OUT_PATHS: Final = frozenset({"/logout", "/api/v1/auth/logout"})


def refuses_write(*, role: str, method: str, path: str) -> bool:
    """Whether a request is refused before its route runs: the street office changes nothing
    (every POST, PUT, PATCH and DELETE is a 403), signing out aside."""
    return (role == STREET_OFFICE and method not in ("GET", "HEAD", "OPTIONS")
            and path not in SIGN_OUT_PATHS)
