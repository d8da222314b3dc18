"""The site's settings a worker may change in the browser: the phone number residents call, the
opening hours, and the quiet hours when normal alerts wait for the morning.

Stored in :class:`~server.site_profile.SiteProfile`; what is not set there is the file's value
(``[site] phone`` in servicepoint.toml, ``[quiet_hours]`` in alerts.toml), so an installer's
file stays the default. Read by the pages (server/web/common.py ``render``), the kiosk's
``GET /api/v1/site`` and the alert book (server/alerts/outbox.py, through
``server.site_profile.quiet_hours_override``). Page: server/web/admin_site.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from threading import Lock
from time import monotonic
from typing import Any

from sqlalchemy.orm import Session

from server.models import User
from server.services import audit
from server.services.admin_forms import FormRefused, check_version, version_of
from server.site_profile import SiteProfile, quiet_hours_override

__all__ = ["SiteFacts", "SiteFactsCache", "profile_form", "profile_version", "save_profile",
           "site_facts"]

log = logging.getLogger(__name__)
FIELDS = ("phone", "opening_hours_zh", "opening_hours_en", "quiet_start", "quiet_end")
PHONE = re.compile(r"^[0-9+][0-9 -]{2,28}$")
CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")


@dataclass(frozen=True)
class SiteFacts:
    """What residents and staff are told about the site, the worker's values over the file's."""

    phone: str
    opening_hours_zh: str
    opening_hours_en: str
    quiet: tuple[time, time] | None  # None: the alerts file's quiet hours


def _row(db: Session, site_id: str) -> SiteProfile:
    return db.get(SiteProfile, site_id) or SiteProfile(site_id=site_id)


def site_facts(db: Session, *, site_id: str, file_phone: str) -> SiteFacts:
    row = db.get(SiteProfile, site_id)
    if row is None:
        return SiteFacts(file_phone, "", "", None)
    return SiteFacts(row.phone if row.phone is not None else file_phone,
                     row.opening_hours_zh or "", row.opening_hours_en or "",
                     quiet_hours_override(db, site_id))


class SiteFactsCache:
    """The site's facts for every page render, read at most every ``ttl_s`` seconds (a render
    has no session of its own; a save here forgets them at once, another replica's within
    ``ttl_s``). Made by server/app.py as ``app.state.site_facts``."""

    def __init__(self, sessions: Callable[[], Session], *, site_id: str, file_phone: str,
                 ttl_s: float = 15.0, clock: Callable[[], float] = monotonic) -> None:
        self.sessions, self.site_id, self.file_phone = sessions, site_id, file_phone
        self.ttl_s, self.clock = ttl_s, clock
        self._kept: tuple[float, SiteFacts] | None = None
        self._lock = Lock()

    def get(self) -> SiteFacts:
        with self._lock:
            kept = self._kept
            if kept is not None and self.clock() - kept[0] < self.ttl_s:
                return kept[1]
        with self.sessions() as db:
            facts = site_facts(db, site_id=self.site_id, file_phone=self.file_phone)
        with self._lock:
            self._kept = (self.clock(), facts)
        return facts

    def forget(self) -> None:
        with self._lock:
            self._kept = None


def _snapshot(row: SiteProfile) -> dict[str, Any]:
    return audit.snapshot(row, *FIELDS)


def profile_version(db: Session, *, site_id: str) -> str:
    return version_of(_snapshot(_row(db, site_id)))


def profile_form(facts: SiteFacts) -> dict[str, str]:
    start, end = (t.strftime("%H:%M") for t in facts.quiet) if facts.quiet else ("", "")
    return {"phone": facts.phone, "opening_hours_zh": facts.opening_hours_zh,
            "opening_hours_en": facts.opening_hours_en, "quiet_start": start, "quiet_end": end}


def save_profile(db: Session, *, site_id: str, form: Mapping[str, str], seen: str, actor: User,
                 now: datetime) -> None:
    """Save the settings form; FormRefused by field, StaleEdit when saved by another since."""
    row = _row(db, site_id)
    before = _snapshot(row)
    check_version(before, seen)
    problems: dict[str, str] = {}
    phone = form.get("phone", "").strip()
    if phone and not PHONE.match(phone):
        problems["phone"] = "bad_phone"
    hours = {name: form.get(name, "").strip() for name in ("opening_hours_zh",
                                                           "opening_hours_en")}
    for name, value in hours.items():
        if len(value) > 200:
            problems[name] = "too_long"
    quiet = {name: form.get(name, "").strip() for name in ("quiet_start", "quiet_end")}
    for name, value in quiet.items():
        if value and not CLOCK.match(value):
            problems[name] = "bad_clock"
        elif not value and any(quiet.values()):  # both or neither (the alerts file's)
            problems[name] = "required"
    if problems:
        raise FormRefused(problems)
    row.phone = phone
    row.opening_hours_zh, row.opening_hours_en = hours["opening_hours_zh"], hours[
        "opening_hours_en"]
    row.quiet_start, row.quiet_end = (
        time.fromisoformat(quiet[n].zfill(5)).strftime("%H:%M") if quiet[n] else None
        for n in ("quiet_start", "quiet_end"))
    row.updated_at, row.updated_by = now, actor.id
    db.add(row)
    audit.record(db, actor=actor, action="site.edit", subject=("site", site_id), before=before,
                 after=_snapshot(row), now=now)
    db.commit()
    log.info("site %s settings saved by user %s", site_id, actor.id)
