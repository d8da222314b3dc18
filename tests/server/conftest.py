"""Server fixtures: a migrated, seeded database on SQLite and on a real PostgreSQL server, an
app on it with a clock the test controls, and signed-in clients for the demo users."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.db import make_engine, session_factory, upgrade
from server.services.categories import load_category_specs, sync_categories
from server.services.site_data import apply_site_data, load_site_data
from server.settings import ServerSettings, load_server_settings
from tests.conftest import REPO

CONFIG = REPO / "config"
PASSWORDS = {"admin": "admin-demo", "staff": "staff-demo", "leader1": "leader-demo",
             "leader2": "leader-demo", "lijianguo": "volunteer-demo",
             "chenguoqing": "volunteer-demo", "zhouweidong": "volunteer-demo"}


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def _prepare(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        sync_categories(db, specs=load_category_specs(CONFIG / "categories.toml"))
        apply_site_data(db, data=load_site_data(CONFIG / "demo-site.toml"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _prepare(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster) -> str:  # type: ignore[no-untyped-def]
    # A unique name: a conftest that imports this fixture gets its own instance of it, and both
    # share the worker's cluster.
    name = f"sp_template_{uuid.uuid4().hex[:8]}"
    postgres_cluster.execute_autocommit(f"CREATE DATABASE {name}")
    _prepare(postgres_cluster.url(name))
    return name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated database with the demo site, on each backend in turn."""
    if request.param == "sqlite":
        target = tmp_path / "servicepoint.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    cluster = request.getfixturevalue("postgres_cluster")
    template = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    cluster.execute_autocommit(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield cluster.url(name)
    cluster.execute_autocommit(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> ServerSettings:
    return load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": db_url,
        "SERVICEPOINT_DATA_DIR": str(tmp_path / "data"),
        "SERVICEPOINT_ENVIRONMENT": "test",
    })


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: ServerSettings, clock: FakeClock):  # type: ignore[no-untyped-def]
    application = create_app(settings, clock=clock, background=False)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


def sign_in(client: TestClient | httpx.Client, username: str) -> dict[str, str]:
    reply = client.post("/api/v1/auth/login",
                        json={"username": username, "password": PASSWORDS[username]})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def file_request(client: TestClient, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "client_id": uuid.uuid4().hex, "category": "water_electric",
        "unit_code": "C01-B01-U1", "answers": {"problem": "leak"},
        "contact_name": "王阿姨", "contact_phone": "13800001234", "channel": "kiosk",
    }
    body.update(overrides)
    reply = client.post("/api/v1/requests", json=body)
    assert reply.status_code in (200, 201), reply.text
    return reply.json()  # type: ignore[no-any-return]
