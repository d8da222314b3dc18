"""Evaluation state: JSON round trip, the timer, ordering of readings, bad input."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from server.rules import (
    ChangeKind,
    Condition,
    EngineState,
    ExtinguisherBayReading,
    NodeStatus,
    RulesConfig,
    RulesError,
    StateError,
    TankReading,
    TankRecord,
    evaluate,
    next_deadline,
    tick,
)
from tests.server.rules.conftest import T0


def feed(state: EngineState, config: RulesConfig, seconds: float, **fields: object) -> tuple[
    EngineState, tuple[object, ...]
]:
    at = T0 + timedelta(seconds=seconds)
    return evaluate(state, TankReading("tank-1", at=at, **fields),  # type: ignore[arg-type]
                    now=at, config=config)


def test_state_survives_a_restart_through_json(config: RulesConfig) -> None:
    state = EngineState()
    state, _ = feed(state, config, 0, level_percent=10.0, turbidity_ntu=2.0)
    state, changes = feed(state, config, 120, level_percent=10.0, turbidity_ntu=2.0)
    assert [c.condition for c in changes] == [Condition.LOW_LEVEL]  # turbidity still pending
    text = json.dumps(state.to_json())
    restored = EngineState.from_json(json.loads(text))
    assert restored == state
    # The pending turbidity keeps its start time across the restart.
    _, changes = tick(restored, now=T0 + timedelta(hours=6), config=config)
    assert [(c.condition, c.kind) for c in changes] == [
        (Condition.TURBIDITY_HIGH, ChangeKind.RAISED)
    ]
    assert changes[0].since == T0


def test_state_keeps_other_timezones_exact(config: RulesConfig) -> None:
    shanghai = timezone(timedelta(hours=8))
    at = T0.astimezone(shanghai)
    state, _ = evaluate(EngineState(), ExtinguisherBayReading("ext-1", at=at, present=False),
                        now=at, config=config)
    restored = EngineState.from_json(json.loads(json.dumps(state.to_json())))
    assert restored.get("ext-1", Condition.MISSING) == state.get("ext-1", Condition.MISSING)


@pytest.mark.parametrize("broken", [
    {},
    {"version": 99, "conditions": [], "last_seen": {}},
    {"version": 1, "conditions": [{"asset_id": "t"}], "last_seen": {}},
    {"version": 1, "conditions": [], "last_seen": {"t": "yesterday"}},
    {"version": 1, "conditions": [], "last_seen": {"t": "2026-01-01T00:00:00"}},
    {"version": 1, "conditions": [{"asset_id": "t", "condition": "nonsense", "active": True,
                                   "since": "2026-01-01T00:00:00+00:00",
                                   "started": "2026-01-01T00:00:00+00:00", "on_s": 0,
                                   "raised": False, "raised_at": None, "evidence": {}}],
     "last_seen": {}},
    {"version": 1, "conditions": [{"asset_id": "t", "condition": "low_level", "active": "yes",
                                   "since": "2026-01-01T00:00:00+00:00",
                                   "started": "2026-01-01T00:00:00+00:00", "on_s": 0,
                                   "raised": False, "raised_at": None, "evidence": {}}],
     "last_seen": {}},
])
def test_broken_state_raises_state_error(broken: dict[str, object]) -> None:
    with pytest.raises(StateError):
        EngineState.from_json(broken)
    with pytest.raises(ValueError):  # StateError is also a ValueError
        EngineState.from_json(broken)


def test_out_of_order_reading_is_ignored(config: RulesConfig) -> None:
    state, _ = feed(EngineState(), config, 100, level_percent=10.0)
    late, changes = feed(state, config, 50, level_percent=60.0)
    assert late == state
    assert changes == ()


def test_reading_from_the_future_is_clamped_to_now(config: RulesConfig) -> None:
    now = T0
    ahead = TankReading("tank-1", at=now + timedelta(hours=1), level_percent=10.0)
    state, changes = evaluate(EngineState(), ahead, now=now, config=config)
    assert changes == ()  # a clock an hour ahead must not make 120 s elapse
    assert state.last_seen["tank-1"] == now
    assert state.get("tank-1", Condition.LOW_LEVEL) is not None
    assert state.get("tank-1", Condition.LOW_LEVEL).since == now  # type: ignore[union-attr]


def test_only_a_clock_really_ahead_is_logged(config: RulesConfig,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="server.rules.engine")
    state = EngineState()
    for n in range(50):  # an NTP-kept node a few milliseconds ahead, reading after reading
        reading = TankReading("tank-1", at=T0 + timedelta(seconds=n, milliseconds=8),
                              level_percent=60.0)
        state, _ = evaluate(state, reading, now=T0 + timedelta(seconds=n), config=config)
    assert state.last_seen["tank-1"] == T0 + timedelta(seconds=49)  # still clamped
    assert caplog.records == []
    wrong = TankReading("tank-1", at=T0 + timedelta(minutes=10), level_percent=60.0)
    evaluate(state, wrong, now=T0 + timedelta(seconds=50), config=config)
    assert [r.getMessage() for r in caplog.records] == [
        "reading for tank-1 is from the future (2026-11-25T01:10:00+00:00 > "
        "2026-11-25T01:00:50+00:00); using now"]


def test_next_deadline_says_when_to_tick(config: RulesConfig) -> None:
    assert next_deadline(EngineState(), config) is None
    state, _ = feed(EngineState(), config, 0, level_percent=10.0, overflow_float_up=True)
    assert next_deadline(state, config) == T0 + timedelta(seconds=10)  # overflow first
    state, _ = tick(state, now=T0 + timedelta(seconds=10), config=config)
    assert next_deadline(state, config) == T0 + timedelta(seconds=120)  # then low level
    state, _ = tick(state, now=T0 + timedelta(seconds=120), config=config)
    assert next_deadline(state, config) is None  # both raised, nothing pending
    state, _ = feed(state, config, 200, level_percent=50.0, overflow_float_up=False)
    assert next_deadline(state, config) == T0 + timedelta(seconds=500)


def test_raised_lists_the_pairs_that_are_up(config: RulesConfig) -> None:
    state, _ = feed(EngineState(), config, 0, level_percent=10.0, overflow_float_up=True)
    state, _ = tick(state, now=T0 + timedelta(seconds=10), config=config)
    assert state.raised() == [("tank-1", Condition.OVERFLOW)]


def test_naive_times_are_refused(config: RulesConfig) -> None:
    with pytest.raises(RulesError):
        TankReading("tank-1", at=datetime(2026, 1, 1), level_percent=1.0)
    with pytest.raises(RulesError):
        tick(EngineState(), now=datetime(2026, 1, 1), config=config)
    with pytest.raises(RulesError):
        NodeStatus("n", online=True, availability_at=None, last_state_at=None,
                   report_interval_s=0)
    with pytest.raises(RulesError):
        TankReading("tank-1", at=T0, level_percent=float("nan"))


def test_evaluate_refuses_what_is_not_an_observation(config: RulesConfig) -> None:
    with pytest.raises(RulesError):
        evaluate(EngineState(), TankRecord("tank-1"), now=T0, config=config)  # type: ignore[arg-type]
