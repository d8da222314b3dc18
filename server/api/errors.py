"""Every error becomes a JSON body with a 4xx status (Open311 paths get Open311's shape)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from foundation.redact import redact_path
from server.errors import ServerError
from server.open311 import xml as open311_xml

__all__ = ["install_error_handlers", "error_response"]

log = logging.getLogger(__name__)


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    if request.url.path.startswith("/open311/"):
        # GeoReport v2 reports every invalid request as 400, in the format the path asks for.
        status = 400 if status == 422 else status
        errors = [{"code": status, "description": message}]
        if request.url.path.endswith(".xml"):
            return Response(open311_xml.render("errors", "error", errors), status_code=status,
                            media_type=open311_xml.CONTENT_TYPE)
        return JSONResponse(errors, status_code=status)
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _describe(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body",)) or "request"
    return f"{where}: {first.get('msg', 'invalid')}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServerError)
    async def _server_error(request: Request, exc: ServerError) -> Response:
        response = error_response(request, exc.status_code, exc.code, exc.message)
        retry_after = getattr(exc, "retry_after_s", None)
        if retry_after is not None:  # a throttle says when to come back
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        status = 400 if request.url.path.startswith("/open311/") else 422
        return error_response(request, status, "invalid", _describe(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error")
        return error_response(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> Response:
        log.error("database unavailable on %s: %s", redact_path(request.url.path), exc.orig)
        return error_response(request, 503, "database_unavailable",
                              "the database is busy or unreachable; try again shortly")
