"""A tank's level alarm lines set in the register (by staff, in the browser) hold for the next
readings, over config/rules.toml's; lines that no longer fit the file's are ignored with an error
in the log, never a stalled ingest. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from server.models import Ticket
from server.sensing.models import Tank
from tests.server.sensing.conftest import Rig


def _set_levels(rig: Rig, **levels: float | None) -> None:
    with rig.sessions() as db:
        tank = db.get(Tank, "tank-1")
        assert tank is not None
        for name, value in levels.items():
            setattr(tank, name, value)
        db.commit()


def _low_tickets(rig: Rig) -> int:
    with rig.sessions() as db:
        return len(list(db.scalars(select(Ticket).where(Ticket.condition == "low_level"))))


def _drain_to(rig: Rig, level: float) -> None:
    rig.feed(rig.node.tank(60))
    for _ in range(5):  # four minutes below the line: past the 120 s the rule waits
        rig.clock.advance(minutes=1)
        rig.feed(rig.node.tank(level))


def test_a_low_line_raised_in_the_register_raises_the_ticket_earlier(rig: Rig) -> None:
    _drain_to(rig, 35)  # the file's line is 20 %: nothing yet
    assert _low_tickets(rig) == 0
    _set_levels(rig, low_raise_percent=40.0, low_clear_percent=45.0)
    for _ in range(4):
        rig.clock.advance(minutes=1)
        rig.feed(rig.node.tank(35))
    assert _low_tickets(rig) == 1


def test_lines_that_no_longer_fit_the_file_are_ignored_with_a_logged_error(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    # A clear line below the file's raise line (20 %): impossible, so the file's lines hold.
    _set_levels(rig, low_clear_percent=10.0)
    with caplog.at_level(logging.ERROR):
        _drain_to(rig, 12)
    assert _low_tickets(rig) == 1
    assert "tank-1: the level lines set in the register are ignored" in caplog.text
