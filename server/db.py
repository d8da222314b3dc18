"""Database engine, sessions and migrations.

Nothing is built at import: ``make_engine(url)`` and ``session_factory(engine)`` are called by the
app factory and the commands with the URL from the settings. SQLite gets WAL, a busy timeout and
foreign keys, because the server, the backup command and the tests share one file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from server.sites.scoping import HOME_KEY, install

__all__ = ["alembic_config", "begin_for_savepoints", "make_engine", "session_factory", "upgrade",
           "normalise_url"]

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    # postgresql:// means psycopg 3 here; SQLAlchemy would otherwise look for psycopg2.
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if "poolclass" not in kwargs and "mode=memory" not in path:
                # Keep the connections the server's request slots use open: a connection past
                # the pool's size is closed when handed back, and a new one costs its PRAGMAs.
                kwargs.setdefault("pool_size", 12)
                kwargs.setdefault("max_overflow", 3)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def begin_for_savepoints(db: Session) -> None:
    """Begin the database transaction now, so SAVEPOINTs taken next nest inside it.

    Python's sqlite3 opens a transaction only before a write: a SAVEPOINT taken after nothing
    but reads would start a transaction of its own, and releasing it would commit everything
    so far, so a later rollback could not undo it. PostgreSQL needs nothing."""
    connection = db.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection \
            .in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN")


def session_factory(engine: Engine, *, home_site: str | None = None) -> sessionmaker[Session]:
    """Sessions with the site scoping of server/sites/scoping.py installed; ``home_site`` (the
    settings' ``[site] id``) is the site a new row takes when nothing else names one."""
    sessions = sessionmaker(engine, expire_on_commit=False,
                            info={HOME_KEY: home_site} if home_site else None)
    install(sessions)
    return sessions


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database schema up to the newest migration."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite's batch migrations rebuild a table (0709 on places others point at), and
            # its foreign keys refuse to drop a table rows refer to: off for the run, as
            # Alembic advises, and every key checked after.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            # "heads": parts of the server (library, sensor ingest) keep their own migration
            # branches off the initial schema.
            command.upgrade(config, "heads")
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"foreign keys broken after the migration: {broken[:5]}")
    log.info("database schema is current (%s tables)", len(inspect(engine).get_table_names()))
