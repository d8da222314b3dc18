"""Damaged SQLite files kept on a device (the kiosk's outbox, a node's outbox): found at start,
moved aside, and read for whatever can still be read.

A power cut on a cheap SD card, a full disk or a careless copy can leave such a file truncated
or full of garbage. Opening it anyway fails deep inside SQLite with a traceback that names no
file, and the service manager restarts the program into the same failure for ever. Instead the
owner of the file calls :func:`set_aside_if_damaged` before opening it: a damaged file (and its
``-wal``/``-shm``) is renamed to ``<name>.damaged-<UTC time>``, the log says so naming both
files, and the owner starts a new file and copies into it what :func:`readable_rows` finds in
the old one. Nothing here knows the tables; the kiosk's and the node's outboxes name them.

    aside = set_aside_if_damaged(path)       # None: the file is missing or sound
    if aside is not None:
        rows = readable_rows(aside, "outbox") # dicts by column name, in rowid order
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["problem_of", "readable_rows", "set_aside_if_damaged"]

log = logging.getLogger(__name__)

_MAGIC = b"SQLite format 3\x00"


def problem_of(path: Path) -> str | None:
    """What is wrong with the SQLite file at ``path``; None when it is missing or sound."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if size == 0:
        # SQLite writes its header as soon as it makes a file; an empty one was cut to nothing.
        return "empty (truncated to 0 bytes)"
    if len(header) < 100 or not header.startswith(_MAGIC):
        return "not a SQLite database (garbage or truncated header)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is trusted only while its change counter is current.
    if header[24:28] == header[92:96] and pages and page_size * pages > size:
        return f"truncated ({size} of {page_size * pages} bytes)"
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            found = [str(r[0]) for r in db.execute("PRAGMA quick_check(5)")]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return f"unreadable by SQLite: {exc}"
    return None if found == ["ok"] else "corrupt: " + "; ".join(found)


def set_aside_if_damaged(path: Path) -> Path | None:
    """Move a damaged file aside (with its -wal and -shm); return where it went, or None."""
    path = Path(path)
    problem = problem_of(path)
    if problem is None:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    log.error("%s is damaged (%s): moved aside to %s; a new one is started and what can be "
              "read of the old one is kept", path, problem, aside.name)
    return aside


def readable_rows(path: Path, table: str) -> list[dict[str, Any]]:
    """The rows of ``table`` that can still be read, in rowid order (none if it cannot be).

    A table is read from both ends, so rows on either side of a damaged page are kept."""
    try:
        db = sqlite3.connect(path, timeout=10)
    except sqlite3.DatabaseError:
        return []
    rows: dict[int, dict[str, Any]] = {}
    try:
        # Lets SQLite open a file shorter than its header says (it reads the pages that are
        # there); the file is only read.
        with contextlib.suppress(sqlite3.DatabaseError):
            db.execute("PRAGMA writable_schema=ON")
        for order in ("ASC", "DESC"):
            try:
                cursor = db.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid {order}")
                names = [d[0] for d in cursor.description][1:]
                for row in cursor:
                    if row[0] in rows:
                        break
                    rows[row[0]] = dict(zip(names, row[1:], strict=True))
            except sqlite3.DatabaseError:
                continue  # read up to the damage; the other direction reads past it
    finally:
        db.close()
    return [rows[k] for k in sorted(rows)]
