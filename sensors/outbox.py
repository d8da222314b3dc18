"""The on-disk outbox: every reading and event waits here until the broker has acknowledged it.

paho keeps unsent messages in memory only, so anything that must survive a crash, a power cut or
a long broker outage is written here first (SQLite in WAL mode, one file per node in the data
folder). A row leaves only when its PUBACK arrived. Rows go out in sequence order.

The sequence number is allocated in the same transaction that stores the row, so the numbers a
node uses are gap-free and keep rising across restarts. The only gaps a listener can see come
from the size bound:

Bound policy: past ``max_rows`` rows, periodic readings (state and health) are thinned out,
oldest first, by dropping every second one (down to 10 % under the bound), so a long outage is
kept at a coarser resolution rather than cut off. Events are never dropped; if only events are
left the outbox grows past the bound (and says so in the log). A full disk gets the same policy:
periodic readings give way until the new row fits, from a low-water mark of free space on, and
with a space reserve (:mod:`sensors.reserve`) given back when SQLite says the disk is full
(see :meth:`Outbox.add`).

The epoch: the numbers count within one outbox. A node whose outbox file was lost, emptied or
replaced starts again at 1, which a listener would take for replays of what it already has. So
each outbox begins a new epoch, kept in the outbox and, apart from it, in a small epoch file
next to it (``sensors-<node>.epoch``); a new outbox takes an epoch above the file's and above
the wall clock in seconds (so even a wiped data folder gives a new one), every message carries
it, and listeners key on (node, epoch, seq). An outbox made before epochs keeps epoch 0.

A damaged outbox (truncated, garbage) found at start is moved aside as
``<file>.damaged-<UTC time>`` (:mod:`foundation.damaged`, said in the log naming both files), a
new one begins (a new epoch), and the messages that can still be read from the old one are
queued in it, as they were encoded.

A little over 400 lines: the row bound, the full disk and the epoch all act inside the one
write transaction that stores a row, so they stay in the class that owns it.

One process at a time: the outbox takes an exclusive lock on ``<file>.lock``; the OS releases it
when the process dies, even by kill -9.

    outbox = Outbox(data_dir / "sensors-pump-room.sqlite3", max_rows=100_000)
    seq = outbox.add(lambda seq: Outgoing(topic, encode(message_with(seq)), retain=True,
                                          periodic=True))
    rows = outbox.after(0, limit=50); outbox.remove([r.seq for r in rows])
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from foundation.damaged import readable_rows, set_aside_if_damaged
from foundation.errors import ServicepointError
from sensors.reserve import SpaceReserve
from sensors.throttle import LogThrottle

__all__ = ["Outbox", "OutboxBusy", "Outgoing", "Queued", "epoch_path", "outbox_path"]

log = logging.getLogger(__name__)

# One transaction, so a reader never sees the tables without their counters.
_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY,
    topic    TEXT    NOT NULL,
    payload  BLOB    NOT NULL,
    retain   INTEGER NOT NULL,
    periodic INTEGER NOT NULL,
    created  REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (name, value) VALUES ('last_seq', 0), ('thinned', 0);
-- Rows the broker acknowledged, kept a few minutes to be sent again after a reconnect (a broker
-- that lost power before saving lost them).
CREATE TABLE IF NOT EXISTS sent (
    seq      INTEGER PRIMARY KEY,
    payload  BLOB    NOT NULL,
    sent_at  REAL    NOT NULL
);
COMMIT;
"""


class OutboxBusy(ServicepointError, RuntimeError):
    """Another running process holds this outbox (two nodes configured with the same id?)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What to store: an encoded message and how it is published."""

    topic: str
    payload: bytes
    retain: bool
    periodic: bool


@dataclass(frozen=True, slots=True)
class Queued:
    """A stored row, ready to publish."""

    seq: int
    topic: str
    payload: bytes
    retain: bool


class Outbox:
    def __init__(self, path: Path | str, *, max_rows: int = 100_000,
                 keep_sent_s: float = 0.0, epoch_file: Path | str | None = None,
                 reserve_bytes: int = 256 * 1024) -> None:
        self.path = Path(path)
        self.epoch_file = Path(epoch_file) if epoch_file is not None else epoch_path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_rows = max_rows
        # How long an acknowledged row is kept for :meth:`recently_sent` (0: not kept).
        self.keep_sent_s = keep_sent_s
        self._lock_file = open(f"{self.path}.lock", "a+")  # noqa: SIM115 (held for our lifetime)
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise OutboxBusy(f"{self.path} is in use by another sensor process") from None
        self._lock = threading.Lock()
        # Set whenever a row is added, so the publisher wakes without polling.
        self.changed = threading.Event()
        # A truncated or garbage outbox is moved aside before SQLite trips on it (a traceback
        # naming no file, and a restart loop); what can be read of it is sent from the new one.
        aside = set_aside_if_damaged(self.path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a reading the node logged as stored survives a power cut too, not only a crash.
        # A few fsyncs a minute are nothing for the SD card.
        self._db.execute("PRAGMA synchronous=FULL")
        # A short WAL, copied into the database often and cut back after: on a full disk the
        # WAL cannot grow, so most of what is stored must already sit in the database file,
        # where the rows that give way leave pages free for new ones.
        self._db.execute(f"PRAGMA wal_autocheckpoint={_WAL_PAGES}")
        self._db.execute(f"PRAGMA journal_size_limit={_WAL_PAGES * 4096}")
        self._db.executescript(_SCHEMA)
        self.reserve = SpaceReserve(self.path.with_name(self.path.name.split(".", 1)[0]
                                                        + ".reserve"), size=reserve_bytes)
        self.reserve.ensure()
        self._adds_since_full = 0
        self._throttle = LogThrottle(log)
        self.epoch = self._open_epoch()
        if aside is not None:
            self._take_from(aside)
        self._depth = int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])
        self._depth_after_send: int | None = None

    def _open_epoch(self) -> int:
        """This outbox's epoch; a new one (said loudly if the node had another) when it is new."""
        db = self._db
        row = db.execute("SELECT value FROM counters WHERE name = 'epoch'").fetchone()
        recorded = _read_epoch(self.epoch_file)
        if row is not None:
            epoch = int(row[0])
            if recorded != epoch:  # the epoch file was lost or is stale: the outbox knows
                _write_epoch(self.epoch_file, epoch)
            return epoch
        last_seq = int(db.execute(
            "SELECT value FROM counters WHERE name = 'last_seq'").fetchone()[0])
        if last_seq > 0:
            epoch = 0  # an outbox from before epochs: its numbers carry on where they were
        else:
            epoch = max((recorded or 0) + 1, int(time.time()))
            if recorded is not None:
                log.warning("outbox %s is new, but this node has sent readings before (epoch "
                            "%d): its outbox was lost or replaced, and what it held unsent is "
                            "gone. A new sequence begins: epoch %d, seq from 1",
                            self.path, recorded, epoch)
            else:
                log.info("outbox %s: a new sequence begins (epoch %d)", self.path, epoch)
        # The file first: a crash between the two writes must not let a later outbox reuse it.
        _write_epoch(self.epoch_file, epoch)
        db.execute("INSERT INTO counters (name, value) VALUES ('epoch', ?)", (epoch,))
        return epoch

    def _take_from(self, aside: Path) -> None:
        """Queue what can be read of a damaged outbox, oldest first, ahead of anything new.
        Each payload is sent as it was encoded, under its old epoch and seq, so a listener
        that already has one drops it as a repeat."""
        # A damaged page can read back as rows of nothing: only whole messages are kept.
        rows = [r for r in readable_rows(aside, "outbox")
                if isinstance(r.get("topic"), str) and isinstance(r.get("payload"), bytes)
                and r.get("retain") in (0, 1) and r.get("periodic") in (0, 1)
                and isinstance(r.get("created"), float)]
        with self._lock, self._writing() as db:  # all of them queued, or none
            seq = int(db.execute(
                "SELECT value FROM counters WHERE name = 'last_seq'").fetchone()[0])
            for row in rows:
                seq += 1
                db.execute("INSERT INTO outbox (seq, topic, payload, retain, periodic, created)"
                           " VALUES (?, ?, ?, ?, ?, ?)",
                           (seq, row["topic"], row["payload"], row["retain"], row["periodic"],
                            row["created"]))
            db.execute("UPDATE counters SET value = ? WHERE name = 'last_seq'", (seq,))
        log.error("outbox %s was damaged: %d messages read from %s are queued to send again",
                  self.path, len(rows), aside.name)

    # ------------------------------------------------------------------ writing
    def add(self, make: Callable[[int], Outgoing]) -> int:
        """Store the message ``make(seq)`` under the next sequence number; return that number.

        On a full disk (SQLITE_FULL) periodic readings give way, as under the row bound, and the
        message is stored in the room they leave. Only when nothing periodic is left does the
        error reach the caller: ``sqlite3.OperationalError('database or disk is full')``.
        """
        with self._lock:
            if self._low_on_space():
                # Nearly full: make room before the disk is, while deletes and checkpoints can
                # still be written; the rows that go leave free pages for the new ones.
                dropped = self._make_room(release_reserve=False)
                if dropped:
                    self._throttle.warning("low", "outbox %s: under %d KiB left on the disk; %d "
                                           "periodic readings gave way", self.path.name,
                                           _LOW_WATER // 1024, dropped)
            try:
                seq = self._add(make)
            except sqlite3.OperationalError as exc:
                if not _is_full(exc):
                    raise
                dropped = self._make_room()
                self._throttle.warning("full", "outbox %s: the disk is full (%s); %d periodic "
                                       "readings gave way", self.path.name, exc, dropped)
                if not dropped:
                    raise
                seq = self._add(make)
                self._adds_since_full = 0
            else:
                self._adds_since_full += 1
                if self._adds_since_full % 500 == 0 and not self.reserve.held:
                    # The disk has had room for a while: put the reserve back for next time.
                    self.reserve.ensure()
        self.changed.set()
        return seq

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. On any error it is rolled back and the depth counted again."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            # SQLite has already rolled back by itself after some errors (SQLITE_FULL among
            # them); a second ROLLBACK would raise and hide the real error.
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._depth = int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])
            raise

    def _add(self, make: Callable[[int], Outgoing]) -> int:
        with self._writing() as db:
            seq = int(db.execute(
                "SELECT value FROM counters WHERE name = 'last_seq'").fetchone()[0]) + 1
            item = make(seq)
            db.execute(
                "INSERT INTO outbox (seq, topic, payload, retain, periodic, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (seq, item.topic, item.payload, int(item.retain), int(item.periodic),
                 time.time()))
            db.execute("UPDATE counters SET value = ? WHERE name = 'last_seq'", (seq,))
            self._depth += 1
            if self._depth > self.max_rows:
                self._thin()
        return seq

    def _low_on_space(self) -> bool:
        """Under the low-water mark of free space, with no free page left in the file."""
        try:
            stats = os.statvfs(self.path.parent)
        except OSError:
            return False
        if stats.f_bavail * stats.f_frsize >= _LOW_WATER:
            return False
        return int(self._db.execute("PRAGMA freelist_count").fetchone()[0]) == 0

    def _make_room(self, *, release_reserve: bool = True) -> int:
        """Free at least one page of the file by thinning periodic readings, oldest first.

        First the space reserve goes and the WAL is copied into the database and cut back:
        on a truly full disk even a delete cannot be written until then. Dropping every second
        row leaves half-empty pages that SQLite does not give back, so the stretch is thinned
        again (a quarter, an eighth, ...) until a page is free; the oldest readings lose
        resolution first. Returns how many rows were dropped.
        """
        db = self._db
        if release_reserve:
            self.reserve.release()
        self._checkpoint()
        dropped = 0
        window = max(64, self._depth // 10)
        for _ in range(8):
            rows = [r[0] for r in db.execute(
                "SELECT seq FROM outbox WHERE periodic = 1 ORDER BY seq LIMIT ?", (window,))]
            victims = rows[1::2] if len(rows) > 1 else rows
            if not victims:
                break
            try:
                with self._writing():
                    db.executemany("DELETE FROM outbox WHERE seq = ?", [(v,) for v in victims])
                    db.execute("UPDATE counters SET value = value + ? WHERE name = 'thinned'",
                               (len(victims),))
            except sqlite3.OperationalError as exc:
                if not _is_full(exc):
                    raise
                break  # not even a delete fits: nothing more to do here
            dropped += len(victims)
            self._depth -= len(victims)
            self._checkpoint()
            if int(db.execute("PRAGMA freelist_count").fetchone()[0]) > 0:
                break
        return dropped

    def _checkpoint(self) -> None:
        """Copy the WAL into the database file and cut it back, if the disk lets us."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError as exc:
            log.debug("outbox %s: checkpoint failed: %s", self.path.name, exc)

    def _thin(self) -> None:
        """Drop every second periodic reading, oldest first, until 10 % under the bound.

        Going 10 % under (not just 1 row) makes thinning an occasional batch rather than a
        delete and a log line on every reading of a long outage.
        """
        excess = self._depth - (self.max_rows - max(1, self.max_rows // 10))
        dropped = 0
        while excess > 0:
            rows = [r[0] for r in self._db.execute(
                "SELECT seq FROM outbox WHERE periodic = 1 ORDER BY seq LIMIT ?",
                (2 * excess + 1,))]
            if len(rows) < 2:
                break
            victims = rows[1::2]  # keep the 1st, 3rd, ...: half resolution over that stretch
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in victims])
            dropped += len(victims)
            self._depth -= len(victims)
            excess -= len(victims)
        if dropped:
            self._db.execute("UPDATE counters SET value = value + ? WHERE name = 'thinned'",
                             (dropped,))
            log.warning("outbox over %d rows: thinned %d periodic readings", self.max_rows,
                        dropped)
        if self._depth > self.max_rows and self._depth % 1000 == 1:
            log.warning("outbox holds %d rows, over its bound of %d: only events left, all kept",
                        self._depth, self.max_rows)

    # ------------------------------------------------------------------ reading
    def after(self, seq: int, *, limit: int) -> list[Queued]:
        """The stored rows after ``seq``, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload, retain FROM outbox WHERE seq > ? ORDER BY seq "
                "LIMIT ?", (seq, limit)).fetchall()
        return [Queued(int(s), str(t), bytes(p), bool(r)) for s, t, p, r in rows]

    def remove(self, seqs: Iterable[int]) -> None:
        """Forget acknowledged rows: they are the broker's now. With ``keep_sent_s``, a copy of
        each is kept that long for :meth:`recently_sent`."""
        keys = [(s,) for s in seqs]
        if not keys:
            return
        with self._lock:
            try:
                self._remove(keys, keep=self.keep_sent_s > 0)
            except sqlite3.OperationalError as exc:
                if not (_is_full(exc) and self.keep_sent_s > 0):
                    raise
                # No room for the copies: the rows still have to go, or they would be sent
                # again and again. Only the resend after a broker's power cut is lost.
                log.warning("outbox %s: the disk is full (%s); acknowledged rows are not kept "
                            "for a resend", self.path.name, exc)
                self._remove(keys, keep=False)

    def _remove(self, keys: list[tuple[int]], *, keep: bool) -> None:
        with self._writing() as db:
            if keep:
                now = time.time()
                db.executemany("INSERT OR IGNORE INTO sent (seq, payload, sent_at) "
                               "SELECT seq, payload, ? FROM outbox WHERE seq = ?",
                               [(now, seq) for (seq,) in keys])
                db.execute("DELETE FROM sent WHERE sent_at < ?", (now - self.keep_sent_s,))
            before = db.total_changes
            db.executemany("DELETE FROM outbox WHERE seq = ?", keys)
            self._depth -= db.total_changes - before

    def recently_sent(self, *, limit: int = 100_000) -> list[tuple[int, bytes]]:
        """(seq, payload) of the rows acknowledged in the last ``keep_sent_s``, oldest first."""
        if self.keep_sent_s <= 0:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, payload FROM sent WHERE sent_at >= ? ORDER BY seq LIMIT ?",
                (time.time() - self.keep_sent_s, limit)).fetchall()
        return [(int(seq), bytes(payload)) for seq, payload in rows]

    @property
    def depth(self) -> int:
        return self._depth

    @property
    def depth_after_send(self) -> int:
        """The depth the publisher saw when it had last sent all it could: what the node's
        health reports, so rows stored a moment ago (and gone a moment later) do not count.
        Before a publisher has run, the depth itself."""
        return self._depth if self._depth_after_send is None else self._depth_after_send

    def note_depth_after_send(self) -> None:
        """Called by the publisher when a round of sending is over."""
        self._depth_after_send = self._depth

    @property
    def last_seq(self) -> int:
        with self._lock:
            return int(self._db.execute(
                "SELECT value FROM counters WHERE name = 'last_seq'").fetchone()[0])

    @property
    def thinned(self) -> int:
        with self._lock:
            return int(self._db.execute(
                "SELECT value FROM counters WHERE name = 'thinned'").fetchone()[0])

    def close(self) -> None:
        if self._lock_file.closed:
            return
        with self._lock:
            self._db.close()
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
        finally:
            self._lock_file.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_WAL_PAGES = 32  # 128 KiB with SQLite's 4 KiB pages; well under the space reserve
# Below this much free space the outbox thins before storing, rather than wait for SQLITE_FULL:
# room for the WAL and a checkpoint, which a full disk no longer has.
_LOW_WATER = 2 * _WAL_PAGES * 4096


def _is_full(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc)


def outbox_path(data_dir: Path, node_id: str) -> Path:
    return Path(data_dir) / f"sensors-{node_id}.outbox.sqlite3"


def epoch_path(outbox: Path) -> Path:
    """The epoch file kept beside an outbox: ``sensors-pump-room.outbox.sqlite3`` ->
    ``sensors-pump-room.epoch``."""
    return outbox.with_name(outbox.name.split(".", 1)[0] + ".epoch")


def _read_epoch(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("epoch file %s cannot be read (%s); taking a new epoch", path, exc)
        return None


def _write_epoch(path: Path, epoch: int) -> None:
    """Write the epoch file whole or not at all (a new file renamed over the old, synced)."""
    part = path.with_name(path.name + ".new")
    with open(part, "w", encoding="ascii") as handle:
        handle.write(f"{epoch}\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(part, path)

