"""The on-disk outbox: order, persisted sequence numbers, acknowledgement, the size bound."""

from __future__ import annotations

import pytest

from sensors.outbox import Outbox, OutboxBusy, Outgoing


def put(outbox: Outbox, topic: str = "t", periodic: bool = True) -> int:
    return outbox.add(lambda seq: Outgoing(topic, f"{seq}".encode(), True, periodic))


def test_sequence_survives_reopen_and_never_reuses_numbers(tmp_path):
    path = tmp_path / "o.sqlite3"
    with Outbox(path) as outbox:
        assert [put(outbox) for _ in range(3)] == [1, 2, 3]
        outbox.remove([1, 2, 3])
        assert outbox.depth == 0
    with Outbox(path) as outbox:
        assert put(outbox) == 4
        assert [(r.seq, r.payload) for r in outbox.after(0, limit=10)] == [(4, b"4")]


def test_rows_come_out_in_order_and_leave_only_when_removed(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        for _ in range(5):
            put(outbox)
        assert [r.seq for r in outbox.after(2, limit=2)] == [3, 4]
        outbox.remove([1, 3])
        assert [r.seq for r in outbox.after(0, limit=10)] == [2, 4, 5]
        assert outbox.depth == 3


def test_a_failing_builder_stores_nothing_and_uses_no_number(tmp_path):
    def boom(seq):
        raise ValueError("bad message")

    with Outbox(tmp_path / "o.sqlite3") as outbox:
        with pytest.raises(ValueError):
            outbox.add(boom)
        assert put(outbox) == 1 and outbox.depth == 1


def test_bound_thins_periodic_readings_and_keeps_every_event(tmp_path):
    with Outbox(tmp_path / "o.sqlite3", max_rows=10) as outbox:
        events = []
        for i in range(40):
            if i % 7 == 0:
                events.append(put(outbox, "event", periodic=False))
            else:
                put(outbox)
        rows = outbox.after(0, limit=100)
        assert outbox.depth == len(rows) <= 10
        assert [r.seq for r in rows if r.topic == "event"] == events  # all six events kept
        assert outbox.thinned == 40 - len(rows)
        assert rows[-1].seq == 40  # the newest reading is never the one dropped
        for _ in range(20):
            put(outbox, "event", periodic=False)
        assert outbox.depth > 10  # only events left: over the bound, and kept


def test_one_process_per_outbox(tmp_path):
    with Outbox(tmp_path / "o.sqlite3"), pytest.raises(OutboxBusy):
        Outbox(tmp_path / "o.sqlite3")


def test_acknowledged_rows_are_kept_for_a_while_to_be_sent_again(tmp_path, monkeypatch):
    import sensors.outbox as module

    now = [1000.0]
    monkeypatch.setattr(module.time, "time", lambda: now[0])
    path = tmp_path / "o.sqlite3"
    with Outbox(path, keep_sent_s=600) as outbox:
        for _ in range(4):
            put(outbox)
        outbox.remove([1, 2])
        now[0] += 300
        outbox.remove([3])
        assert outbox.depth == 1  # the kept copies are not waiting to be sent
        assert [r.seq for r in outbox.after(0, limit=10)] == [4]
        assert outbox.recently_sent() == [(1, b"1"), (2, b"2"), (3, b"3")]
    with Outbox(path, keep_sent_s=600) as outbox:  # kept on disk: a power cut does not lose them
        assert [seq for seq, _ in outbox.recently_sent()] == [1, 2, 3]
        now[0] += 301  # 1 and 2 are now older than the window
        assert [seq for seq, _ in outbox.recently_sent()] == [3]
        outbox.remove([4])  # and go from the file with the next acknowledgement
        import sqlite3

        with sqlite3.connect(path) as db:
            assert [r[0] for r in db.execute("SELECT seq FROM sent ORDER BY seq")] == [3, 4]


def test_without_a_window_nothing_is_kept(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        put(outbox)
        outbox.remove([1])
        assert outbox.recently_sent() == []



def test_on_a_full_disk_acknowledged_rows_still_go_only_their_copies_are_not_kept(
        tmp_path, caplog):
    with Outbox(tmp_path / "o.sqlite3", keep_sent_s=600) as outbox:
        for _ in range(5):
            outbox.add(lambda seq: Outgoing("t", bytes(3000), True, True))
        db = outbox._db
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
        db.execute(f"PRAGMA max_page_count = {pages}")  # the card is full
        with caplog.at_level("WARNING", logger="sensors.outbox"):
            outbox.remove([1, 2])
        assert "not kept for a resend" in caplog.text
        assert [r.seq for r in outbox.after(0, limit=10)] == [3, 4, 5]  # not sent again
        assert outbox.depth == 3 and outbox.recently_sent() == []


def test_a_lost_outbox_begins_a_new_epoch_and_says_so(tmp_path, caplog):
    """Issue 14 #1: an emptied or replaced outbox restarts seq at 1; the epoch (kept apart from
    the outbox) tells a listener it is a new sequence, not replays of the old one."""
    path = tmp_path / "sensors-pump-room.outbox.sqlite3"
    with Outbox(path) as outbox:
        first = outbox.epoch
        assert [put(outbox) for _ in range(3)] == [1, 2, 3]
    with Outbox(path) as outbox:  # reopened: the same sequence goes on
        assert outbox.epoch == first and put(outbox) == 4
    for leftover in tmp_path.glob("sensors-pump-room.outbox.sqlite3*"):
        leftover.unlink()  # the SD card's outbox is gone; the epoch file beside it is not
    with caplog.at_level("WARNING", logger="sensors.outbox"), Outbox(path) as outbox:
        assert put(outbox) == 1
        assert outbox.epoch > first
    assert any("lost or replaced" in r.getMessage() and str(first) in r.getMessage()
               for r in caplog.records)


def test_the_epoch_file_lost_alone_is_written_again_from_the_outbox(tmp_path):
    path = tmp_path / "sensors-roof.outbox.sqlite3"
    with Outbox(path) as outbox:
        epoch = outbox.epoch
        put(outbox)
    (tmp_path / "sensors-roof.epoch").unlink()
    with Outbox(path) as outbox:
        assert outbox.epoch == epoch and put(outbox) == 2
    assert (tmp_path / "sensors-roof.epoch").read_text().strip() == str(epoch)


def test_an_outbox_from_before_epochs_keeps_numbering_in_epoch_0(tmp_path):
    import sqlite3

    path = tmp_path / "sensors-old.outbox.sqlite3"
    with Outbox(path) as outbox:
        put(outbox)
        put(outbox)
    (tmp_path / "sensors-old.epoch").unlink()
    with sqlite3.connect(path) as db:  # as an older version left it: no epoch recorded
        db.execute("DELETE FROM counters WHERE name = 'epoch'")
    with Outbox(path) as outbox:
        assert outbox.epoch == 0 and put(outbox) == 3


def test_a_repeated_warning_is_said_once_a_minute_with_a_count(caplog):
    import logging

    from sensors.throttle import LogThrottle

    now = [0.0]
    throttle = LogThrottle(logging.getLogger("test.throttle"), interval_s=60.0,
                           clock=lambda: now[0])
    with caplog.at_level("WARNING", logger="test.throttle"):
        for _ in range(300):  # a poll every 0.2 s for a minute, each failing
            throttle.warning("full", "could not store %s", "x")
            now[0] += 0.2
        throttle.warning("full", "could not store %s", "x")
    assert [r.getMessage() for r in caplog.records] == [
        "could not store x", "could not store x", "... and 299 more like it in the last 60 s"]


def test_a_truncated_outbox_is_set_aside_and_what_can_be_read_is_sent(tmp_path, caplog):
    path = tmp_path / "sensors-pump-room.sqlite3"
    with Outbox(path) as outbox:
        for _ in range(200):
            outbox.add(lambda seq: Outgoing("t", b"x" * 200 + f"{seq}".encode(), True, False))
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    caplog.set_level("WARNING")
    with Outbox(path) as outbox:  # no traceback, so no restart loop
        aside = list(tmp_path.glob("sensors-pump-room.sqlite3.damaged-*"))
        assert len(aside) == 1
        assert any(str(path) in r.getMessage() and aside[0].name in r.getMessage()
                   for r in caplog.records if r.levelname == "ERROR")
        kept = [r.payload for r in outbox.after(0, limit=500)]
        assert 0 < len(kept) < 200  # the readable half, as it was encoded
        assert all(p.startswith(b"x" * 200) for p in kept)
        assert put(outbox) == len(kept) + 1


def test_a_garbage_outbox_is_set_aside_and_a_new_one_started(tmp_path, caplog):
    path = tmp_path / "sensors-pump-room.sqlite3"
    path.write_bytes(b"not a database at all\n" * 300)
    caplog.set_level("WARNING")
    with Outbox(path) as outbox:
        assert put(outbox) == 1
    assert list(tmp_path.glob("sensors-pump-room.sqlite3.damaged-*"))
    assert any(str(path) in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
