"""Readings become tickets and alerts — once. Driven with contract messages and an injected
clock, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from server.alerts.rows import AlertDelivery, AlertRow
from server.errors import IllegalTransition
from server.lifecycle import Action
from server.models import Ticket, TicketEvent, User
from server.sensing import services
from server.sensing.models import DeadLetter, ReadingRow
from server.services.tickets import staff_action
from tests.server.sensing.conftest import Rig


def tickets(rig: Rig, condition: str | None = None) -> list[Ticket]:
    with rig.sessions() as db:
        query = select(Ticket).where(Ticket.kind == "maintenance")
        if condition:
            query = query.where(Ticket.condition == condition)
        return list(db.scalars(query.order_by(Ticket.id)))


def history(rig: Rig, ticket_id: int) -> list[str]:
    with rig.sessions() as db:
        return list(db.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket_id)
                               .order_by(TicketEvent.id)))


def test_low_level_raises_one_ticket_and_one_alert_then_clears(rig: Rig) -> None:
    rig.feed(rig.node.tank(60))
    for _ in range(5):  # below 20 % for 4 minutes (raise after 120 s)
        rig.clock.advance(minutes=1)
        rig.feed(rig.node.tank(12))
    low = tickets(rig, "low_level")
    assert len(low) == 1 and low[0].status == "new" and low[0].category_code == "water_supply"
    assert low[0].squad_id is not None  # tank-1 is in building C01-B01, grid 1
    assert rig.deliver() == 1
    alert, recipient = rig.notifier.sent[0]
    assert "蓄水池水位过低" in alert.title and recipient.staff_id == "duty"

    for _ in range(7):  # refilled: above 25 % for 6 minutes (clear after 300 s)
        rig.clock.advance(minutes=1)
        rig.feed(rig.node.tank(70))
    low = tickets(rig, "low_level")
    assert len(low) == 1 and low[0].status == "resolved"  # auto-resolve is on for low_level
    assert "condition_cleared" in history(rig, low[0].id)
    rig.deliver()
    assert [a.kind for a, _ in rig.notifier.sent] == ["raised", "cleared"]


def test_a_level_flapping_at_the_threshold_for_a_minute_raises_once(rig: Rig) -> None:
    rig.feed(rig.node.tank(50))
    for i in range(60):  # every second for a minute, either side of 20 %
        rig.clock.advance(seconds=1)
        rig.feed(rig.node.tank(19.5 if i % 2 else 20.5))
    for _ in range(30):
        rig.clock.advance(seconds=10)
        rig.feed(rig.node.tank(19.5))
        rig.tick()
    assert len(tickets(rig, "low_level")) == 1
    with rig.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AlertRow)) == 1


def test_redelivered_readings_change_nothing(rig: Rig) -> None:
    reading = rig.node.tank(55)
    assert rig.feed(reading) == 1
    assert rig.feed(reading, reading) == 0
    with rig.sessions() as db:
        assert db.scalar(select(func.count()).select_from(ReadingRow)) == 1
    assert rig.metrics.value("servicepoint_mqtt_messages_duplicate_total") == 2


def test_unknown_assets_are_dead_lettered(rig: Rig) -> None:
    rig.feed(rig.node.tank(40, asset_id="tank-99"))
    with rig.sessions() as db:
        letters = list(db.scalars(select(DeadLetter)))
        assert [d.reason for d in letters] == ["unknown asset tank-99"]
        assert db.scalar(select(func.count()).select_from(ReadingRow)) == 0


def test_extinguisher_removed_is_urgent_even_at_night(rig: Rig) -> None:
    rig.clock.now = rig.clock.now.replace(hour=23)  # quiet hours at the site
    rig.feed(rig.node.bay())
    rig.clock.advance(seconds=5)
    rig.feed(rig.node.event("extinguisher_removed"))
    rig.run(minutes=11, report=lambda: rig.node.bay(present=False))  # grace period: 10 minutes
    missing = tickets(rig, "missing")
    assert len(missing) == 1 and missing[0].priority == "urgent"
    assert rig.deliver() == 1
    assert rig.notifier.sent[0][0].urgent and "【紧急】" in rig.notifier.sent[0][0].title


def test_nobody_acknowledges_so_the_next_level_hears(rig: Rig) -> None:
    missing = lambda: rig.node.bay(present=False)  # noqa: E731
    rig.feed(missing())
    rig.run(minutes=11, report=missing)
    rig.deliver()
    rig.run(minutes=10, report=missing)  # urgent ladder: level 1 after 10 minutes
    rig.deliver()
    assert [(a.kind, r.staff_id) for a, r in rig.notifier.sent] == [
        ("raised", "duty"), ("escalated", "head")]


def test_acknowledging_stops_the_ladder(rig: Rig) -> None:
    missing = lambda: rig.node.bay(present=False)  # noqa: E731
    rig.feed(missing())
    rig.run(minutes=11, report=missing)
    with rig.sessions() as db:
        alert_id = db.scalar(select(AlertRow.id))
        staff = db.scalar(select(User).where(User.username == "staff"))
        services.acknowledge_alert(db, alert_id=alert_id, user=staff, now=rig.clock())
    rig.run(minutes=40, report=missing)
    rig.deliver()
    assert [r.staff_id for _, r in rig.notifier.sent] == ["duty"]


def test_a_failing_channel_is_retried_with_backoff_and_sent_once(rig: Rig) -> None:
    rig.notifier.fail = {"duty/wecom"}
    rig.feed(rig.node.bay(present=False))
    rig.run(minutes=11, report=lambda: rig.node.bay(present=False))
    assert rig.deliver() == 0
    assert rig.deliver() == 0  # not due again yet: backoff
    assert len(rig.notifier.attempts) == 1
    rig.notifier.fail = set()
    rig.clock.advance(seconds=31)
    assert rig.deliver() == 1
    rig.clock.advance(minutes=5)
    assert rig.deliver() == 0
    assert [r.staff_id for _, r in rig.notifier.sent] == ["duty"]
    with rig.sessions() as db:
        row = db.scalar(select(AlertDelivery).where(AlertDelivery.staff_id == "duty"))
        assert (row.status, row.attempts) == ("sent", 2)


def test_cleaning_overdue_raises_one_ticket_that_needs_a_passed_water_test(rig: Rig) -> None:
    rig.clock.now = rig.clock.now.replace(year=2027, month=2)  # 180 days after 2026-07-10
    with rig.sessions() as db:
        assert rig.processor.run_schedules(db) >= 1
        assert rig.processor.run_schedules(db) == 0  # same due date: no second ticket
    cleaning = tickets(rig, "cleaning_due")
    assert len(cleaning) == 1 and cleaning[0].category_code == "tank_cleaning"
    with rig.sessions() as db:
        staff = db.scalar(select(User).where(User.username == "staff"))
        ticket = db.get(Ticket, cleaning[0].id)
        staff_action(db, ticket=ticket, user=staff, action=Action.RESOLVE, now=rig.clock())
        with pytest.raises(IllegalTransition, match="water test"):
            staff_action(db, ticket=ticket, user=staff, action=Action.CLOSE, now=rig.clock())
        db.rollback()
        services.record_cleaning(db, asset_id="tank-1", user=staff, cleaned_on=date(2027, 2, 1),
                                 water_test_passed=False, turbidity_ntu=1.4, notes="",
                                 now=rig.clock(), timezone="Asia/Shanghai")
        assert db.get(Ticket, cleaning[0].id).status == "resolved"  # a failed test keeps it open
        services.record_cleaning(db, asset_id="tank-1", user=staff, cleaned_on=date(2027, 2, 3),
                                 water_test_passed=True, turbidity_ntu=0.3, notes="复检合格",
                                 now=rig.clock(), timezone="Asia/Shanghai")
        assert db.get(Ticket, cleaning[0].id).status == "closed"
        assert rig.processor.run_schedules(db) == 0  # the schedule restarted from 2027-02-03
    overview = None
    with rig.sessions() as db:
        overview = services.site_overview(db, now=rig.clock(), rules=rig.processor.rules)
    assert overview["tanks"][0]["cleaning_due"] == "2027-08-02"


def test_node_offline_by_last_will_and_by_silence(rig: Rig) -> None:
    from sensors import contract

    rig.feed(rig.node.tank(50))
    rig.feed(contract.Availability("site-01", "pump-room", online=False))
    rig.clock.advance(minutes=2)
    rig.tick()
    assert len(tickets(rig, "offline")) == 1
    rig.feed(contract.Availability("site-01", "pump-room", online=True), rig.node.tank(50))
    rig.clock.advance(minutes=2)
    rig.feed(rig.node.tank(50))
    rig.tick()
    assert tickets(rig, "offline")[0].status == "resolved"
    rig.clock.advance(minutes=10)  # silent for 3 x 60 s and more
    rig.tick()
    rig.clock.advance(minutes=2)
    rig.tick()
    offline = tickets(rig, "offline")
    assert len(offline) == 1 and offline[0].status == "resolved"  # still open: no second ticket
    assert history(rig, offline[0].id).count("raise") == 1


def test_a_node_with_a_new_outbox_is_heard_not_dropped_as_replays(rig: Rig, caplog) -> None:
    """Issue 14 #1: the node lost its outbox and numbers from 1 again, in a new epoch. Its
    "extinguisher removed" (seq 2 again) is stored and raises its ticket; the log and /metrics
    say the node started a new sequence."""
    from dataclasses import replace

    old = [replace(rig.node.bay(present=True), epoch=1_700_000_000) for _ in range(3)]
    assert rig.feed(*old) == 3
    rig.node.seq = iter(range(1, 100))  # the new outbox
    rig.clock.advance(minutes=1)
    new = [replace(m, epoch=1_800_000_000) for m in (
        rig.node.bay(present=True), rig.node.event("extinguisher_removed"),
        rig.node.bay(present=False))]
    assert [m.seq for m in new] == [1, 2, 3]
    with caplog.at_level("WARNING", logger="server.sensing.readings"):
        assert rig.feed(*new) == 3
    assert any("started a new sequence" in r.getMessage() for r in caplog.records)
    assert rig.metrics.value("servicepoint_sensor_node_new_sequences_total",
                             node="pump-room") == 1
    assert "servicepoint_sensor_node_new_sequences_total" in rig.metrics.render()
    for _ in range(11):  # out of its bracket past missing_raise_after_s (10 minutes)
        rig.clock.advance(minutes=1)
        rig.feed(replace(rig.node.bay(present=False), epoch=1_800_000_000))
        rig.tick()
    assert len(tickets(rig, "missing")) == 1
    # A copy of the old epoch's reading replayed late still counts once, as before.
    assert rig.feed(old[0]) == 0


def test_another_login_cannot_forge_an_assets_readings(rig: Rig) -> None:
    """Issue 14 #2: tank-1 is pump-room's (the first node to report it, when the site file
    names none); a reading of it from another node is dead-lettered and counted, and raises
    nothing."""
    from tests.server.sensing.conftest import Node

    rig.feed(rig.node.tank(60))
    intruder = Node(rig.clock, node_id="intruder")
    for _ in range(6):
        rig.clock.advance(minutes=1)
        rig.feed(intruder.tank(5))
        rig.tick()
    assert tickets(rig, "low_level") == []
    assert rig.metrics.value("servicepoint_mqtt_messages_rejected_total",
                             reason="not the asset's node") == 6
    with rig.sessions() as db:
        reasons = list(db.scalars(select(DeadLetter.reason)))
        assert len(reasons) == 6 and "tank-1 is pump-room's" in reasons[0]
        assert db.scalar(select(func.count()).select_from(ReadingRow)) == 1


def test_the_site_file_names_the_node_whose_readings_count(rig: Rig) -> None:
    from server.sensing.models import ExtinguisherBay

    with rig.sessions() as db:
        db.get(ExtinguisherBay, "ext-1").node_id = "roof"
        db.commit()
    assert rig.feed(rig.node.bay(present=False)) == 0  # pump-room reports ext-1: refused
    from tests.server.sensing.conftest import Node

    assert rig.feed(Node(rig.clock, node_id="roof").bay(present=False)) == 1


def test_a_reading_dated_in_the_future_is_refused_and_cannot_freeze_the_state(rig: Rig) -> None:
    """Issue 14 #2: one reading dated an hour ahead was stored as the latest state and hid the
    real node's readings as older. Now it is dead-lettered; the real readings go on."""
    from dataclasses import replace
    from datetime import timedelta

    rig.feed(rig.node.tank(60))
    ahead = replace(rig.node.tank(5), ts=rig.clock() + timedelta(hours=1))
    assert rig.feed(ahead) == 0
    rig.clock.advance(minutes=1)
    assert rig.feed(rig.node.tank(58)) == 1
    with rig.sessions() as db:
        from server.sensing.models import AssetState

        assert db.get(AssetState, "tank-1").payload["level_percent"] == 58
        reasons = list(db.scalars(select(DeadLetter.reason)))
        assert len(reasons) == 1 and reasons[0].startswith("ts in the future")
    # within the allowed skew (a node's clock a little fast) is fine
    assert rig.feed(replace(rig.node.tank(57), ts=rig.clock() + timedelta(minutes=2))) == 1
