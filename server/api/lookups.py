"""The limits on looking a request up by number and phone ending, shared by the JSON API
(server/api/routes/lookup.py) and the lookup page (server/web/lookup.py).

Every lookup counts against the per-address limit of the token lookups (``track_limiter``,
the one behind TrackLimit); a wrong pair also counts against a tighter limit on misses per
address (``lookup_miss_limiter``), so the 10,000 phone endings of one number cannot be tried
from one address. Refusals are a 429 with Retry-After, counted on /metrics as
``servicepoint_lookups_refused_total{reason}``; answers as ``servicepoint_lookups_total{result}``.

    caller: LookupCaller                      # a route dependency: counted, or refused
    caller.missed()                           # after a LookupMiss: counted as a miss
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from server.api.ratelimit import SlidingWindowLimiter
from server.errors import Throttled

__all__ = ["MISSES_PER_ADDRESS", "MISS_WINDOW_S", "LookupCaller", "LookupGate",
           "LookupThrottled", "MissLimiter", "lookup_gate", "lookup_miss_limiter"]

log = logging.getLogger(__name__)
# Ten wrong pairs in a quarter of an hour is more than a resident with a smudged slip needs,
# and makes walking 10,000 endings take weeks.
MISSES_PER_ADDRESS = 10
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


def lookup_miss_limiter() -> MissLimiter:
    """The misses limiter the app keeps in ``app.state.lookup_miss_limiter``."""
    return MissLimiter(limit=MISSES_PER_ADDRESS, window_s=MISS_WINDOW_S)


@dataclass
class LookupGate:
    """One caller's lookup: already counted against the address's limits."""

    request: Request
    address: str

    def count(self, name: str, **labels: str) -> None:
        self.request.app.state.metrics.inc(name, **labels)

    def found(self) -> None:
        self.count("servicepoint_lookups_total", result="found")

    def missed(self) -> None:
        """A wrong pair: counted; the next lookup past the misses limit is refused."""
        self.count("servicepoint_lookups_total", result="not_found")
        self.request.app.state.lookup_miss_limiter.hit(self.address)


def _refuse(gate: LookupGate, reason: str, wait: int) -> LookupThrottled:
    gate.count("servicepoint_lookups_refused_total", reason=reason)
    log.warning("lookup refused: %s from one address (wait %d s)", reason, wait)
    return LookupThrottled(f"too many lookups from this address; try again in {wait} s",
                           retry_after_s=wait)


def lookup_gate(request: Request) -> LookupGate:
    """Count one lookup from the caller's address; LookupThrottled past either limit."""
    address = request.client.host if request.client else "unknown"
    gate = LookupGate(request, address)
    misses: MissLimiter = request.app.state.lookup_miss_limiter
    if misses.is_full(address):
        raise _refuse(gate, "misses", misses.retry_after_s(address))
    lookups: SlidingWindowLimiter = request.app.state.track_limiter
    if not lookups.hit(address):
        raise _refuse(gate, "rate", lookups.retry_after_s(address))
    return gate


async def _lookup_gate(request: Request) -> LookupGate:  # no I/O: no worker thread
    return lookup_gate(request)


LookupCaller = Annotated[LookupGate, Depends(_lookup_gate)]
