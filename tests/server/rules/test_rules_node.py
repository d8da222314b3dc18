"""Sensor node offline: by its MQTT last will, or by silence for k x its reporting interval."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.rules import (
    ChangeKind,
    Condition,
    EngineState,
    NodeStatus,
    RulesConfig,
    evaluate_node,
    rules_config_from_mapping,
)
from tests.server.rules.conftest import T0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def status(
    online: bool | None, availability_s: float | None, last_state_s: float | None,
    interval: float = 30.0,
) -> NodeStatus:
    return NodeStatus(
        node_id="node-1",
        online=online,
        availability_at=at(availability_s) if availability_s is not None else None,
        last_state_at=at(last_state_s) if last_state_s is not None else None,
        report_interval_s=interval,
    )


def test_a_healthy_node_is_not_offline(config: RulesConfig) -> None:
    state, changes = evaluate_node(EngineState(), status(True, 0, 50), now=at(60), config=config)
    assert changes == ()
    assert state.conditions == {}


def test_last_will_raises_after_the_grace(config: RulesConfig) -> None:
    will = status(False, 100, 90)
    state, changes = evaluate_node(EngineState(), will, now=at(100), config=config)
    assert changes == ()
    state, changes = evaluate_node(state, will, now=at(159), config=config)
    assert changes == ()
    state, changes = evaluate_node(state, will, now=at(160), config=config)
    assert [(c.condition, c.kind) for c in changes] == [(Condition.OFFLINE, ChangeKind.RAISED)]
    assert changes[0].since == at(100)
    assert changes[0].asset_id == "node-1"
    _, again = evaluate_node(state, will, now=at(500), config=config)
    assert again == ()


def test_a_quick_reconnect_raises_nothing(config: RulesConfig) -> None:
    state, _ = evaluate_node(EngineState(), status(False, 100, 90), now=at(100), config=config)
    state, changes = evaluate_node(state, status(True, 130, 131), now=at(131), config=config)
    assert changes == ()
    state, changes = evaluate_node(state, status(True, 130, 380), now=at(400), config=config)
    assert changes == ()
    assert state.conditions == {}


def test_silence_for_k_intervals_is_offline(config: RulesConfig) -> None:
    # Interval 30 s, k = 3: silent from 90 s after the last state, raised 60 s later.
    quiet = status(True, 0, 0)
    state, changes = evaluate_node(EngineState(), quiet, now=at(89), config=config)
    assert changes == ()
    state, changes = evaluate_node(state, quiet, now=at(120), config=config)
    assert changes == ()
    state, changes = evaluate_node(state, quiet, now=at(150), config=config)
    assert [c.kind for c in changes] == [ChangeKind.RAISED]
    assert changes[0].since == at(90)


def test_offline_clears_when_states_come_back(config: RulesConfig) -> None:
    state, _ = evaluate_node(EngineState(), status(False, 0, 0), now=at(0), config=config)
    state, changes = evaluate_node(state, status(False, 0, 0), now=at(60), config=config)
    assert [c.kind for c in changes] == [ChangeKind.RAISED]
    # States arrive again from 300 s (the birth message was lost): cleared 60 s later.
    state, changes = evaluate_node(state, status(False, 0, 300), now=at(300), config=config)
    assert changes == ()
    state, changes = evaluate_node(state, status(False, 0, 330), now=at(360), config=config)
    assert [c.kind for c in changes] == [ChangeKind.CLEARED]
    assert state.conditions == {}


def test_silence_factor_is_configurable() -> None:
    config = rules_config_from_mapping({"node": {"silence_factor": 5, "offline_raise_after_s": 0}},
                                       timezone="Asia/Shanghai")
    state, changes = evaluate_node(EngineState(), status(True, 0, 0), now=at(149), config=config)
    assert changes == ()
    _, changes = evaluate_node(state, status(True, 0, 0), now=at(150), config=config)
    assert [c.kind for c in changes] == [ChangeKind.RAISED]


def test_nothing_known_is_not_offline(config: RulesConfig) -> None:
    state, changes = evaluate_node(EngineState(), status(None, None, None), now=at(10_000),
                                   config=config)
    assert changes == ()
    assert state.conditions == {}
