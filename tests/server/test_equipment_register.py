"""The extinguisher register tells one story: a condition that has cleared is shown as cleared,
whatever its ticket's state (issue 16), while one still present stays shown."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.lifecycle import Status
from server.models import Ticket
from server.sensing import services
from tests.server.sensing.conftest import Rig, rig  # noqa: F401  (the fixture)
from tests.web.conftest import cookie_sign_in


def _register_row(rig: Rig, asset_id: str = "ext-1") -> dict[str, object]:  # noqa: F811
    with rig.sessions() as db:
        rows = services.extinguisher_register(db, now=rig.clock(),
                                              rules=rig.processor.rules)
    return next(r for r in rows if r["asset_id"] == asset_id)


def _missing_then_back(rig: Rig) -> None:  # noqa: F811
    rig.feed(rig.node.bay())
    rig.run(minutes=11, report=lambda: rig.node.bay(present=False))  # raised after 10 minutes
    rig.run(minutes=2, report=lambda: rig.node.bay(present=True))  # cleared after 30 s


def test_an_auto_resolved_missing_extinguisher_is_not_shown_missing(
        rig: Rig, client: TestClient) -> None:  # noqa: F811
    _missing_then_back(rig)
    with rig.sessions() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.condition == "missing"))
        assert ticket is not None
        # Resolved by itself, so still waiting for staff to close it: not a closed ticket.
        assert ticket.status == Status.RESOLVED
    row = _register_row(rig)
    assert row["present"] is True and "missing" not in row["conditions"]

    cookie_sign_in(client, "staff")
    page = client.get("/staff/site").text
    assert "灭火器不在位" not in page


def test_a_missing_extinguisher_still_out_stays_shown_missing(
        rig: Rig, client: TestClient) -> None:  # noqa: F811
    rig.feed(rig.node.bay())
    rig.run(minutes=11, report=lambda: rig.node.bay(present=False))
    row = _register_row(rig)
    assert row["present"] is False and row["conditions"] == ["missing"]
    cookie_sign_in(client, "staff")
    assert "灭火器不在位" in client.get("/staff/site").text
