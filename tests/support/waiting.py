"""Waiting for something another thread or process does (a notice sent, a row written)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["wait_for"]


def wait_for(check: Callable[[], Any], *, within: float = 5.0) -> Any:
    """``check()`` polled every 50 ms until it is truthy or ``within`` seconds pass; its last
    value (the caller asserts on it, so a timeout fails with what was last seen)."""
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
