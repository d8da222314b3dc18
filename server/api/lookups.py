"""The limits on looking a request up by number and phone ending, shared by the JSON API
(server/api/routes/lookup.py) and the lookup page (server/web/lookup.py).

Every lookup counts against the per-address limit of the token lookups (``track_limiter``,
the one behind TrackLimit); a wrong pair also counts against a tighter limit on misses per
address (``lookup_miss_limiter``; per kiosk, with a larger budget, for a caller with the
kiosk key), so the 10,000 phone endings of one number cannot be tried from one address.
Refusals are a 429 with Retry-After, counted on /metrics as
``servicepoint_lookups_refused_total{reason}``; answers as ``servicepoint_lookups_total{result}``.

    caller: LookupCaller                      # a route dependency: counted, or refused
    caller.missed()                           # after a LookupMiss: counted as a miss
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from server.api.deps import SessionDep, kiosk_site
from server.api.ratelimit import SlidingWindowLimiter
from server.errors import NotAuthenticated, Throttled
from server.settings import ServerSettings

__all__ = ["MISSES_PER_ADDRESS", "MISSES_PER_KIOSK", "MISS_WINDOW_S", "LookupCaller",
           "LookupGate", "LookupLimits", "LookupThrottled", "MissLimiter", "lookup_gate",
           "lookup_miss_limiter"]

log = logging.getLogger(__name__)
# Ten wrong pairs in a quarter of an hour is more than a resident with a smudged slip needs,
# and makes walking 10,000 endings take weeks.
MISSES_PER_ADDRESS = 10
MISSES_PER_KIOSK = 50
MISS_WINDOW_S = 900.0


class LookupThrottled(Throttled):
    code = "too_many_lookups"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class MissLimiter(SlidingWindowLimiter):
    """The wrong pairs per address: counted after a miss, checked before every lookup (a
    right pair after a few typos is not itself a miss)."""

    def is_full(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            return hits is not None and len(hits) >= self.limit


@dataclass(frozen=True)
class LookupLimits:
    """Wrong pairs per address, and per kiosk for a caller with the kiosk key: the kiosk is
    one address that every resident at the service point shares, so it has a larger budget
    (its key is a secret on the Pi, and a person at the screen cannot type 10,000 endings)."""

    per_address: MissLimiter
    per_kiosk: MissLimiter


def lookup_miss_limiter() -> LookupLimits:
    """The misses limiters the app keeps in ``app.state.lookup_miss_limiter``."""
    return LookupLimits(MissLimiter(limit=MISSES_PER_ADDRESS, window_s=MISS_WINDOW_S),
                        MissLimiter(limit=MISSES_PER_KIOSK, window_s=MISS_WINDOW_S))


@dataclass
class LookupGate:
    """One caller's lookup: already counted against the address's limits."""

    request: Request
    key: str  # the address, or the kiosk
    misses: MissLimiter

    def count(self, name: str, **labels: str) -> None:
        self.request.app.state.metrics.inc(name, **labels)

    def found(self) -> None:
        self.count("servicepoint_lookups_total", result="found")

    def missed(self) -> None:
        """A wrong pair: counted; the next lookup past the misses limit is refused."""
        self.count("servicepoint_lookups_total", result="not_found")
        self.misses.hit(self.key)


def _refuse(gate: LookupGate, reason: str, wait: int) -> LookupThrottled:
    gate.count("servicepoint_lookups_refused_total", reason=reason)
    log.warning("lookup refused: %s from one address (wait %d s)", reason, wait)
    return LookupThrottled(f"too many lookups from this address; try again in {wait} s",
                           retry_after_s=wait)


def lookup_gate(request: Request, *, kiosk_checked: bool = False) -> LookupGate:
    """Count one lookup from the caller's address; LookupThrottled past either limit.
    ``kiosk_checked``: the caller's X-Kiosk-Key was found to be a site's already."""
    address = request.client.host if request.client else "unknown"
    limits: LookupLimits = request.app.state.lookup_miss_limiter
    kiosk_key = request.headers.get("x-kiosk-key")
    if kiosk_key is None:
        gate = LookupGate(request, address, limits.per_address)
    else:
        settings: ServerSettings = request.app.state.settings
        if not kiosk_checked and not hmac.compare_digest(
                kiosk_key.encode(), settings.security.kiosk_key.encode()):
            raise NotAuthenticated("wrong kiosk key")
        kiosk = "kiosk:" + hashlib.sha256(kiosk_key.encode()).hexdigest()[:12]
        gate = LookupGate(request, kiosk, limits.per_kiosk)
    if gate.misses.is_full(gate.key):
        raise _refuse(gate, "misses", gate.misses.retry_after_s(gate.key))
    lookups: SlidingWindowLimiter = request.app.state.track_limiter
    if not lookups.hit(address):
        raise _refuse(gate, "rate", lookups.retry_after_s(address))
    return gate


async def _lookup_gate(request: Request, db: SessionDep) -> LookupGate:
    """The lookup, scoped (server/sites/) to the site of the kiosk asking: the home site's
    key is checked with no I/O, no worker thread; another site's kiosk key is looked up."""
    key = request.headers.get("x-kiosk-key")
    if key is None:
        return lookup_gate(request)
    settings: ServerSettings = request.app.state.settings
    if hmac.compare_digest(key.encode(), settings.security.kiosk_key.encode()):
        kiosk_site(db, settings, key)  # the home site's: no database read
    elif await run_in_threadpool(kiosk_site, db, settings, key) is None:
        raise NotAuthenticated("wrong kiosk key")
    return lookup_gate(request, kiosk_checked=True)


LookupCaller = Annotated[LookupGate, Depends(_lookup_gate)]
