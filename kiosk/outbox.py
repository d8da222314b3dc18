"""The kiosk's outbox: every request a resident files is written here before it is sent.

A SQLite file in ``<data_dir>/kiosk/outbox.sqlite3`` (WAL, ``synchronous=FULL`` so a committed
request survives a power cut). Each row is a complete ``RequestCreate`` body with its
``client_id``, the kiosk's own ticket ``number`` (``<kiosk_id>-<4+ digits>`` from a sequence kept
in the same file) and a ``phone_token``. The number and token are chosen *before* the first send,
so the QR code a resident takes away is right whether the server answers now, times out after
having filed it, or is down for a day: the server's intake is idempotent on ``client_id``.

    outbox = Outbox(path, kiosk_id="K1")
    parcel = outbox.enqueue(body)          # durable from here on
    outbox.mark_delivered(parcel.client_id, number="K1-0042")
    outbox.pending()                       # what is still to send, oldest first

Safe to use from several threads (one connection behind a lock).

A damaged file (truncated, garbage) found at start is moved aside as
``outbox.sqlite3.damaged-<UTC time>`` (:mod:`foundation.damaged`, said in the log naming both
files), a new one is started, and every request and return that can still be read from the old
one is copied in, so a resident holding a QR code is not forgotten.

Library returns scanned at the kiosk are kept the same way, in the same file (:class:`ReturnBox`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from foundation.damaged import readable_rows, set_aside_if_damaged
from foundation.redact import short_hash

__all__ = ["KeptReturn", "Outbox", "Parcel", "ReturnBox"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    client_id   TEXT PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    phone_token TEXT NOT NULL,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | rejected
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
CREATE TABLE IF NOT EXISTS sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Parcel:
    """One request waiting in (or gone from) the outbox; ``body`` is what is POSTed."""

    client_id: str
    number: str
    phone_token: str
    body: dict[str, Any]
    state: str = "pending"
    attempts: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _KeptTable(Generic[T]):
    """One table of things kept on disk until the server has them, keyed by client id, with a
    state (pending | delivered | rejected), an attempt count and the last error. Subclasses
    name the table, its schema and columns, and build their rows."""

    _TABLE: ClassVar[str]
    _SCHEMA: ClassVar[str]
    _COLUMNS: ClassVar[str]

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # A truncated or garbage file is moved aside before SQLite trips on it (a traceback
        # naming no file, and a restart into the same failure for ever).
        aside = set_aside_if_damaged(self.path)
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(self._SCHEMA)
        # What was set aside at start (the damaged file's name), for the kiosk to say on screen.
        self.set_aside: Path | None = aside
        if aside is not None:
            self._take_from(aside)

    def _take_from(self, aside: Path) -> None:
        """Copy what can be read of a damaged file into the new one: requests and returns
        alike (they share the file, and the first table opened is the one that finds it),
        each in its state, and the number sequence so no number is given twice."""
        self._db.executescript(_SCHEMA + _RETURNS_SCHEMA)
        kept = {}
        for table in ("outbox", "returns", "sequence"):
            rows = [r for r in readable_rows(aside, table) if _whole(table, r)]
            for row in rows:
                names = ", ".join(row)
                marks = ", ".join("?" for _ in row)
                with contextlib.suppress(sqlite3.DatabaseError):
                    self._db.execute(f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})",
                                     tuple(row.values()))
            kept[table] = len(rows)
        numbers = [str(r[0]).rsplit("-", 1)[-1] for r in
                   self._db.execute("SELECT number FROM outbox").fetchall()]
        highest = max((int(n) for n in numbers if n.isdigit()), default=0)
        self._db.execute(
            "INSERT INTO sequence (name, value) VALUES ('number', ?) ON CONFLICT(name)"
            " DO UPDATE SET value = max(value, excluded.value)", (highest,))
        pending = self._db.execute(
            "SELECT (SELECT count(*) FROM outbox WHERE state = 'pending'),"
            " (SELECT count(*) FROM returns WHERE state = 'pending')").fetchone()
        log.error("kiosk outbox %s was damaged: %d requests and %d returns read from %s, "
                  "of which %d requests and %d returns are still to send", self.path,
                  kept["outbox"], kept["returns"], aside.name, pending[0], pending[1])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _row(self, row: tuple[Any, ...]) -> T:
        raise NotImplementedError

    def _select(self, where: str) -> str:
        return f"SELECT {self._COLUMNS} FROM {self._TABLE} WHERE {where}"

    def get(self, client_id: str) -> T | None:
        with self._lock:
            row = self._db.execute(self._select("client_id = ?"), (client_id,)).fetchone()
        return None if row is None else self._row(row)

    def pending(self) -> list[T]:
        with self._lock:
            rows = self._db.execute(
                self._select("state = 'pending'") + " ORDER BY rowid").fetchall()
        return [self._row(r) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(self._db.execute(
                f"SELECT COUNT(*) FROM {self._TABLE} WHERE state = 'pending'").fetchone()[0])

    def oldest_pending_at(self) -> datetime | None:
        """When the oldest row still to send was kept (None: nothing waits); the heartbeat's
        ``oldest_queued_s`` (kiosk/heartbeat.py)."""
        with self._lock:
            first = self._db.execute(
                f"SELECT min(created_at) FROM {self._TABLE} WHERE state = 'pending'").fetchone()
        return datetime.fromisoformat(first[0]) if first and first[0] else None

    def _set_rejected(self, client_id: str, reason: str) -> None:
        with self._lock:
            self._db.execute(
                f"UPDATE {self._TABLE} SET state = 'rejected', attempts = attempts + 1,"
                " last_error = ? WHERE client_id = ?", (reason[:500], client_id))

    def note_failure(self, client_id: str, *, reason: str) -> None:
        with self._lock:
            self._db.execute(
                f"UPDATE {self._TABLE} SET attempts = attempts + 1, last_error = ?"
                " WHERE client_id = ?", (reason[:500], client_id))


def _whole(table: str, row: dict[str, Any]) -> bool:
    """A row read back from a damaged file is kept only if it is whole (a damaged page can
    read back as rows of nothing, which the NOT NULL columns refuse, or as a broken body)."""
    if table != "outbox":
        return True
    try:
        return isinstance(json.loads(row.get("body") or ""), dict)
    except (TypeError, ValueError):
        return False


class Outbox(_KeptTable[Parcel]):
    _TABLE = "outbox"
    _SCHEMA = _SCHEMA
    _COLUMNS = "client_id, number, phone_token, body, state, attempts"

    def __init__(self, path: Path, *, kiosk_id: str) -> None:
        super().__init__(path)
        self.kiosk_id = kiosk_id

    def _row(self, row: tuple[Any, ...]) -> Parcel:
        return Parcel(client_id=row[0], number=row[1], phone_token=row[2],
                      body=json.loads(row[3]), state=row[4], attempts=row[5])

    def enqueue(self, body: dict[str, Any]) -> Parcel:
        """Keep ``body`` (which must carry a client_id) and give it a number and phone token.

        Enqueuing the same client_id again keeps the first number and token, so a resident who
        taps Send twice, or a kiosk that restarts mid-send, still gets one number. A parcel not
        yet delivered takes the newer body (the resident may have corrected it).
        """
        client_id = body.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("a request needs a client_id")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(self._select("client_id = ?"), (client_id,)).fetchone()
                if row is not None:
                    parcel = self._row(row)
                    if parcel.state != "delivered":
                        # Edited after a refusal (or after a restart mid-send): send what the
                        # resident sees now, under the number and token already shown to them.
                        body = {**body, "number": parcel.number, "phone_token": parcel.phone_token}
                        self._db.execute(
                            "UPDATE outbox SET body = ?, state = 'pending' WHERE client_id = ?",
                            (json.dumps(body, ensure_ascii=False), client_id))
                        parcel = Parcel(client_id=client_id, number=parcel.number,
                                        phone_token=parcel.phone_token, body=body,
                                        attempts=parcel.attempts)
                    self._db.execute("COMMIT")
                    return parcel
                seq = self._db.execute(
                    "SELECT value FROM sequence WHERE name = 'number'").fetchone()
                value = (seq[0] if seq else 0) + 1
                self._db.execute(
                    "INSERT OR REPLACE INTO sequence (name, value) VALUES ('number', ?)", (value,))
                number = f"{self.kiosk_id}-{value:04d}"
                token = secrets.token_urlsafe(32)
                full = {**body, "number": number, "phone_token": token}
                self._db.execute(
                    "INSERT INTO outbox (client_id, number, phone_token, body, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (client_id, number, token, json.dumps(full, ensure_ascii=False), _now()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        log.info("request %s kept in the outbox as %s", short_hash(client_id), number)
        return Parcel(client_id=client_id, number=number, phone_token=token, body=full)

    def mark_delivered(self, client_id: str, *, number: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state = 'delivered', sent_at = ?, attempts = attempts + 1,"
                " last_error = '' WHERE client_id = ?",
                (_now(), client_id),
            )
        log.info("request %s delivered (server number %s)", short_hash(client_id), number)

    def mark_rejected(self, client_id: str, *, reason: str) -> None:
        """The server refused it (4xx); sending again cannot help, so it stops here for staff."""
        self._set_rejected(client_id, reason)
        log.warning("request %s rejected by the server: %s", short_hash(client_id), reason)


_RETURNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS returns (
    client_id   TEXT PRIMARY KEY,
    copy_id     TEXT NOT NULL,
    returned_at TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | rejected
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL DEFAULT '',
    hand_to_staff INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
"""


@dataclass(frozen=True)
class KeptReturn:
    """A book dropped at the kiosk, kept until the server has checked it in."""

    client_id: str
    copy_id: str
    returned_at: str
    state: str = "pending"
    attempts: int = 0

    @property
    def body(self) -> dict[str, Any]:
        """The ``POST /returns`` body (docs/LIBRARY.md): applied once per client_id."""
        return {"client_id": self.client_id, "copy_id": self.copy_id,
                "returned_at": self.returned_at}


class ReturnBox(_KeptTable[KeptReturn]):
    """Returns scanned at the kiosk, in the same SQLite file as the requests' outbox.

    A return is written here before it is sent, with the time the book was dropped, so a return
    scanned while the server is away is checked in later with the right time, exactly once
    (the server's return is idempotent on the client id)::

        box = ReturnBox(path)
        kept = box.keep(client_id="kiosk-r-…", copy_id="LB-0001")
        box.mark_delivered(kept.client_id, title="…", hand_to_staff=False)
    """

    _TABLE = "returns"
    _SCHEMA = _RETURNS_SCHEMA
    _COLUMNS = "client_id, copy_id, returned_at, state, attempts"

    def _row(self, row: tuple[Any, ...]) -> KeptReturn:
        return KeptReturn(client_id=row[0], copy_id=row[1], returned_at=row[2], state=row[3],
                          attempts=row[4])

    def keep(self, *, client_id: str, copy_id: str, returned_at: datetime | None = None
             ) -> KeptReturn:
        """Keep a return (the same client id twice keeps the first)."""
        at = (returned_at or datetime.now(UTC)).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO returns (client_id, copy_id, returned_at, created_at)"
                " VALUES (?, ?, ?, ?)", (client_id, copy_id, at, _now()))
            row = self._db.execute(self._select("client_id = ?"), (client_id,)).fetchone()
        log.info("return %s of %s kept", short_hash(client_id), copy_id)
        return self._row(row)

    def mark_delivered(self, client_id: str, *, title: str, hand_to_staff: bool) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE returns SET state = 'delivered', sent_at = ?, attempts = attempts + 1,"
                " last_error = '', title = ?, hand_to_staff = ? WHERE client_id = ?",
                (_now(), title, int(hand_to_staff), client_id))
        log.info("return %s checked in%s", short_hash(client_id),
                 " (kept for a waiting reader: hand to staff)" if hand_to_staff else "")

    def mark_rejected(self, client_id: str, *, reason: str) -> None:
        """Refused (an unknown copy, a copy not on loan): the book goes to staff, not again."""
        self._set_rejected(client_id, reason)
        log.warning("return %s refused by the server: %s", short_hash(client_id), reason)

