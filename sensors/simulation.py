"""``--simulate``: a small physical model of the site behind gpiozero's MockFactory.

The node runs unchanged on mock pins; this module only moves the world on the far side of them
(through :class:`~sensors.mockhw.MockSite`):

- each tank drains with household use (a morning and an evening peak) and its inlet float valve
  refills it between ``refill_below_percent`` and ``refill_until_percent``;
- the float switches follow the level; turbidity creeps up by ``ntu_per_day`` since the last
  cleaning;
- ``speed`` makes simulated time run faster than wall time (3600: an hour per second), so
  weeks of turbidity creep fit in a demo. Scenario times are wall-clock seconds.

Commands (from a scenario file, ``--step``, or typed on stdin while it runs)::

    drain tank-1 to 10%      move the level there at step_percent_per_s, then hold it
    fill tank-1 to 100%      the same, upwards
    level tank-1 50%         set the level at once and hold it
    resume tank-1            back to household use and refilling
    turbidity tank-1 3.5     set the turbidity (NTU); it keeps creeping from there
    clean tank-1             cleaned and disinfected: turbidity back to clean_ntu
    remove ext-1 / return ext-1
    open ext-1 / close ext-1         the cabinet door
    pressure ext-1 low / pressure ext-1 ok
    speed 3600
    stop                     end the process (for scripted runs)

A scenario file is TOML::

    [[step]]
    at = 20                  # seconds after start
    do = "drain tank-1 to 10%"
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from foundation.errors import ConfigError, ServicepointError
from foundation.tomlfile import read_toml
from sensors.config import SensorsConfig, TankConfig
from sensors.filters import TankShape
from sensors.mockhw import MockSite

__all__ = ["ScenarioError", "SiteModel", "Step", "load_scenario", "parse_step"]

log = logging.getLogger(__name__)


class ScenarioError(ServicepointError, ValueError):
    """A simulation command or scenario step that cannot be understood."""


@dataclass(frozen=True, slots=True)
class Step:
    at_s: float
    command: str


_PERCENT = r"(\d+(?:\.\d+)?)\s*%?"
_COMMANDS: list[tuple[str, re.Pattern[str]]] = [
    ("drain", re.compile(rf"^drain\s+(\S+)\s+to\s+{_PERCENT}$")),
    ("fill", re.compile(rf"^fill\s+(\S+)\s+to\s+{_PERCENT}$")),
    ("level", re.compile(rf"^level\s+(\S+)\s+(?:to\s+)?{_PERCENT}$")),
    ("resume", re.compile(r"^resume\s+(\S+)$")),
    ("turbidity", re.compile(r"^turbidity\s+(\S+)\s+(\d+(?:\.\d+)?)\s*(?:ntu)?$")),
    ("clean", re.compile(r"^clean\s+(\S+)$")),
    ("remove", re.compile(r"^(?:remove|take)\s+(\S+)$")),
    ("return", re.compile(r"^(?:return|replace|put back)\s+(\S+)$")),
    ("open", re.compile(r"^open\s+(\S+)$")),
    ("close", re.compile(r"^close\s+(\S+)$")),
    ("pressure", re.compile(r"^pressure\s+(\S+)\s+(low|ok)$")),
    ("speed", re.compile(r"^speed\s+(\d+(?:\.\d+)?)$")),
    ("stop", re.compile(r"^(?:stop|quit|exit)$")),
]
_TANK_VERBS = {"drain", "fill", "level", "resume", "turbidity", "clean"}
_BAY_VERBS = {"remove", "return", "open", "close", "pressure"}


def parse_command(text: str, config: SensorsConfig) -> tuple[str, list[str]]:
    """(verb, arguments) for a command, checked against the configured asset ids."""
    line = " ".join(text.strip().lower().split())
    for verb, pattern in _COMMANDS:
        match = pattern.match(line)
        if match is None:
            continue
        args = list(match.groups())
        if verb in _TANK_VERBS and args[0] not in {t.id for t in config.tanks}:
            raise ScenarioError(f"{text!r}: no tank with id {args[0]!r}")
        if verb in _BAY_VERBS and args[0] not in {b.id for b in config.bays}:
            raise ScenarioError(f"{text!r}: no extinguisher bay with id {args[0]!r}")
        if verb in ("drain", "fill", "level") and float(args[1]) > 100:
            raise ScenarioError(f"{text!r}: a level is 0-100 %")
        return verb, args
    raise ScenarioError(f"{text!r}: not a command (try 'drain tank-1 to 10%', 'remove ext-1')")


def parse_step(text: str, config: SensorsConfig) -> Step:
    """``"20: remove ext-1"`` or ``"at 20 s: remove ext-1"`` from the command line."""
    match = re.match(r"^\s*(?:at\s+)?(\d+(?:\.\d+)?)\s*s?\s*:\s*(.+)$", text)
    if match is None:
        raise ScenarioError(f"{text!r}: write a step as 'SECONDS: COMMAND'")
    step = Step(float(match.group(1)), match.group(2).strip())
    parse_command(step.command, config)
    return step


def load_scenario(path: Path | str, config: SensorsConfig) -> list[Step]:
    """Read a scenario TOML file; ConfigError names the bad step."""
    path = Path(path)
    source = str(path)
    raw = read_toml(path, key="--scenario")
    unknown = set(raw) - {"step", "description", "speed"}
    if unknown:
        raise ConfigError(sorted(unknown)[0], "is not a known scenario key", source)
    steps: list[Step] = []
    for i, item in enumerate(raw.get("step", [])):
        if not isinstance(item, dict) or set(item) - {"at", "do", "note"}:
            raise ConfigError(f"step[{i}]", "takes only at, do and note", source)
        at = item.get("at")
        if isinstance(at, bool) or not isinstance(at, int | float) or at < 0:
            raise ConfigError(f"step[{i}].at", "must be seconds after start (>= 0)", source)
        command = item.get("do")
        if not isinstance(command, str):
            raise ConfigError(f"step[{i}].do", "must be a command string", source)
        try:
            parse_command(command, config)
        except ScenarioError as exc:
            raise ConfigError(f"step[{i}].do", str(exc), source) from None
        steps.append(Step(float(at), command))
    return sorted(steps, key=lambda s: s.at_s)


def scenario_speed(path: Path | str) -> float | None:
    raw = read_toml(path, key="--scenario")
    speed = raw.get("speed")
    return float(speed) if isinstance(speed, int | float) and speed > 0 else None


def _use_profile(hour: float) -> float:
    """Relative household draw through the day: a morning and a larger evening peak."""
    def peak(centre: float, width: float) -> float:
        d = min(abs(hour - centre), 24 - abs(hour - centre))
        return math.exp(-((d / width) ** 2))

    return 0.25 + 1.5 * peak(7.0, 1.5) + 2.0 * peak(19.5, 2.0)


# Normalised so that a day's draw is exactly daily_use_l.
_PROFILE_MEAN = sum(_use_profile(h / 10) for h in range(240)) / 240


class TankModel:
    def __init__(self, config: TankConfig, sim: Any) -> None:
        self.config = config
        self.sim = sim
        self.shape = TankShape(config.geometry)
        self.percent = float(sim.start_percent)
        self.refilling = False
        self.target: float | None = None  # a scenario step moving the level
        self.held = False  # level frozen by a scenario step until "resume"
        self.ntu_base = float(sim.clean_ntu)
        self.days_since_base = 0.0

    @property
    def ntu(self) -> float:
        return self.ntu_base + self.sim.ntu_per_day * self.days_since_base

    def advance(self, wall_dt: float, sim_dt: float, hour: float) -> None:
        self.days_since_base += sim_dt / 86400.0
        if self.target is not None:
            step = self.sim.step_percent_per_s * wall_dt
            if abs(self.target - self.percent) <= step:
                self.percent, self.target = self.target, None
            else:
                self.percent += math.copysign(step, self.target - self.percent)
            return
        if self.held:
            return
        capacity = max(self.shape.capacity_l, 1e-9)
        use = self.sim.daily_use_l / 86400.0 * _use_profile(hour) / _PROFILE_MEAN * sim_dt
        if self.percent < self.sim.refill_below_percent:
            self.refilling = True
        elif self.percent >= self.sim.refill_until_percent:
            self.refilling = False
        inflow = self.sim.refill_l_per_h / 3600.0 * sim_dt if self.refilling else 0.0
        self.percent = min(max(self.percent + 100.0 * (inflow - use) / capacity, 0.0), 100.0)


class SiteModel:
    """The whole simulated site; ``tick()`` advances it and drives the mock pins."""

    def __init__(self, config: SensorsConfig, site: MockSite, *, speed: float = 1.0,
                 steps: list[Step] | None = None, monotonic: Callable[[], float] = time.monotonic,
                 on_stop: Callable[[], None] | None = None) -> None:
        self.config = config
        self.site = site
        self.speed = speed
        self.monotonic = monotonic
        self.on_stop = on_stop
        self.tanks = {t.id: TankModel(t, config.simulation) for t in config.tanks}
        self.bays = {b.id: {"present": True, "pressure_ok": True, "door_open": False}
                     for b in config.bays}
        self.steps = list(steps or [])
        self.started = monotonic()
        self._last = self.started
        self._sim_hour = datetime.now().hour + datetime.now().minute / 60.0
        self._lock = threading.Lock()
        self._push()

    def _push(self) -> None:
        sim = self.config.simulation
        for tank_id, model in self.tanks.items():
            self.site.set_depth(tank_id, model.shape.depth_for_percent(model.percent))
            self.site.set_turbidity(tank_id, model.ntu)
            self.site.set_float(tank_id, "overflow", model.percent >= sim.overflow_at_percent)
            self.site.set_float(tank_id, "low_level", model.percent <= sim.low_level_at_percent)
        for bay_id, parts in self.bays.items():
            self.site.set_bay(bay_id, **parts)

    def tick(self) -> None:
        with self._lock:
            now = self.monotonic()
            wall_dt, self._last = now - self._last, now
            sim_dt = wall_dt * self.speed
            self._sim_hour = (self._sim_hour + sim_dt / 3600.0) % 24
            for model in self.tanks.values():
                model.advance(wall_dt, sim_dt, self._sim_hour)
            due = [s for s in self.steps if s.at_s <= now - self.started]
            self.steps = [s for s in self.steps if s.at_s > now - self.started]
        for step in due:
            log.info("scenario at %.0f s: %s", step.at_s, step.command)
            self.apply(step.command)
        with self._lock:
            self._push()

    def apply(self, text: str) -> None:
        """Carry out one command; ScenarioError when it makes no sense."""
        verb, args = parse_command(text, self.config)
        with self._lock:
            if verb == "stop":
                if self.on_stop is not None:
                    self.on_stop()
            elif verb == "speed":
                self.speed = float(args[0])
            elif verb in _TANK_VERBS:
                tank = self.tanks[args[0]]
                if verb in ("drain", "fill"):
                    tank.target, tank.held = float(args[1]), True
                elif verb == "level":
                    tank.percent, tank.target, tank.held = float(args[1]), None, True
                elif verb == "resume":
                    tank.target, tank.held = None, False
                elif verb == "turbidity":
                    tank.ntu_base, tank.days_since_base = float(args[1]), 0.0
                elif verb == "clean":
                    tank.ntu_base, tank.days_since_base = self.config.simulation.clean_ntu, 0.0
            else:
                parts = self.bays[args[0]]
                if verb in ("remove", "return"):
                    parts["present"] = verb == "return"
                elif verb in ("open", "close"):
                    parts["door_open"] = verb == "open"
                else:
                    parts["pressure_ok"] = args[1] == "ok"
            self._push()
        log.info("simulation: %s", text.strip())

    def run(self, stop: threading.Event, period: float = 0.1) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("simulation tick failed; carrying on")
            stop.wait(period)
