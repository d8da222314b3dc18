"""Schema-driven fuzzing of the whole HTTP API: whatever arrives, the answer is never a 5xx,
and every refusal carries a JSON body that says what was wrong.

Schemathesis generates valid and invalid requests for every operation in the OpenAPI schema.
It runs signed in as an admin (to reach past the sign-in checks) and anonymously. Dates and
date-times are drawn with the ends of Python's calendar mixed in (year 1, year 9999, offsets
that push them over the edge), and every body is also sent chunked, with no declared length,
and once too large (issue 14).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from defusedxml import ElementTree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from server.app import create_app
from server.dates import EARLIEST, LATEST
from server.settings import load_server_settings
from tests.server.conftest import CONFIG, FakeClock


@pytest.fixture(scope="module")
def fuzz_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    workdir = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, workdir / "servicepoint.db")
    app_settings = load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": f"sqlite:///{workdir / 'servicepoint.db'}",
        "SERVICEPOINT_DATA_DIR": str(workdir), "SERVICEPOINT_ENVIRONMENT": "test"})
    app = create_app(app_settings, clock=FakeClock(), background=False)
    # Fuzzing hammers token lookups; the rate limit is tested on its own elsewhere.
    app.state.track_limiter.limit = 10**9
    app.state.filing_limiters.per_address.limit = 10**9  # and so is the filing limit
    with TestClient(app) as client:  # runs start-up: categories synced
        token = client.post("/api/v1/auth/login", json={"username": "admin",
                                                         "password": "admin-demo"}).json()
        app.state.fuzz_headers = {"Authorization": f"Bearer {token['access_token']}"}
        yield app
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_app):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def _operations() -> list[tuple[str, str]]:
    """Every (path, method) in the schema, read at collection time (no database needed)."""
    app = create_app(load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": "sqlite:///:memory:"}))
    loaded = schemathesis.openapi.from_dict(app.openapi())
    return [(op.path, op.method.upper()) for op in
            (result.ok() for result in loaded.get_all_operations())]


# The ends of time: each of these once answered 500 (an OverflowError further in).
EXTREME_MOMENTS = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                   "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59+14:00",
                   "2101-01-01T00:00:00-12:00"]
EXTREME_DAYS = ["0001-01-01", "9999-12-31", "1969-12-31", "2101-01-01",
                EARLIEST.isoformat(), LATEST.isoformat()]
_any_moment = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)),
                                                      timezone(timedelta(hours=-12))]))
schemathesis.openapi.format("date-time", st.one_of(
    st.sampled_from(EXTREME_MOMENTS), _any_moment.map(lambda d: d.isoformat())))
schemathesis.openapi.format("date", st.one_of(st.sampled_from(EXTREME_DAYS),
                                              st.dates().map(lambda d: d.isoformat())))

OPERATIONS = _operations()
WITH_BODY = [(p, m) for p, m in OPERATIONS if m in ("POST", "PUT", "PATCH")]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


# Deliberate 503s docs/API.md names (the kiosk then shows the phone number): not server errors.
DOCUMENTED_503 = {"nobody_on_duty"}


def _server_error(status: int, text: str) -> bool:
    if status == 503:
        try:
            return json.loads(text)["error"]["code"] not in DOCUMENTED_503
        except (ValueError, KeyError, TypeError):
            return True
    return status >= 500


def _check_reply(case: schemathesis.Case, headers: dict[str, str] | None) -> None:
    response = case.call(headers=headers)
    assert not _server_error(response.status_code, response.text), (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")
    if response.status_code >= 400:
        if case.path.startswith("/open311/") and case.formatted_path.endswith(".xml"):
            error = ElementTree.fromstring(response.content).find("error")
            assert error.findtext("code") == str(response.status_code)
            assert error.findtext("description")
            return
        body = json.loads(response.text)
        if case.path.startswith("/open311/"):
            assert body[0]["code"] == response.status_code and body[0]["description"]
        else:
            assert body["error"]["code"] and body["error"]["message"]


def _fuzz(schema: Any, path: str, method: str, headers: dict[str, str] | None,
          examples: int) -> None:
    operation = schema[path][method]
    strategy = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in MODES))

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        _check_reply(case, headers)

    run()


@pytest.mark.parametrize(("path", "method"), OPERATIONS,
                         ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_signed_in_admin_never_gets_a_server_error(api_schema, fuzz_app, path: str,  # type: ignore[no-untyped-def]
                                                   method: str) -> None:
    _fuzz(api_schema, path, method, fuzz_app.state.fuzz_headers, examples=30)


@pytest.mark.parametrize(("path", "method"), OPERATIONS,
                         ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_anonymous_caller_never_gets_a_server_error(api_schema, path: str,  # type: ignore[no-untyped-def]
                                                    method: str) -> None:
    _fuzz(api_schema, path, method, None, examples=10)


def _encoded(case: schemathesis.Case) -> tuple[bytes, str] | None:
    """The case's body as bytes and its content type, or None when it has none to send."""
    body = case.body
    if body is None or isinstance(body, schemathesis.core.NotSet):
        return None
    if case.media_type == "application/x-www-form-urlencoded" and isinstance(body, dict):
        return urlencode({k: str(v) for k, v in body.items()}).encode(), case.media_type
    return json.dumps(body, ensure_ascii=False).encode(), "application/json"


def _chunks(data: bytes, size: int = 7) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.parametrize(("path", "method"), WITH_BODY, ids=[f"{m} {p}" for p, m in WITH_BODY])
def test_chunked_bodies_never_get_a_server_error(api_schema, fuzz_app, path: str,  # type: ignore[no-untyped-def]
                                                 method: str) -> None:
    """The same bodies, sent in small chunks with no Content-Length; and one too large."""
    from fastapi.testclient import TestClient

    operation = api_schema[path][method]
    client = TestClient(fuzz_app)

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=10, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        encoded = _encoded(case)
        if encoded is None:
            return
        data, content_type = encoded
        reply = client.request(method, case.formatted_path, params=case.query,
                               content=_chunks(data),
                               headers={**fuzz_app.state.fuzz_headers,
                                        "content-type": content_type})
        assert "content-length" not in reply.request.headers
        assert not _server_error(reply.status_code, reply.text), (
            f"{method} {case.formatted_path}: {reply.text[:300]}")

    run()
    huge = b"[" + b" " * (70 * 1024) + b"]"
    somewhere = re.sub(r"\{(\w+)\}", lambda m: "json" if m.group(1) == "fmt" else "1", path)
    reply = client.request(method, somewhere,
                           content=_chunks(huge, 4096),
                           headers={"content-type": "application/json"})  # anonymous: an
    # earlier example may have signed the admin out, and the bound must hold before sign-in
    assert reply.status_code < 500, reply.text[:300]
    if operation.body:  # a route that reads a body refuses this one before anything else
        assert reply.status_code == 413, reply.text[:300]
        assert "larger than" in reply.text
