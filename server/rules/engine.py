"""The rules engine: a pure function of (state, observation, now, config) -> (state, changes).

Every reading-driven condition runs through the same two steps:

1. **Hysteresis comparator.** Each signal puts the reading in a *raise* zone, a *clear* zone or
   the dead band between them (``low_level``: at or below 20 % raises, at or above 25 % clears).
   The comparator turns on in the raise zone, off in the clear zone, and holds in the dead band,
   so a level wobbling at 20 % does not toggle it. A signal a node does not report (``None``)
   also holds.
2. **Minimum duration.** The condition is raised once the comparator has been on for
   ``raise_after`` in total during one *episode*, and cleared once it has stayed off for
   ``clear_after`` without a break. An episode ends only after ``clear_after`` off, so a float
   switch chattering for a minute raises one condition, not many, and a cabinet door banging in
   the wind for half an hour still raises one (it is open half the time) instead of none. A lone
   glitch reading adds only its own few seconds and is forgotten after ``clear_after``.

The state of each (asset, condition) pair is a small :class:`ConditionState`; all of them make an
:class:`EngineState`, which round-trips through JSON (``to_json`` / ``from_json``) so the server
can persist it and pick up after a restart. The ingest wires it like this::

    state = EngineState.from_json(stored) if stored else EngineState()
    state, changes = evaluate(state, reading, now=clock(), config=config)   # on every message
    state, changes = tick(state, now=clock(), config=config)                # on a timer
    state, changes = evaluate_node(state, node_status, now=clock(), config=config)
    store(state.to_json()); for change in changes: tickets.apply(change)

``tick`` fires the durations that elapse between messages (a node that reports only on change
sends one "overflow float up" and then nothing); :func:`next_deadline` says when it is next
worth calling. Observations are timed by their own timestamp, clamped to ``now`` (a Pi with a
wrong clock cannot raise from the future); one older than the last seen for its asset (a late
duplicate) is ignored. Callers may keep one state for the whole site or one per asset: each
evaluation only touches the pairs of its own asset.

Longer than the house's 400 lines on purpose: the comparator, the duration rule, the state's JSON
form and the three kinds of asset read as one piece, and the property tests cover it as one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from server.rules.conditions import ChangeKind, Condition, ConditionChange, Evidence
from server.rules.config import RulesConfig, Timing
from server.rules.errors import RulesError, StateError
from server.rules.observations import ExtinguisherBayReading, NodeStatus, TankReading

__all__ = [
    "ConditionState",
    "EngineState",
    "evaluate",
    "evaluate_bay",
    "evaluate_node",
    "evaluate_tank",
    "next_deadline",
    "tick",
]

logger = logging.getLogger(__name__)

STATE_VERSION = 1
# How far ahead of the server a node's clock may be before its readings are logged as wrong.
CLOCK_SKEW_TOLERANCE = timedelta(seconds=2)

Changes = tuple[ConditionChange, ...]


class _Zone(Enum):
    RAISE = "raise"
    CLEAR = "clear"
    HOLD = "hold"


@dataclass(frozen=True)
class ConditionState:
    """Where one (asset, condition) pair stands.

    ``active`` is the comparator's output and ``since`` when it last changed. ``started`` is
    when this episode began and ``on_s`` the seconds it was on before ``since`` (the time since
    ``since`` counts too while it is on). ``raised`` says whether the condition has been
    reported raised (and not yet cleared).
    """

    active: bool
    since: datetime
    started: datetime
    on_s: float = 0.0
    raised: bool = False
    raised_at: datetime | None = None
    evidence: Evidence = field(default_factory=dict)


_Key = tuple[str, Condition]


@dataclass(frozen=True)
class EngineState:
    """Every tracked pair, and the time of the last observation used per asset.

    Pairs that are neither raised nor pending are dropped, so the state stays small.
    """

    conditions: Mapping[_Key, ConditionState] = field(default_factory=dict)
    last_seen: Mapping[str, datetime] = field(default_factory=dict)

    def get(self, asset_id: str, condition: Condition) -> ConditionState | None:
        return self.conditions.get((asset_id, condition))

    def is_raised(self, asset_id: str, condition: Condition) -> bool:
        found = self.get(asset_id, condition)
        return found is not None and found.raised

    def raised(self) -> list[tuple[str, Condition]]:
        """The pairs currently raised, sorted (for the dashboard and for reconciliation)."""
        return sorted(key for key, cs in self.conditions.items() if cs.raised)

    def to_json(self) -> dict[str, Any]:
        """A plain dict of JSON types (strings, numbers, booleans, lists, dicts)."""
        return {
            "version": STATE_VERSION,
            "conditions": [
                {
                    "asset_id": asset_id,
                    "condition": condition.value,
                    "active": cs.active,
                    "since": cs.since.isoformat(),
                    "started": cs.started.isoformat(),
                    "on_s": cs.on_s,
                    "raised": cs.raised,
                    "raised_at": cs.raised_at.isoformat() if cs.raised_at else None,
                    "evidence": dict(cs.evidence),
                }
                for (asset_id, condition), cs in sorted(self.conditions.items())
            ],
            "last_seen": {asset: at.isoformat() for asset, at in sorted(self.last_seen.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EngineState:
        """Read back :meth:`to_json`; raise :class:`StateError` if it is not that shape."""
        try:
            if data.get("version") != STATE_VERSION:
                raise StateError(f"unknown state version {data.get('version')!r}")
            conditions: dict[_Key, ConditionState] = {}
            for item in data["conditions"]:
                raised_at = item["raised_at"]
                evidence = item["evidence"]
                if not isinstance(evidence, Mapping):
                    raise StateError("evidence must be an object")
                conditions[(str(item["asset_id"]), Condition(item["condition"]))] = (
                    ConditionState(
                        active=_bool(item["active"]),
                        since=_when(item["since"]),
                        started=_when(item["started"]),
                        on_s=_seconds(item["on_s"]),
                        raised=_bool(item["raised"]),
                        raised_at=_when(raised_at) if raised_at is not None else None,
                        evidence=dict(evidence),
                    )
                )
            last_seen = {str(k): _when(v) for k, v in data["last_seen"].items()}
        except StateError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError(f"evaluation state does not parse: {exc!r}") from None
        return cls(conditions=conditions, last_seen=last_seen)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise StateError(f"expected a boolean, got {value!r}")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise StateError(f"expected a non-negative number of seconds, got {value!r}")
    return float(value)


def _when(value: Any) -> datetime:
    if not isinstance(value, str):
        raise StateError(f"expected an ISO time, got {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise StateError(f"time without a timezone: {value!r}")
    return parsed


# --- the two steps -------------------------------------------------------------------------


def _compare(prev: ConditionState | None, zone: _Zone, at: datetime) -> ConditionState | None:
    if prev is None:
        return ConditionState(active=True, since=at, started=at) if zone is _Zone.RAISE else None
    # A change never dates from before the last one (a node's sign of life can be older).
    at = max(at, prev.since)
    if zone is _Zone.RAISE and not prev.active:
        return replace(prev, active=True, since=at)
    if zone is _Zone.CLEAR and prev.active:
        on_for = max((at - prev.since).total_seconds(), 0.0)
        return replace(prev, active=False, since=at, on_s=prev.on_s + on_for)
    return prev


def _on_time(cs: ConditionState, at: datetime) -> timedelta:
    current = at - cs.since if cs.active else timedelta(0)
    return timedelta(seconds=cs.on_s) + max(current, timedelta(0))


def _debounce(
    cs: ConditionState, at: datetime, timing: Timing
) -> tuple[ConditionState | None, ChangeKind | None]:
    off_long_enough = not cs.active and at - cs.since >= timing.clear_after
    if cs.raised:
        return (None, ChangeKind.CLEARED) if off_long_enough else (cs, ChangeKind.PRESENT)
    if off_long_enough:
        return None, None  # the episode ended without reaching its duration: forget it
    if cs.active and _on_time(cs, at) >= timing.raise_after:
        return replace(cs, raised=True, raised_at=at), ChangeKind.RAISED
    return cs, None


@dataclass(frozen=True)
class _Signal:
    condition: Condition
    zone: _Zone | None  # None: the reading says nothing about it
    timing: Timing
    evidence: Evidence


def _combine(*zones: _Zone | None) -> _Zone | None:
    """Any signal in its raise zone raises; all known signals must agree to clear."""
    known = [zone for zone in zones if zone is not None]
    if not known:
        return None
    if _Zone.RAISE in known:
        return _Zone.RAISE
    if all(zone is _Zone.CLEAR for zone in known):
        return _Zone.CLEAR
    return _Zone.HOLD


def _below(value: float | None, raise_at: float, clear_at: float) -> _Zone | None:
    """Raise at or below ``raise_at``, clear at or above ``clear_at`` (``clear_at`` is higher)."""
    if value is None:
        return None
    if value <= raise_at:
        return _Zone.RAISE
    return _Zone.CLEAR if value >= clear_at else _Zone.HOLD


def _above(value: float | None, raise_at: float, clear_at: float, *, strict: bool = False) -> (
    _Zone | None
):
    """Raise at or above ``raise_at`` (strictly above if ``strict``), clear at or below."""
    if value is None:
        return None
    if value > raise_at or (value == raise_at and not strict):
        return _Zone.RAISE
    return _Zone.CLEAR if value <= clear_at else _Zone.HOLD


def _switch(value: bool | None, *, raise_when: bool) -> _Zone | None:
    if value is None:
        return None
    return _Zone.RAISE if value is raise_when else _Zone.CLEAR


def _change(
    config: RulesConfig, asset_id: str, condition: Condition, kind: ChangeKind, at: datetime,
    cs: ConditionState,
) -> ConditionChange:
    return ConditionChange(
        asset_id=asset_id,
        condition=condition,
        kind=kind,
        severity=config.severity_of(condition),
        at=at,
        # A raise dates from the start of its episode, a clear from when the signal went off.
        since=cs.since if kind is ChangeKind.CLEARED else cs.started,
        evidence=dict(cs.evidence),
    )


def _logged(change: ConditionChange) -> ConditionChange:
    if change.kind is not ChangeKind.PRESENT:
        logger.info("%s %s on %s since %s", change.kind.value, change.condition.value,
                    change.asset_id, change.since.isoformat())
    return change


def _apply_signals(
    state: EngineState,
    asset_id: str,
    at: datetime,
    signals: Iterable[_Signal],
    config: RulesConfig,
) -> tuple[EngineState, Changes]:
    conditions = dict(state.conditions)
    changes: list[ConditionChange] = []
    for signal in signals:
        key = (asset_id, signal.condition)
        zone = signal.zone if signal.zone is not None else _Zone.HOLD
        cs = _compare(conditions.get(key), zone, at)
        if cs is None:
            conditions.pop(key, None)
            continue
        if signal.zone is not None and signal.evidence:
            cs = replace(cs, evidence=signal.evidence)
        after, kind = _debounce(cs, at, signal.timing)
        if after is None:
            conditions.pop(key, None)
        else:
            conditions[key] = after
        if kind is ChangeKind.PRESENT and signal.zone is None:
            continue  # this reading says nothing new about it
        if kind is not None:
            changes.append(_logged(_change(config, asset_id, signal.condition, kind, at, cs)))
    last_seen = {**state.last_seen, asset_id: at}
    return EngineState(conditions=conditions, last_seen=last_seen), tuple(changes)


def _observation_time(state: EngineState, asset_id: str, at: datetime, now: datetime) -> (
    datetime | None
):
    _require_aware(now)
    if at > now:
        # A node's clock ahead of ours must not make a duration elapse early. Clocks kept by
        # NTP differ by milliseconds, which is no news: only a clock that is really wrong is
        # worth a line in the log.
        if at - now > CLOCK_SKEW_TOLERANCE:
            logger.warning("reading for %s is from the future (%s > %s); using now",
                           asset_id, at.isoformat(), now.isoformat())
        at = now
    last = state.last_seen.get(asset_id)
    if last is not None and at < last:
        logger.debug("ignoring an out-of-order reading for %s at %s (last %s)",
                     asset_id, at.isoformat(), last.isoformat())
        return None
    return at


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise RulesError(f"now must be timezone-aware, got {now.isoformat()}")


# --- public evaluations --------------------------------------------------------------------


def evaluate_tank(
    state: EngineState, reading: TankReading, *, now: datetime, config: RulesConfig
) -> tuple[EngineState, Changes]:
    """Low level, high level, overflow and turbidity for one tank reading."""
    at = _observation_time(state, reading.asset_id, reading.at, now)
    if at is None:
        return state, ()
    rules = config.tank_rules(reading.asset_id)
    level = reading.level_percent
    level_evidence: dict[str, float | int | bool | str | None] = {
        "level_percent": level, "volume_l": reading.volume_l,
    }
    signals = [
        _Signal(
            Condition.LOW_LEVEL,
            _combine(
                _below(level, rules.low_raise_percent, rules.low_clear_percent),
                _switch(reading.low_float_down, raise_when=True),
            ),
            rules.level_timing,
            {**level_evidence, "low_float_down": reading.low_float_down},
        ),
        _Signal(
            Condition.HIGH_LEVEL,
            _above(level, rules.high_raise_percent, rules.high_clear_percent),
            rules.level_timing,
            level_evidence,
        ),
        _Signal(
            Condition.OVERFLOW,
            _combine(
                _above(level, rules.overflow_raise_percent, rules.overflow_clear_percent),
                _switch(reading.overflow_float_up, raise_when=True),
            ),
            rules.overflow_timing,
            {**level_evidence, "overflow_float_up": reading.overflow_float_up},
        ),
        _Signal(
            Condition.TURBIDITY_HIGH,
            _above(reading.turbidity_ntu, rules.turbidity_raise_ntu, rules.turbidity_clear_ntu,
                   strict=True),
            rules.turbidity_timing,
            {"turbidity_ntu": reading.turbidity_ntu},
        ),
    ]
    return _apply_signals(state, reading.asset_id, at, signals, config)


def evaluate_bay(
    state: EngineState, reading: ExtinguisherBayReading, *, now: datetime, config: RulesConfig
) -> tuple[EngineState, Changes]:
    """Missing from the bracket, gauge out of the green zone, cabinet door left open."""
    at = _observation_time(state, reading.asset_id, reading.at, now)
    if at is None:
        return state, ()
    rules = config.extinguisher_rules(reading.asset_id)
    # With the extinguisher out of its bracket the gauge switch reads nothing meaningful.
    pressure = (
        _Zone.HOLD if reading.present is False else _switch(reading.pressure_ok, raise_when=False)
    )
    signals = [
        _Signal(Condition.MISSING, _switch(reading.present, raise_when=False),
                rules.missing_timing, {"present": reading.present}),
        _Signal(Condition.PRESSURE_LOW, pressure, rules.pressure_timing,
                {"pressure_ok": reading.pressure_ok}),
        _Signal(Condition.DOOR_OPEN, _switch(reading.door_open, raise_when=True),
                rules.door_timing, {"door_open": reading.door_open}),
    ]
    return _apply_signals(state, reading.asset_id, at, signals, config)


def evaluate_node(
    state: EngineState, status: NodeStatus, *, now: datetime, config: RulesConfig
) -> tuple[EngineState, Changes]:
    """A sensor node is offline on its last will, or after silence_factor x its interval.

    Call it on every availability or state message from the node and on the timer, since
    silence is noticed only by looking at the clock. It reports raises and clears only.
    """
    _require_aware(now)
    silent_after = timedelta(seconds=status.report_interval_s * config.node.silence_factor)
    silence_at = status.last_state_at + silent_after if status.last_state_at else None
    will_is_latest = status.online is False and (
        status.last_state_at is None
        or status.availability_at is None
        or status.last_state_at <= status.availability_at
    )
    zone: _Zone
    if will_is_latest:
        zone, zone_at = _Zone.RAISE, status.availability_at or now
    elif silence_at is not None and now >= silence_at:
        zone, zone_at = _Zone.RAISE, silence_at
    elif status.online is True or silence_at is not None:
        signs_of_life = [t for t in (status.availability_at, status.last_state_at) if t]
        zone, zone_at = _Zone.CLEAR, max(signs_of_life, default=now)
    else:
        zone, zone_at = _Zone.HOLD, now
    zone_at = min(zone_at, now)

    key = (status.node_id, Condition.OFFLINE)
    conditions = dict(state.conditions)
    cs = _compare(conditions.get(key), zone, zone_at)
    if cs is None:
        conditions.pop(key, None)
        return replace(state, conditions=conditions), ()
    cs = replace(cs, evidence={
        "online": status.online,
        "last_state_at": status.last_state_at.isoformat() if status.last_state_at else None,
        "report_interval_s": status.report_interval_s,
    })
    after, kind = _debounce(cs, now, config.node.offline_timing)
    if after is None:
        conditions.pop(key, None)
    else:
        conditions[key] = after
    new_state = replace(state, conditions=conditions)
    if kind is None or kind is ChangeKind.PRESENT:
        return new_state, ()
    return new_state, (_logged(_change(config, status.node_id, Condition.OFFLINE, kind, now, cs)),)


def evaluate(
    state: EngineState,
    observation: TankReading | ExtinguisherBayReading | NodeStatus,
    *,
    now: datetime,
    config: RulesConfig,
) -> tuple[EngineState, Changes]:
    """Dispatch one observation to its rule set."""
    if isinstance(observation, TankReading):
        return evaluate_tank(state, observation, now=now, config=config)
    if isinstance(observation, ExtinguisherBayReading):
        return evaluate_bay(state, observation, now=now, config=config)
    if isinstance(observation, NodeStatus):
        return evaluate_node(state, observation, now=now, config=config)
    raise RulesError(f"not an observation: {type(observation).__name__}")


def _timing_of(config: RulesConfig, asset_id: str, condition: Condition) -> Timing:
    if condition in (Condition.LOW_LEVEL, Condition.HIGH_LEVEL):
        return config.tank_rules(asset_id).level_timing
    if condition is Condition.OVERFLOW:
        return config.tank_rules(asset_id).overflow_timing
    if condition is Condition.TURBIDITY_HIGH:
        return config.tank_rules(asset_id).turbidity_timing
    if condition is Condition.MISSING:
        return config.extinguisher_rules(asset_id).missing_timing
    if condition is Condition.PRESSURE_LOW:
        return config.extinguisher_rules(asset_id).pressure_timing
    if condition is Condition.DOOR_OPEN:
        return config.extinguisher_rules(asset_id).door_timing
    if condition is Condition.OFFLINE:
        return config.node.offline_timing
    raise RulesError(f"{condition.value} is a schedule condition and has no timing")


def tick(state: EngineState, *, now: datetime, config: RulesConfig) -> tuple[EngineState, Changes]:
    """Fire the raises and clears whose minimum duration has elapsed since the last message."""
    _require_aware(now)
    conditions = dict(state.conditions)
    changes: list[ConditionChange] = []
    for key, cs in sorted(state.conditions.items()):
        if now < cs.since:
            continue
        asset_id, condition = key
        after, kind = _debounce(cs, now, _timing_of(config, asset_id, condition))
        if after is None:
            conditions.pop(key, None)
        else:
            conditions[key] = after
        if kind in (ChangeKind.RAISED, ChangeKind.CLEARED):
            changes.append(_logged(_change(config, asset_id, condition, kind, now, cs)))
    return replace(state, conditions=conditions), tuple(changes)


def next_deadline(state: EngineState, config: RulesConfig) -> datetime | None:
    """The earliest time a pending raise or clear would fire, for scheduling :func:`tick`."""
    deadlines: list[datetime] = []
    for (asset_id, condition), cs in state.conditions.items():
        timing = _timing_of(config, asset_id, condition)
        if cs.active and not cs.raised:
            deadlines.append(cs.since + timing.raise_after - timedelta(seconds=cs.on_s))
        elif not cs.active and cs.raised:
            deadlines.append(cs.since + timing.clear_after)
    return min(deadlines, default=None)
