"""Backup and restore of the SQLite database while the system runs (``servicepoint db …``).

A writer thread keeps changing a migrated database the way a busy server would: each transaction
moves one unit between two accounts and records the move as a pair of rows. A consistent copy
therefore always has an unchanged total and only whole pairs, however the copy and the writes
interleave.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from server.backup import (
    DatabaseInUseError,
    NotABackupError,
    RestoreError,
    check_backup_file,
    database_holders,
    restore_sqlite,
)

TOTAL = 1000


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from server.db import make_engine, upgrade

    path = tmp_path_factory.mktemp("template") / "servicepoint.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE probe_account (name TEXT PRIMARY KEY, balance INTEGER NOT NULL);"
        "CREATE TABLE probe_move (n INTEGER NOT NULL, side TEXT NOT NULL);"
        f"INSERT INTO probe_account VALUES ('a', {TOTAL}), ('b', 0);")
    # Closing the last connection checkpoints the WAL into the file the tests copy.
    connection.close()
    return path


@pytest.fixture
def database(tmp_path: Path, migrated_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "servicepoint.db"
    path.parent.mkdir()
    shutil.copy(migrated_template, path)
    monkeypatch.setenv("SERVICEPOINT_DATABASE_URL", f"sqlite:///{path}")
    return path


class Writer(threading.Thread):
    """Moves units from a to b, one transaction at a time, until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stopping = threading.Event()
        self.moves = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        try:
            while not self.stopping.is_set():
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("UPDATE probe_account SET balance = balance - 1 "
                                   "WHERE name = 'a'")
                connection.execute("INSERT INTO probe_move VALUES (?, 'a')", (self.moves,))
                connection.execute("UPDATE probe_account SET balance = balance + 1 "
                                   "WHERE name = 'b'")
                connection.execute("INSERT INTO probe_move VALUES (?, 'b')", (self.moves,))
                connection.execute("COMMIT")
                self.moves += 1
        except BaseException as exc:  # surfaced by stop(), so a broken writer fails the test
            self.error = exc
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)
        if self.error:
            raise self.error


@pytest.fixture
def writer(database: Path) -> Iterator[Writer]:
    thread = Writer(database)
    thread.start()
    yield thread
    thread.stopping.set()
    thread.join(10)


def assert_consistent(path: Path) -> int:
    """Integrity, the invariant of the writer's transactions; return the number of moves."""
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        balances = dict(connection.execute("SELECT name, balance FROM probe_account"))
        assert balances["a"] + balances["b"] == TOTAL
        halves = connection.execute(
            "SELECT COUNT(*) FROM (SELECT n FROM probe_move GROUP BY n HAVING COUNT(*) != 2)"
        ).fetchone()[0]
        assert halves == 0
        moves = connection.execute("SELECT COUNT(DISTINCT n) FROM probe_move").fetchone()[0]
        assert moves == balances["b"]
    return int(moves)


def db(*argv: str) -> int:
    from server.cli import db as db_command

    return db_command(list(argv))


def wait_for_moves(writer: Writer, at_least: int) -> None:
    import time

    deadline = time.monotonic() + 10
    while writer.moves < at_least and time.monotonic() < deadline and writer.is_alive():
        time.sleep(0.005)
    if writer.error:
        raise writer.error
    assert writer.moves >= at_least


def test_backup_while_another_thread_writes_is_consistent(database: Path, writer: Writer,
                                                          tmp_path: Path) -> None:
    counts = []
    for i in range(3):
        wait_for_moves(writer, 50 * (i + 1))
        target = tmp_path / f"backup-{i}.db"
        assert db("backup", str(target)) == 0
        counts.append(assert_consistent(target))
    writer.stop()
    assert counts == sorted(counts) and counts[-1] > 0
    assert check_backup_file(tmp_path / "backup-0.db")  # a backup is something restore accepts


def test_restore_gives_the_backed_up_database_back(database: Path, writer: Writer,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    wait_for_moves(writer, 100)
    backup = tmp_path / "backup.db"
    assert db("backup", str(backup)) == 0
    wait_for_moves(writer, writer.moves + 100)  # the live database moves on after the backup
    writer.stop()
    backed_up = assert_consistent(backup)
    later = assert_consistent(database)
    assert later > backed_up

    assert db("restore", str(backup)) == 0

    assert assert_consistent(database) == backed_up
    out = capsys.readouterr().out
    assert "checking" in out and "running the migrations" in out and "100%" in out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith(f"restored {backup} into {database}")
    # The database it replaced is kept beside it, whole.
    kept = sorted(database.parent.glob("servicepoint.before-restore-*.db"))
    assert len(kept) == 1 and str(kept[0]) in summary
    assert assert_consistent(kept[0]) == later
    assert_migrated(database)


def assert_migrated(path: Path) -> None:
    from alembic.script import ScriptDirectory

    from server.db import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config(f"sqlite:///{path}")).get_heads())
    with sqlite3.connect(path) as connection:
        current = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    assert current == heads


def test_restore_runs_the_migrations_after(database: Path, tmp_path: Path) -> None:
    from alembic import command

    from server.db import alembic_config

    old = tmp_path / "old-version.db"
    command.upgrade(alembic_config(f"sqlite:///{old}"), "0001")  # a backup from an older release
    assert db("restore", str(old)) == 0
    assert_migrated(database)


@pytest.fixture
def holder(database: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process with the database open, as a running server has."""
    code = ("import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(database)!r})\n"
            "c.execute('SELECT COUNT(*) FROM probe_move').fetchone()\n"
            "print('open', flush=True)\n"
            "time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "open"
    yield process
    process.kill()
    process.wait()


def test_restore_refuses_while_a_server_has_the_database_open(
        database: Path, tmp_path: Path, holder: subprocess.Popen[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert [h.pid for h in database_holders(database)] == [holder.pid]
    backup = tmp_path / "backup.db"
    assert db("backup", str(backup)) == 0
    before = database.read_bytes()

    assert db("restore", str(backup)) == 1

    out = capsys.readouterr().out
    assert f"in use by pid {holder.pid}" in out and "--force" in out
    assert "systemctl stop servicepoint-server" in out
    assert database.read_bytes() == before
    assert not list(database.parent.glob("*.before-restore-*"))

    assert db("restore", "--force", str(backup)) == 0
    assert_consistent(database)


@pytest.mark.parametrize("content", [b"", b"not a database at all", None])
def test_restore_refuses_what_is_not_a_servicepoint_database(
        database: Path, tmp_path: Path, content: bytes | None,
        capsys: pytest.CaptureFixture[str]) -> None:
    candidate = tmp_path / "candidate.db"
    if content is None:  # a SQLite database, but some other program's
        with sqlite3.connect(candidate) as connection:
            connection.execute("CREATE TABLE photos (id INTEGER)")
    else:
        candidate.write_bytes(content)
    before = database.read_bytes()
    assert db("restore", str(candidate)) == 1
    assert "restore refused" in capsys.readouterr().out
    assert database.read_bytes() == before
    assert not list(database.parent.glob("*.before-restore-*"))
    with pytest.raises(NotABackupError):
        check_backup_file(candidate)


def test_failed_migrations_put_the_database_back(database: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.db"
    shutil.copy(database, backup)
    with sqlite3.connect(backup) as connection:
        connection.execute("INSERT INTO probe_move VALUES (-1, 'x')")  # tell the two apart

    def broken_migrations() -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RestoreError, match="put back"):
        restore_sqlite(database=database, source=backup, migrate=broken_migrations,
                       now=lambda: datetime(2026, 3, 1, 12, 0, 0), holders=lambda path: [])
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM probe_move WHERE n = -1").fetchone()[0] == 0
    assert (database.parent / "servicepoint.before-restore-20260301-120000.db").exists()


def test_restore_refuses_the_live_database_itself(database: Path) -> None:
    with pytest.raises(RestoreError, match="live database itself"):
        restore_sqlite(database=database, source=database, migrate=lambda: None)


def test_in_use_error_is_a_restore_error() -> None:
    assert issubclass(DatabaseInUseError, RestoreError)
    assert issubclass(NotABackupError, ValueError)


def test_restore_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        db("restore", "--help")
    assert "Example: " in capsys.readouterr().out
