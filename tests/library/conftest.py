"""Library fixtures: the server's databases (SQLite and PostgreSQL), app and clock, plus the demo
catalog and a few residents enrolled as readers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from server.db import make_engine, session_factory
from server.library import services
from server.library.models import Patron
from server.library.rules import LendingPolicy
from server.models import Resident
from server.settings import ServerSettings
from tests.server.conftest import (  # the server's fixtures, found by pytest through this import
    CONFIG,
    FakeClock,
    app,
    client,
    clock,
    db_url,
    postgres_template,
    settings,
    sign_in,
    sqlite_template,
)

__all__ = ["CONFIG", "DEMO_CSV", "KIOSK", "POLICY", "FakeClock", "Readers", "add_resident",
           "app", "catalog", "client", "clock", "db", "db_url", "postgres_template", "readers",
           "settings", "sign_in", "sqlite_template"]

POLICY = LendingPolicy()
DEMO_CSV = CONFIG / "library-demo.csv"
KIOSK = {"X-Kiosk-Key": "development-kiosk-key"}


@pytest.fixture
def db(settings: ServerSettings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def add_resident(db: Session, *, address_as: str, phone: str | None) -> Resident:
    resident = Resident(address_as=address_as, phone=phone)
    db.add(resident)
    db.commit()
    return resident


@dataclass
class Readers:
    wang: Patron   # 王阿姨, PIN 1234
    li: Patron     # 李爷爷, PIN 5678
    zhou: Patron   # 周奶奶, no PIN (card only)


@pytest.fixture
def catalog(db: Session, clock: FakeClock) -> services.ImportReport:
    report = services.import_catalog(db, text=DEMO_CSV.read_text(encoding="utf-8"),
                                     now=clock())
    assert report.ok, report.rejected
    return report


@pytest.fixture
def readers(db: Session, clock: FakeClock) -> Readers:
    made = []
    for name, phone, pin in (("王阿姨", "13800001234", "1234"), ("李爷爷", "13900005678", "5678"),
                             ("周奶奶", "13700009999", None)):
        resident = add_resident(db, address_as=name, phone=phone)
        made.append(services.enrol_patron(db, resident_id=resident.id, now=clock(), pin=pin)[0])
    return Readers(*made)
