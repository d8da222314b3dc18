"""Property tests: random observation sequences never crash the engine, and a condition is never
raised twice without a clear in between, across ticks and restarts through JSON."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from server.rules import (
    ChangeKind,
    Condition,
    ConditionChange,
    EngineState,
    ExtinguisherBayReading,
    NodeStatus,
    RulesConfig,
    TankReading,
    evaluate,
    tick,
)
from tests.server.rules.conftest import T0

CONFIG = RulesConfig(timezone="Asia/Shanghai")
maybe_bool = st.none() | st.booleans()
level = st.none() | st.floats(min_value=0, max_value=100) | st.sampled_from(
    [19.9, 20.0, 20.1, 24.9, 25.0, 84.9, 85.0, 90.0, 95.0, 98.0]
)

tank_step = st.builds(
    lambda dt, lvl, turb, over, low: ("tank", dt, {
        "level_percent": lvl, "turbidity_ntu": turb, "overflow_float_up": over,
        "low_float_down": low,
    }),
    st.integers(min_value=-30, max_value=900),  # negative: late or out-of-order readings
    level,
    st.none() | st.floats(min_value=0, max_value=5),
    maybe_bool, maybe_bool,
)
bay_step = st.builds(
    lambda dt, present, pressure, door: ("bay", dt, {
        "present": present, "pressure_ok": pressure, "door_open": door,
    }),
    st.integers(min_value=-30, max_value=900), maybe_bool, maybe_bool, maybe_bool,
)
node_step = st.builds(
    lambda dt, online, fresh: ("node", dt, {"online": online, "fresh": fresh}),
    st.integers(min_value=0, max_value=600), maybe_bool, st.booleans(),
)
tick_step = st.builds(lambda dt: ("tick", dt, {}), st.integers(min_value=0, max_value=3600))
restart_step = st.just(("restart", 0, {}))
steps = st.lists(
    st.one_of(tank_step, bay_step, node_step, tick_step, restart_step), max_size=80
)


def check_alternation(changes: list[ConditionChange]) -> None:
    """Per pair: RAISED, (PRESENT)*, CLEARED, RAISED, ... and PRESENT only while raised."""
    up: dict[tuple[str, Condition], bool] = {}
    for change in changes:
        key = (change.asset_id, change.condition)
        is_up = up.get(key, False)
        if change.kind is ChangeKind.RAISED:
            assert not is_up, f"second raise of {key} without a clear"
            up[key] = True
        elif change.kind is ChangeKind.CLEARED:
            assert is_up, f"clear of {key} that was not raised"
            up[key] = False
        else:
            assert is_up, f"still-present {key} that was not raised"


@settings(max_examples=300, deadline=None)
@given(steps)
def test_random_sequences_never_raise_twice_without_a_clear(
    sequence: list[tuple[str, int, dict[str, object]]],
) -> None:
    state = EngineState()
    now = T0
    last_state_at = T0
    changes: list[ConditionChange] = []
    for kind, dt, fields in sequence:
        if kind == "restart":
            state = EngineState.from_json(json.loads(json.dumps(state.to_json())))
            continue
        if kind == "tick":
            now += timedelta(seconds=dt)
            state, found = tick(state, now=now, config=CONFIG)
        elif kind == "node":
            now += timedelta(seconds=dt)
            if fields["fresh"]:
                last_state_at = now
            status = NodeStatus("node-1", online=fields["online"],  # type: ignore[arg-type]
                                availability_at=now - timedelta(seconds=dt),
                                last_state_at=last_state_at, report_interval_s=30)
            state, found = evaluate(state, status, now=now, config=CONFIG)
        else:
            # dt < 0 sends a reading stamped in the past, without moving the clock back.
            at = now + timedelta(seconds=dt)
            now = max(now, at)
            observation = (
                TankReading("tank-1", at=at, **fields)  # type: ignore[arg-type]
                if kind == "tank"
                else ExtinguisherBayReading("ext-1", at=at, **fields)  # type: ignore[arg-type]
            )
            state, found = evaluate(state, observation, now=now, config=CONFIG)
        changes.extend(found)
        for change in found:
            assert change.since <= change.at
    check_alternation(changes)
    # The state agrees with what was reported.
    reported_up = set()
    for change in changes:
        key = (change.asset_id, change.condition)
        if change.kind is ChangeKind.RAISED:
            reported_up.add(key)
        elif change.kind is ChangeKind.CLEARED:
            reported_up.discard(key)
    assert set(state.raised()) == reported_up
