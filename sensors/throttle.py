"""A repeated warning said at most once per interval, with how often it happened meanwhile.

A node whose disk is full fails to store every reading of every poll: hundreds of identical
warnings a minute, which bury the log and wear the SD card they are failing to write to. The
first one is logged at once; the rest are counted and summed up in one line per interval::

    throttle = LogThrottle(log, interval_s=60.0)
    throttle.warning("full", "could not store the %s reading: %s", what, exc)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["LogThrottle"]


class LogThrottle:
    def __init__(self, logger: logging.Logger, *, interval_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self.clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` unless ``key`` was logged less than an interval ago; then
        only count it. Returns whether it was logged."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        held = self._held.pop(key, 0)
        self._last[key] = now
        self.logger.warning(message, *args)
        if held:
            self.logger.warning("... and %d more like it in the last %.0f s", held,
                                now - last if last is not None else 0.0)
        return True

    def clear(self, key: str) -> None:
        """The trouble is over: the next warning under ``key`` is logged at once."""
        self._last.pop(key, None)
        self._held.pop(key, None)
