"""`servicepoint db upgrade` brings any older database up to date, and the migrations describe
exactly the models (no drift)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import server.all_models  # noqa: F401
from server.db import make_engine, upgrade
from server.models import Base


def test_migrations_match_the_models_and_rerun_safely(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)  # already current: nothing to do, nothing breaks
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_an_empty_database_is_brought_up_to_date(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"tickets", "ticket_events", "service_requests", "volunteers",
            "alembic_version"} <= tables
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
