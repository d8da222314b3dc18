"""Who is filing a request, as the API sees it: the channel a filing is recorded under, and the
limits on anonymous filing.

The channel comes from the caller, not from the body: only signed-in staff file as ``staff``
(代办, on a resident's behalf), and a staff member's filing is recorded as theirs whatever the
body says. Anyone else may say ``kiosk``, ``phone`` or ``web``, which only describes the screen
it came from.

Filing without signing in is limited per caller address, and per kiosk for a caller that sends
the kiosk key, at rates a real service point never reaches (``security.filing_per_address``,
``security.filing_per_kiosk`` per ``security.filing_window_s``). A refusal is a 429 with a
``Retry-After`` and is counted on /metrics as ``servicepoint_filings_refused_total``.

    FilingCaller   # a route dependency: the caller, already counted against its limit
    caller.channel(body.channel)
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from server.api.deps import NowDep, SessionDep, SettingsDep, kiosk_site
from server.api.ratelimit import SlidingWindowLimiter
from server.errors import Forbidden, NotAuthenticated, Throttled
from server.models import STAFF_ROLES, User
from server.security import user_for_token

__all__ = ["FilingCaller", "FilingThrottled", "Filer", "filing_limiters"]

log = logging.getLogger(__name__)


class FilingThrottled(Throttled):
    code = "too_many_filings"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Filer:
    """The caller of a filing: ``staff`` (signed in), ``kiosk`` (sent the kiosk key) or
    ``anonymous``."""

    kind: str
    username: str = ""
    user: User | None = None  # the signed-in staff member, recorded as the filer (代办)

    def channel(self, claimed: str) -> str:
        """The channel to record, from who is calling and what the body says."""
        if self.kind == "staff":
            return "staff"
        if claimed == "staff":
            raise Forbidden("channel: only signed-in staff file as staff")
        return "kiosk" if self.kind == "kiosk" else claimed


@dataclass
class FilingLimiters:
    per_address: SlidingWindowLimiter
    per_kiosk: SlidingWindowLimiter


def filing_limiters(*, per_address: int, per_kiosk: int, window_s: float) -> FilingLimiters:
    return FilingLimiters(SlidingWindowLimiter(limit=per_address, window_s=window_s),
                          SlidingWindowLimiter(limit=per_kiosk, window_s=window_s))


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value else None


def filing_caller(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep
                  ) -> Filer:
    """Who files, counted against the limit that applies to it."""
    token = _bearer(request)
    if token is not None:
        user = user_for_token(db, token=token, now=now)  # a bad token is a 401, not anonymous
        if user.role in STAFF_ROLES:
            return Filer("staff", user.username, user)
    key = request.headers.get("x-kiosk-key")
    limiters: FilingLimiters = request.app.state.filing_limiters
    if key is not None:
        if kiosk_site(db, settings, key) is None:  # scopes db to the kiosk's site
            raise NotAuthenticated("wrong kiosk key")
        kiosk = "kiosk:" + hashlib.sha256(key.encode()).hexdigest()[:12]
        _count(request, limiters.per_kiosk, kiosk, "kiosk")
        return Filer("kiosk")
    address = request.client.host if request.client else "unknown"
    _count(request, limiters.per_address, address, "address")
    return Filer("anonymous")


def _count(request: Request, limiter: SlidingWindowLimiter, key: str, by: str) -> None:
    if limiter.hit(key):
        return
    route = "open311" if request.url.path.startswith("/open311/") else "api"
    request.app.state.metrics.inc("servicepoint_filings_refused_total", by=by, route=route)
    wait = limiter.retry_after_s(key)
    log.warning("filing refused on %s: too many from one %s (wait %d s)", route, by, wait)
    raise FilingThrottled(f"too many requests filed from this {by}; try again in {wait} s",
                          retry_after_s=wait)


FilingCaller = Annotated[Filer, Depends(filing_caller)]
