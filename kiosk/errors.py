"""Errors the kiosk raises on purpose.

Each also inherits the builtin it is a kind of, so callers can catch either::

    ServicepointError
    └── KioskError
        ├── ServerUnavailable(ConnectionError)  no answer, a timeout or a 5xx: try again later
        ├── ServerRefused(ValueError)           a 4xx: the server read the request and said no
        └── BadReply(ValueError)                the server answered with something we cannot read
"""

from __future__ import annotations

from foundation.errors import ServicepointError

__all__ = ["BadReply", "KioskError", "ServerRefused", "ServerUnavailable"]


class KioskError(ServicepointError):
    """Base class of the kiosk's errors."""


class ServerUnavailable(KioskError, ConnectionError):
    """The server could not be reached, timed out, or answered 5xx; the same call may work later."""


class ServerRefused(KioskError, ValueError):
    """The server answered 4xx. ``code`` is the API's error code, ``status`` the HTTP status."""

    def __init__(self, status: int, code: str, message: str, *, message_zh: str = "",
                 message_en: str = "") -> None:
        self.status = status
        self.code = code
        # The library's refusals carry the words for the reader in both languages.
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{status} {code}: {message}")


class BadReply(KioskError, ValueError):
    """A payload (from the server or a cache file) did not have the documented shape."""
