"""Small per-client rate limits: token lookups, so phone tokens cannot be guessed in bulk, and
anonymous filing (``server.api.filing``), so a script cannot flood the squads with tickets.

Tokens carry 192 bits, so guessing is hopeless anyway; the limit keeps a scanner from costing the
Pi its CPU. It is per process and in memory: good enough for its purpose, and a replica restart
forgiving everyone is harmless. The client is the connection's address, which is a forwarded
address only when it came from a configured proxy (``security.trusted_proxies``, applied by
``server.app.serve``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Annotated

from fastapi import Depends, Request

from server.errors import Throttled

__all__ = ["SlidingWindowLimiter", "TrackLimit"]


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients rather than grow without bound
                for idle in [k for k, v in self._hits.items() if not v]:
                    del self._hits[idle]
            return True

    def retry_after_s(self, key: str, now: float | None = None) -> int:
        """Whole seconds until ``key`` may try again (at least 1)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            oldest = hits[0] if hits else now
        return max(1, int(oldest + self.window_s - now + 0.999))


async def _track_limit(request: Request) -> None:  # no I/O: no worker thread
    limiter: SlidingWindowLimiter = request.app.state.track_limiter
    client = request.client.host if request.client else "unknown"
    if not limiter.hit(client):
        raise Throttled("too many lookups from this address; wait a minute")


TrackLimit = Annotated[None, Depends(_track_limit)]
