"""A bound on every request body, counted as it streams in, whatever its framing.

A body that declares its length (``Content-Length``) over the limit is refused before a byte of
it is read. A body that does not (``Transfer-Encoding: chunked``) is counted chunk by chunk as
the app reads it: the moment it passes the limit, the read fails, whatever the app made of that
failure is dropped, and the caller gets a 413 with the API's JSON error body. Nothing ever holds
more than the limit plus one chunk, so an anonymous 200 MB upload costs the Pi no memory.

It is a plain ASGI middleware, installed once around the whole app by ``server.app``, so JSON
routes, form posts (the web pages, Open311) and anything added later share the one bound::

    app.add_middleware(BodyLimit, limit=64 * 1024)
"""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.redact import redact_path

__all__ = ["BodyLimit", "BodyTooLarge"]

log = logging.getLogger(__name__)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the body has passed the limit. An HTTPException, so FastAPI's
    body parsing lets it through as it is rather than turning it into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")


def too_large_response(limit: int) -> JSONResponse:
    return JSONResponse({"error": {"code": "too_large",
                                   "message": f"request body larger than {limit} bytes"}},
                        status_code=413, headers={"Connection": "close"})


class BodyLimit:
    """Refuse any request body over ``limit`` bytes with a 413, as it streams."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and (declared < 0 or declared > self.limit):
            log.warning("body refused on %s %s: declares %s bytes", scope.get("method"),
                        _path(scope), declared if declared >= 0 else "an invalid length")
            await too_large_response(self.limit)(scope, receive, send)
            return

        seen = 0
        tripped = False
        started = False  # an answer has begun, the app's or ours
        ours = False  # ... and it is our 413

        async def bounded_receive() -> Message:
            nonlocal seen, tripped
            if tripped:  # the app tries again: the answer stays the same
                raise BodyTooLarge(self.limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    tripped = True
                    log.warning("body refused on %s %s: passed %d bytes while streaming",
                                scope.get("method"), _path(scope), self.limit)
                    raise BodyTooLarge(self.limit)
            return message

        async def refuse() -> None:
            nonlocal started, ours
            started = ours = True
            await too_large_response(self.limit)(scope, receive, send)

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if ours:
                return
            if tripped and not started:  # whatever the app made of the failed read: ours
                await refuse()
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except Exception:
            if not tripped or (started and not ours):
                raise
        if tripped and not started:
            await refuse()

def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header as a number; -1 when it is there but not a number."""
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            return int(value) if value.isdigit() else -1
    return None


def _path(scope: Scope) -> str:
    return redact_path(str(scope.get("path")))
