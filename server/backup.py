"""Safe copies and restores of the SQLite database while the system runs.

Copies go through SQLite's online backup API, never a file copy: the server keeps the database in
WAL mode, so the newest rows may still sit in ``servicepoint.db-wal``, and the API gives a
consistent snapshot while other connections keep writing.

A restore (``servicepoint db restore FILE``, wired in server/cli.py):

1. checks FILE is a SQLite database of servicepoint (integrity, the migrations table, core tables);
2. refuses while another process has the database open (a running server), unless forced;
3. keeps the current database as ``<name>.before-restore-<timestamp>.db`` beside it;
4. copies FILE into the live database, again through the backup API;
5. runs the migrations (``migrate``, passed in by the server's CLI so this module imports nothing
   of the server), and puts the kept copy back if they fail.

::

    report = restore_sqlite(database=Path("data/servicepoint.db"), source=Path("backup.db"),
                            migrate=lambda: upgrade(make_engine(url)))

Errors::

    ServicepointError
    └── RestoreError(RuntimeError)          nothing was changed (or it was put back); str() says why
        ├── NotABackupError(ValueError)     the file is not a servicepoint SQLite database
        └── DatabaseInUseError              another process has the database open
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from foundation.errors import ServicepointError

__all__ = [
    "DatabaseInUseError",
    "attachments_beside",
    "copy_new_files",
    "drop_gone_files",
    "Holder",
    "NotABackupError",
    "RestoreError",
    "RestoreReport",
    "copy_sqlite",
    "database_holders",
    "check_backup_file",
    "restore_sqlite",
    "run_restore",
]

log = logging.getLogger(__name__)

_SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables every servicepoint database has had since its first migration.
CORE_TABLES = frozenset({"alembic_version", "tickets", "users", "categories"})
# Pages per step of the backup API: the source is read-locked only for one step at a time, so a
# writer waits milliseconds, not the whole copy.
_PAGES_PER_STEP = 512

Progress = Callable[[str], None]


class RestoreError(ServicepointError, RuntimeError):
    """The restore did not happen (or was undone); the message says why and what to do."""


class NotABackupError(RestoreError, ValueError):
    """The file to restore from is not a servicepoint SQLite database."""


class DatabaseInUseError(RestoreError):
    """Another process (normally the server) has the database open."""


@dataclass(frozen=True)
class Holder:
    """A process that has the database file open."""

    pid: int
    command: str


@dataclass(frozen=True)
class RestoreReport:
    database: Path
    source: Path
    kept_copy: Path | None
    revisions: tuple[str, ...]
    pages: int


def _quiet(_line: str) -> None:
    pass


def copy_sqlite(source: Path, target: Path, *, progress: Progress = _quiet) -> int:
    """Copy one SQLite database onto another with the online backup API; return the page count.

    The target may be a live database: the API writes through a normal connection, so its WAL
    stays consistent and its readers see either the old or the new content.
    """
    total = 0
    shown = -1

    def step(_status: int, remaining: int, pages: int) -> None:
        nonlocal total, shown
        total = pages
        percent = 100 * (pages - remaining) // pages if pages else 100
        if percent // 25 != shown // 25:  # a line at 0, 25, 50, 75 and 100 %, not per step
            shown = percent
            progress(f"  copying {source.name} -> {target.name}: {percent}% of {pages} pages")

    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            dst.execute("PRAGMA busy_timeout=30000")
            src.backup(dst, pages=_PAGES_PER_STEP, progress=step)
        finally:
            dst.close()
    finally:
        src.close()
    return total


def check_backup_file(path: Path) -> tuple[str, ...]:
    """Return the migration revisions of a servicepoint backup; raise NotABackupError otherwise."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        raise NotABackupError(f"{path} does not exist") from None
    except OSError as exc:
        raise NotABackupError(f"{path} cannot be read: {exc.strerror}") from None
    if magic != _SQLITE_MAGIC:
        raise NotABackupError(f"{path} is not a SQLite database")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = CORE_TABLES - tables
            if verdict != "ok":
                raise NotABackupError(f"{path} is damaged: {verdict}")
            if missing:
                raise NotABackupError(f"{path} is a SQLite database but not servicepoint's "
                                      f"(no {', '.join(sorted(missing))} table)")
            revisions = tuple(row[0] for row in connection.execute(
                "SELECT version_num FROM alembic_version ORDER BY version_num"))
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise NotABackupError(f"{path} cannot be read as a SQLite database: {exc}") from None
    if not revisions:
        raise NotABackupError(f"{path} has no migration revision recorded")
    return revisions


def database_holders(database: Path) -> list[Holder]:
    """Other processes with the database (or its WAL) open, from /proc; empty where unknown."""
    names = {str(database.resolve()), str(database.resolve()) + "-wal"}
    found: list[Holder] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # gone, or another user's process we may not look into
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in names:
                try:
                    command = (entry / "cmdline").read_bytes().replace(b"\x00", b" ")
                    text = command.decode(errors="replace").strip()
                except OSError:
                    text = "?"
                found.append(Holder(int(entry.name), text[:120]))
                break
    return found


def _kept_name(database: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    return database.with_name(f"{database.stem}.before-restore-{stamp}{database.suffix or '.db'}")


def restore_sqlite(
    *,
    database: Path,
    source: Path,
    migrate: Callable[[], None],
    force: bool = False,
    now: Callable[[], datetime] = datetime.now,
    holders: Callable[[Path], list[Holder]] = database_holders,
    progress: Progress = _quiet,
) -> RestoreReport:
    """Replace ``database`` with the backup ``source``; see the module docstring for the steps."""
    database = Path(database)
    source = Path(source)
    if source.exists() and database.exists() and source.resolve() == database.resolve():
        raise RestoreError(f"{source} is the live database itself; give a backup file")
    progress(f"checking {source}")
    revisions = check_backup_file(source)
    progress(f"  a servicepoint database at revision {', '.join(revisions)}")
    users = holders(database) if database.exists() else []
    if users and not force:
        who = ", ".join(f"pid {h.pid} ({h.command})" for h in users)
        raise DatabaseInUseError(
            f"{database} is in use by {who}. Stop it first (sudo systemctl stop "
            "servicepoint-server), or pass --force to restore under it anyway")
    if users:
        log.warning("restoring %s while %d other process(es) have it open (--force)",
                    database, len(users))
    kept: Path | None = None
    if database.exists():
        kept = _kept_name(database, now())
        progress(f"keeping the current database as {kept}")
        copy_sqlite(database, kept, progress=progress)
    database.parent.mkdir(parents=True, exist_ok=True)
    progress(f"restoring {source} into {database}")
    pages = copy_sqlite(source, database, progress=progress)
    progress("running the migrations")
    try:
        migrate()
    except Exception as exc:
        log.exception("migrations failed after restoring %s", source)
        if kept is not None:
            copy_sqlite(kept, database)
            raise RestoreError(f"the migrations failed ({exc}); the database was put back as it "
                               f"was (also kept in {kept})") from exc
        raise RestoreError(f"the migrations failed after the restore: {exc}") from exc
    log.info("restored %s from %s (%d pages, previous kept in %s)", database, source, pages, kept)
    return RestoreReport(database=database, source=source, kept_copy=kept,
                         revisions=revisions, pages=pages)


def attachments_beside(backup_file: Path) -> Path:
    """Where the stored files (photos, recordings) of the backups in a folder go: one shared
    ``attachments/`` beside them. A stored file never changes under its key, so each backup
    adds only the new ones, and every dated database copy finds all the files it names."""
    return Path(backup_file).parent / "attachments"


def copy_new_files(source: Path, target: Path) -> int:
    """Copy the files under ``source`` that ``target`` lacks (same layout); return how many.

    Backups: the attachment store into the backups' folder, after the database copy (so every
    file the copy names is there). Restores: back into the store. Each file lands under a
    temporary name first and is renamed into place, so a cut-off copy leaves no half file."""
    if not source.is_dir():
        return 0
    copied = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        destination = target / path.relative_to(source)
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.with_name(f".incoming-{destination.name}")
        shutil.copyfile(path, temporary)
        os.replace(temporary, destination)
        copied += 1
    return copied


def drop_gone_files(source: Path, target: Path) -> int:
    """Remove the files under ``target`` that ``source`` no longer has; return how many.

    Backups mirror the attachment store: a photo erased on purpose (its retention period ended,
    a resident asked) leaves the backups at the next one too, instead of living on there."""
    if not target.is_dir():
        return 0
    dropped = 0
    for path in sorted(target.rglob("*")):
        if path.is_file() and not (source / path.relative_to(target)).exists():
            path.unlink()
            dropped += 1
    return dropped


def _say(line: str) -> None:
    # Progress and the summary are the command's output for the person at the terminal.
    print(line, flush=True)  # noqa: T201


def run_restore(*, database_url: str, source: Path, migrate: Callable[[], None],
                force: bool = False) -> int:
    """``servicepoint db restore FILE [--force]``: print progress and a one-line summary."""
    if not database_url.startswith("sqlite"):
        log.error("restore is for SQLite; for PostgreSQL use pg_restore")
        return 2
    path = database_url.split("///", 1)[-1]
    if not path or path == ":memory:":
        log.error("the database URL %s names no file", database_url)
        return 2
    try:
        report = restore_sqlite(database=Path(path), source=source, migrate=migrate, force=force,
                                progress=_say)
    except RestoreError as exc:
        _say(f"restore refused: {exc}.")
        return 1
    kept = f"; the previous one is kept as {report.kept_copy}" if report.kept_copy else ""
    _say(f"restored {report.source} into {report.database} ({report.pages} pages), schema up to "
         f"date{kept}. Restart the server: sudo systemctl restart servicepoint-server")
    return 0
