"""Extinguisher bay rules: missing past its grace, gauge out of the green zone, door left open."""

from __future__ import annotations

from datetime import timedelta

from server.rules import (
    ChangeKind,
    Condition,
    ConditionChange,
    EngineState,
    ExtinguisherBayReading,
    RulesConfig,
    Severity,
    evaluate_bay,
    rules_config_from_mapping,
    tick,
)
from tests.server.rules.conftest import T0


def run(
    config: RulesConfig, readings: list[tuple[float, dict[str, bool | None]]],
    state: EngineState | None = None,
) -> tuple[EngineState, list[ConditionChange]]:
    state = state or EngineState()
    changes: list[ConditionChange] = []
    for seconds, fields in readings:
        at = T0 + timedelta(seconds=seconds)
        reading = ExtinguisherBayReading("ext-b01-1", at=at, **fields)  # type: ignore[arg-type]
        state, found = evaluate_bay(state, reading, now=at, config=config)
        changes.extend(found)
    return state, changes


def raised(changes: list[ConditionChange]) -> list[Condition]:
    return [c.condition for c in changes if c.kind is ChangeKind.RAISED]


def test_taken_out_for_an_inspection_within_the_grace_raises_nothing(config: RulesConfig) -> None:
    readings = [(0, {"present": True}), (10, {"present": False}), (300, {"present": False}),
                (540, {"present": True}), (2000, {"present": True})]
    state, changes = run(config, readings)
    assert changes == []
    assert state.conditions == {}


def test_missing_past_the_grace_is_urgent(config: RulesConfig) -> None:
    state, changes = run(config, [(0, {"present": False})])
    state, changes = tick(state, now=T0 + timedelta(seconds=599), config=config)
    assert changes == ()
    state, changes = tick(state, now=T0 + timedelta(seconds=600), config=config)
    assert [(c.condition, c.kind) for c in changes] == [(Condition.MISSING, ChangeKind.RAISED)]
    assert changes[0].severity is Severity.URGENT
    assert changes[0].title_zh == "灭火器不在挂架上"
    # Put back: cleared 30 s later.
    state, more = run(config, [(700, {"present": True}), (730, {"present": True})], state)
    assert [(c.condition, c.kind) for c in more] == [
        (Condition.MISSING, ChangeKind.PRESENT), (Condition.MISSING, ChangeKind.CLEARED)
    ]


def test_gauge_out_of_green_zone(config: RulesConfig) -> None:
    readings = [(s, {"present": True, "pressure_ok": False}) for s in (0, 150, 300)]
    _, changes = run(config, readings)
    assert raised(changes) == [Condition.PRESSURE_LOW]
    assert changes[0].severity is Severity.NORMAL


def test_gauge_is_ignored_while_the_extinguisher_is_out(config: RulesConfig) -> None:
    readings = [(s, {"present": False, "pressure_ok": False}) for s in range(0, 1200, 60)]
    _, changes = run(config, readings)
    assert raised(changes) == [Condition.MISSING]


def test_door_left_open_past_its_grace(config: RulesConfig) -> None:
    readings = [(0, {"door_open": True}), (300, {"door_open": True}), (600, {"door_open": True})]
    state, changes = run(config, readings)
    assert raised(changes) == [Condition.DOOR_OPEN]
    state, more = run(config, [(650, {"door_open": False}), (680, {"door_open": False})], state)
    assert [c.kind for c in more] == [ChangeKind.PRESENT, ChangeKind.CLEARED]


def test_door_banging_in_the_wind_raises_once(config: RulesConfig) -> None:
    readings = [(s, {"door_open": s % 20 == 0}) for s in range(0, 1800, 10)]
    _, changes = run(config, readings)
    assert raised(changes) == [Condition.DOOR_OPEN]
    assert ChangeKind.CLEARED not in [c.kind for c in changes]


def test_per_bay_grace_override() -> None:
    config = rules_config_from_mapping(
        {"extinguisher": {"overrides": {"ext-b01-1": {"missing_raise_after_s": 60}}}},
        timezone="Asia/Shanghai"
    )
    _, changes = run(config, [(0, {"present": False}), (60, {"present": False})])
    assert raised(changes) == [Condition.MISSING]


def test_severity_can_be_changed_in_config() -> None:
    config = rules_config_from_mapping({"severity": {"door_open": "urgent"}},
                                       timezone="Asia/Shanghai")
    _, changes = run(config, [(0, {"door_open": True}), (600, {"door_open": True})])
    assert changes[0].severity is Severity.URGENT
