"""What the logs may say of a secret: a short hash instead of the secret itself.

Phone tokens, task-link tokens and the kiosk's client ids are keys: whoever reads one in a log
can follow (or cancel) a resident's request. Logs carry :func:`short_hash` of them instead: the
same value always gives the same ten characters, so lines about one request still line up, and
an operator with the real value can find it by hashing it too. Pure, used by every program::

    log.info("request %s filed", short_hash(client_id))     # request h:1f2e3d4c5b filed
    log.warning("form to %s refused", redact_path(request.url.path))   # /r/h:9a8b7c6d5e/confirm
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["redact_path", "short_hash"]

# A path segment that may be a key: tokens are 16 to 64 URL-safe characters.
_KEYLIKE = re.compile(r"(?<=/)[A-Za-z0-9_-]{16,}(?=/|$)")


def short_hash(value: object) -> str:
    """``h:`` and the first ten hex digits of the value's SHA-256; ``-`` for nothing."""
    if value is None or value == "":
        return "-"
    return "h:" + hashlib.sha256(str(value).encode()).hexdigest()[:10]


def redact_path(path: str) -> str:
    """The URL path with every segment that looks like a token replaced by its short hash."""
    return _KEYLIKE.sub(lambda found: short_hash(found.group(0)), path)
