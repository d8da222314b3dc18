"""Schema-driven fuzzing of the whole HTTP API: whatever arrives, the answer is never a 5xx,
and every refusal carries a JSON body that says what was wrong.

Schemathesis generates valid and invalid requests for every operation in the OpenAPI schema.
It runs signed in as an admin (to reach past the sign-in checks) and anonymously.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from defusedxml import ElementTree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from server.app import create_app
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


OPERATIONS = _operations()
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def _check_reply(case: schemathesis.Case, headers: dict[str, str] | None) -> None:
    response = case.call(headers=headers)
    assert response.status_code < 500, (
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
