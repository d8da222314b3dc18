"""Handing the C heap's free pages back to the system, once start-up has settled.

Start-up allocates and frees a great deal in C (the GL driver's work for the first frames, Kivy's
layout, the catalog's JSON); glibc's ``malloc`` keeps freed pages mapped in case they are wanted
again, so they still count in the kiosk's resident memory. ``malloc_trim(0)`` gives them back:
little after the home screen alone, several MiB once many screens have been drawn and their
temporary allocations freed (BENCHMARKS.md, Kiosk). It is the one outside thing this
module touches, reached through ``ctypes`` and passed in as ``trim`` so tests can replace it.

Where the C library is not glibc (musl, macOS) there is no ``malloc_trim`` and
:func:`release_free_memory` does nothing. Called by ``kiosk.app.KioskApp``: once start-up has
settled (``_settle_heap``) and when the idle timeout clears an abandoned journey (``tick``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable
from functools import cache

__all__ = ["glibc_trim", "release_free_memory"]

log = logging.getLogger(__name__)


@cache
def glibc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory(trim: Callable[[int], int] | None = None) -> bool:
    """Give the heap's free pages back to the system; True if any were given back."""
    trim = trim if trim is not None else glibc_trim()
    if trim is None:
        return False
    released = bool(trim(0))
    log.debug("malloc_trim: %s", "pages given back" if released else "nothing to give back")
    return released
