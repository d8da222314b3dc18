"""Tank level, overflow and turbidity rules: hysteresis, minimum duration, clear."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from server.rules import (
    ChangeKind,
    Condition,
    ConditionChange,
    EngineState,
    RulesConfig,
    Severity,
    TankReading,
    evaluate_tank,
    rules_config_from_mapping,
    tick,
)
from tests.server.rules.conftest import T0


def run(
    config: RulesConfig, readings: Iterable[tuple[float, dict[str, object]]],
    state: EngineState | None = None,
) -> tuple[EngineState, list[ConditionChange]]:
    """Feed (seconds after T0, reading fields) in order; collect every change."""
    state = state or EngineState()
    changes: list[ConditionChange] = []
    for seconds, fields in readings:
        at = T0 + timedelta(seconds=seconds)
        reading = TankReading("tank-1", at=at, **fields)  # type: ignore[arg-type]
        state, found = evaluate_tank(state, reading, now=at, config=config)
        changes.extend(found)
    return state, changes


def kinds(changes: list[ConditionChange], condition: Condition) -> list[ChangeKind]:
    return [c.kind for c in changes if c.condition is condition]


def transitions(changes: list[ConditionChange], condition: Condition) -> list[ChangeKind]:
    return [k for k in kinds(changes, condition) if k is not ChangeKind.PRESENT]


def test_normal_level_raises_nothing(config: RulesConfig) -> None:
    state, changes = run(config, [(s, {"level_percent": 60.0}) for s in range(0, 3600, 30)])
    assert changes == []
    assert state.conditions == {}


def test_low_level_raises_after_its_minimum_duration(config: RulesConfig) -> None:
    # Default: at or below 20 % for 120 s.
    _, changes = run(config, [(0, {"level_percent": 15.0}), (60, {"level_percent": 14.0})])
    assert changes == []
    _, changes = run(config, [(s, {"level_percent": 15.0}) for s in (0, 60, 120)])
    assert [(c.condition, c.kind) for c in changes] == [(Condition.LOW_LEVEL, ChangeKind.RAISED)]
    raised = changes[0]
    assert raised.since == T0
    assert raised.at == T0 + timedelta(seconds=120)
    assert raised.severity is Severity.NORMAL
    assert raised.evidence["level_percent"] == 15.0
    assert raised.title_zh == "蓄水池水位过低"
    assert raised.open_key == "tank-1|low_level"


def test_a_brief_dip_never_raises_and_is_forgotten(config: RulesConfig) -> None:
    readings = [(0, {"level_percent": 50.0}), (30, {"level_percent": 18.0}),
                (60, {"level_percent": 40.0}), (400, {"level_percent": 40.0})]
    state, changes = run(config, readings)
    assert changes == []
    assert state.get("tank-1", Condition.LOW_LEVEL) is None


def test_isolated_glitches_do_not_add_up_to_a_raise(config: RulesConfig) -> None:
    # One low reading every 10 minutes among normal ones (each counts for its 30 s).
    readings = [(s, {"level_percent": 5.0 if s % 600 == 0 else 40.0}) for s in range(0, 7200, 30)]
    _, changes = run(config, readings)
    assert changes == []


def test_level_flapping_around_the_threshold_raises_once(config: RulesConfig) -> None:
    # Every 5 s for ten minutes the level wobbles 19.8 / 20.3 / 21.5: inside the raise zone and
    # the dead band (20..25), never reaching the clear threshold.
    wobble = [19.8, 20.3, 21.5, 20.1]
    readings = [(s, {"level_percent": wobble[i % 4]}) for i, s in enumerate(range(0, 600, 5))]
    state, changes = run(config, readings)
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]
    assert state.is_raised("tank-1", Condition.LOW_LEVEL)


def test_flapping_across_the_whole_band_for_a_minute_raises_once(config: RulesConfig) -> None:
    # A sloshing tank: 19 % and 26 % alternate for 60 s, then it settles low.
    readings = [(s, {"level_percent": 19.0 if (s // 5) % 2 == 0 else 26.0})
                for s in range(0, 60, 5)]
    readings += [(s, {"level_percent": 18.0}) for s in range(60, 600, 30)]
    _, changes = run(config, readings)
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]


def test_dead_band_holds_a_raised_condition(config: RulesConfig) -> None:
    readings = [(s, {"level_percent": 15.0}) for s in (0, 60, 120)]
    readings += [(s, {"level_percent": 24.9}) for s in range(150, 4000, 60)]
    state, changes = run(config, readings)
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]
    assert state.is_raised("tank-1", Condition.LOW_LEVEL)


def test_clear_needs_the_clear_threshold_for_its_duration(config: RulesConfig) -> None:
    readings = [(s, {"level_percent": 15.0}) for s in (0, 60, 120)]
    # Back to 30 % at 200 s: clears after 300 s, i.e. at 500 s.
    readings += [(s, {"level_percent": 30.0}) for s in range(200, 800, 50)]
    state, changes = run(config, readings)
    low = [c for c in changes if c.condition is Condition.LOW_LEVEL]
    assert [c.kind for c in low if c.kind is not ChangeKind.PRESENT] == [
        ChangeKind.RAISED, ChangeKind.CLEARED
    ]
    cleared = next(c for c in low if c.kind is ChangeKind.CLEARED)
    assert cleared.at == T0 + timedelta(seconds=500)
    assert cleared.since == T0 + timedelta(seconds=200)
    assert state.get("tank-1", Condition.LOW_LEVEL) is None


def test_a_dip_while_clearing_cancels_the_clear(config: RulesConfig) -> None:
    readings = [(s, {"level_percent": 15.0}) for s in (0, 60, 120)]
    readings += [(200, {"level_percent": 30.0}), (400, {"level_percent": 18.0}),
                 (450, {"level_percent": 30.0}), (700, {"level_percent": 30.0})]
    state, changes = run(config, readings)
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]
    assert state.is_raised("tank-1", Condition.LOW_LEVEL)
    _, more = run(config, [(750, {"level_percent": 30.0})], state)
    assert transitions(more, Condition.LOW_LEVEL) == [ChangeKind.CLEARED]


def test_still_present_carries_fresh_evidence(config: RulesConfig) -> None:
    readings = [(s, {"level_percent": 15.0}) for s in (0, 60, 120)]
    readings += [(180, {"level_percent": 12.0})]
    _, changes = run(config, readings)
    present = [c for c in changes if c.kind is ChangeKind.PRESENT]
    assert len(present) == 1
    assert present[0].evidence["level_percent"] == 12.0


def test_low_float_switch_raises_low_level_even_without_a_level(config: RulesConfig) -> None:
    readings = [(s, {"low_float_down": True}) for s in (0, 60, 120)]
    _, changes = run(config, readings)
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]


def test_low_level_clears_only_when_level_and_float_agree(config: RulesConfig) -> None:
    readings = [(s, {"level_percent": 10.0, "low_float_down": True}) for s in (0, 60, 120)]
    # The level sensor says 40 % but the float still says low: hold.
    readings += [(s, {"level_percent": 40.0, "low_float_down": True})
                 for s in range(200, 1000, 100)]
    state, changes = run(config, readings)
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]
    readings = [(s, {"level_percent": 40.0, "low_float_down": False})
                for s in range(1000, 1400, 100)]
    _, more = run(config, readings, state)
    assert transitions(more, Condition.LOW_LEVEL) == [ChangeKind.CLEARED]


def test_high_level_with_hysteresis(config: RulesConfig) -> None:
    readings = [(s, {"level_percent": 91.0}) for s in (0, 60, 120)]
    readings += [(s, {"level_percent": 87.0}) for s in range(150, 1000, 50)]  # dead band 85..90
    readings += [(s, {"level_percent": 80.0}) for s in range(1000, 1400, 50)]
    _, changes = run(config, readings)
    assert transitions(changes, Condition.HIGH_LEVEL) == [ChangeKind.RAISED, ChangeKind.CLEARED]
    assert transitions(changes, Condition.LOW_LEVEL) == []


def test_overflow_float_chattering_raises_one_urgent_condition(config: RulesConfig) -> None:
    # The overflow float bounces on waves every 2 s for a minute, then stays up.
    readings = [(s, {"overflow_float_up": (s // 2) % 2 == 0}) for s in range(0, 60, 2)]
    readings += [(s, {"overflow_float_up": True}) for s in range(60, 120, 5)]
    _, changes = run(config, readings)
    overflow = [c for c in changes if c.kind is ChangeKind.RAISED]
    assert [c.condition for c in overflow] == [Condition.OVERFLOW]
    assert overflow[0].urgent
    assert overflow[0].severity is Severity.URGENT


def test_overflow_from_the_level_alone(config: RulesConfig) -> None:
    readings = [(s, {"level_percent": 99.0, "overflow_float_up": False}) for s in (0, 5, 10)]
    _, changes = run(config, readings)
    raised = [c.condition for c in changes if c.kind is ChangeKind.RAISED]
    assert raised == [Condition.OVERFLOW]  # high level needs its own 120 s


def test_overflow_reported_only_on_change_raises_on_the_timer(config: RulesConfig) -> None:
    state, changes = run(config, [(0, {"overflow_float_up": True})])
    assert changes == []
    state, changes = tick(state, now=T0 + timedelta(seconds=5), config=config)
    assert changes == ()
    state, changes = tick(state, now=T0 + timedelta(seconds=10), config=config)
    assert [(c.condition, c.kind) for c in changes] == [(Condition.OVERFLOW, ChangeKind.RAISED)]
    assert changes[0].since == T0
    _, again = tick(state, now=T0 + timedelta(seconds=3600), config=config)
    assert again == ()  # the timer never repeats a raise


def test_turbidity_over_threshold_long_enough_needs_cleaning(config: RulesConfig) -> None:
    hourly = [(h * 3600, {"turbidity_ntu": 1.4}) for h in range(0, 6)]
    _, changes = run(config, hourly)
    assert changes == []  # 5 h: not yet
    _, changes = run(config, hourly + [(6 * 3600, {"turbidity_ntu": 1.3})])
    assert [(c.condition, c.kind) for c in changes] == [
        (Condition.TURBIDITY_HIGH, ChangeKind.RAISED)
    ]
    assert changes[0].title_en == "Tank water turbid: clean and disinfect early"


def test_turbidity_at_exactly_the_threshold_is_not_over_it(config: RulesConfig) -> None:
    _, changes = run(config, [(h * 3600, {"turbidity_ntu": 1.0}) for h in range(0, 12)])
    assert changes == []


def test_per_tank_override_changes_only_that_tank() -> None:
    config = rules_config_from_mapping(
        {"tank": {"overrides": {"tank-1": {"low_raise_percent": 30.0, "low_clear_percent": 35.0}}}},
        timezone="Asia/Shanghai"
    )
    _, changes = run(config, [(s, {"level_percent": 28.0}) for s in (0, 60, 120)])
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]
    state = EngineState()
    for s in (0, 60, 120):
        at = T0 + timedelta(seconds=s)
        state, found = evaluate_tank(state, TankReading("tank-2", at=at, level_percent=28.0),
                                     now=at, config=config)
        assert found == ()


def test_zero_duration_raises_on_the_first_reading() -> None:
    config = rules_config_from_mapping({"tank": {"level_raise_after_s": 0}},
                                       timezone="Asia/Shanghai")
    _, changes = run(config, [(0, {"level_percent": 5.0})])
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]


def test_unknown_fields_neither_raise_nor_clear(config: RulesConfig) -> None:
    readings = [(s, {"level_percent": 15.0}) for s in (0, 60, 120)]
    readings += [(s, {"turbidity_ntu": 0.2}) for s in range(200, 2000, 100)]
    state, changes = run(config, readings)
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]
    assert kinds(changes, Condition.LOW_LEVEL).count(ChangeKind.PRESENT) == 0
    assert state.is_raised("tank-1", Condition.LOW_LEVEL)


def test_a_level_sloshing_across_the_band_for_an_hour_raises_once_and_stays(
    config: RulesConfig,
) -> None:
    readings = [(s, {"level_percent": 19.0 if (s // 10) % 2 == 0 else 26.0})
                for s in range(0, 3600, 10)]
    state, changes = run(config, readings)
    assert transitions(changes, Condition.LOW_LEVEL) == [ChangeKind.RAISED]
    assert state.is_raised("tank-1", Condition.LOW_LEVEL)
