"""How long each HTTP request took, by the route that answered it, for /metrics.

A plain ASGI middleware (like ``LastDefence`` in server/app.py: the ``@app.middleware("http")``
kind costs every request an extra task). It labels each request with the matched route's path
template (``/r/{token}``, never the raw path: one series per route, no resident's token in a
label), the method and the status, and observes the time to the last byte in
``servicepoint_http_request_duration_seconds`` (server/sensing/metrics.py). A path no route
matched is labelled ``unmatched``; an exception that escapes the app counts as a 500.

    app.add_middleware(RequestTimer, metrics=metrics)
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.sensing.metrics import Metrics

__all__ = ["RequestTimer", "route_template"]

METRIC = "servicepoint_http_request_duration_seconds"


def route_template(scope: Scope) -> str:
    """The path template of the route the router matched (FastAPI leaves it in the scope)."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None) if route is not None else None
    return str(path) if path else "unmatched"


class RequestTimer:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.metrics.observe(METRIC, time.perf_counter() - started,
                                 route=route_template(scope), method=str(scope["method"]),
                                 status=str(status))
