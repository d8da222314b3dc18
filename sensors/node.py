"""The sensor node's core loop: sample devices, decide what to report, store it in the outbox.

No paho here: the node only writes to :class:`~sensors.outbox.Outbox`; the publisher drains it.

What gets reported (see docs/MQTT.md):

- every ``state_interval_s``: a retained state per tank and bay;
- at once on a debounced change: an event (float tripped/cleared, extinguisher removed/returned,
  gauge out of/back in the green, door opened/closed) followed by the asset's fresh state;
- at once when a tank's filtered level moved ``report_change_percent`` since its last state;
- every ``health_interval_s``: the node's health.

Time comes from an injectable :class:`Clock`, so schedules and debouncing are tested without
waiting::

    node = SensorNode(config, site_id="site-01", topic_prefix="servicepoint", outbox=outbox)
    node.poll()            # one pass; node.run(stop_event) loops until stop_event is set
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from sensors import contract
from sensors.config import BayConfig, SensorsConfig, TankConfig
from sensors.devices import ExtinguisherBay, WaterTank
from sensors.filters import Debouncer, RobustWindow
from sensors.outbox import Outbox, Outgoing
from sensors.throttle import LogThrottle

__all__ = ["BayMonitor", "Clock", "SensorNode", "SystemClock", "TankMonitor"]

log = logging.getLogger(__name__)

CPU_THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """Wall time in the site's timezone (+08:00 in Changsha) and a monotonic timer.

    Without a timezone it uses the machine's local offset.
    """

    def __init__(self, timezone: tzinfo | None = None) -> None:
        self.timezone = timezone

    def now(self) -> datetime:
        if self.timezone is None:
            return datetime.now().astimezone()
        return datetime.now(self.timezone)

    def monotonic(self) -> float:
        return time.monotonic()


class TankMonitor:
    """A tank's filtered level and turbidity, and its debounced float switches."""

    def __init__(self, tank: WaterTank) -> None:
        self.tank = tank
        config: TankConfig = tank.config
        if config.level_sensor == "ultrasonic":
            assert config.ultrasonic is not None
            window, outlier = config.ultrasonic.window, config.ultrasonic.outlier_cm
        else:
            assert config.pressure is not None
            window, outlier = config.pressure.window, 0.05 * config.geometry.full_depth_cm
        self.window = window
        self.level = RobustWindow(window, outlier)
        self.turbidity = (RobustWindow(config.turbidity.window, math.inf)
                          if config.turbidity is not None else None)
        self.overflow = Debouncer(config.overflow.debounce_s) if config.overflow else None
        self.low_level = Debouncer(config.low_level.debounce_s) if config.low_level else None
        self._misses = 0
        self.reported_percent: float | None = None

    @property
    def ready(self) -> bool:
        return len(self.level.samples) >= self.window

    def sample(self, now: float) -> list[contract.TankEventName]:
        depth = self.tank.depth_cm
        if depth is None:
            # A few missing echoes are normal; a window's worth means the reading is stale.
            self._misses += 1
            if self._misses >= self.window:
                self.level.clear()
        else:
            self._misses = 0
            self.level.add(depth)
        if self.turbidity is not None and self.tank.turbidity is not None:
            self.turbidity.add(self.tank.turbidity.ntu)
        events: list[contract.TankEventName] = []
        overflow, low = self.tank.overflow, self.tank.low_level
        if self.overflow is not None and overflow is not None and self.overflow.update(
                overflow.is_tripped, now):
            events.append(contract.tank_event("overflow", bool(self.overflow.state)))
        if self.low_level is not None and low is not None and self.low_level.update(
                low.is_tripped, now):
            events.append(contract.tank_event("low_level", bool(self.low_level.state)))
        return events

    @property
    def level_percent(self) -> float | None:
        depth = self.level.value
        return None if depth is None else self.tank.shape.percent(depth)

    def fields(self) -> dict[str, Any]:
        depth = self.level.value
        shape = self.tank.shape
        ntu = self.turbidity.value if self.turbidity is not None else None
        return {
            "level_percent": None if depth is None else shape.percent(depth),
            "volume_l": None if depth is None else shape.litres(depth),
            "capacity_l": shape.capacity_l,
            "overflow": self.overflow.state if self.overflow is not None else None,
            "low_level": self.low_level.state if self.low_level is not None else None,
            "turbidity_ntu": None if ntu is None else round(ntu, 2),
        }


class BayMonitor:
    """An extinguisher bay's debounced contacts."""

    def __init__(self, bay: ExtinguisherBay) -> None:
        self.bay = bay
        config: BayConfig = bay.config
        self.parts: dict[str, Debouncer] = {"present": Debouncer(config.debounce_s)}
        if config.gauge_pin is not None:
            self.parts["pressure_ok"] = Debouncer(config.debounce_s)
        if config.door_pin is not None:
            self.parts["door_open"] = Debouncer(config.debounce_s)

    def sample(self, now: float) -> list[contract.BayEventName]:
        events: list[contract.BayEventName] = []
        for part, debouncer in self.parts.items():
            raw = getattr(self.bay, part)
            if debouncer.update(bool(raw), now):
                # The parts are named as the contract's state fields, so it names the event.
                events.append(contract.bay_event(part, bool(debouncer.state)))
        return events

    def fields(self) -> dict[str, Any]:
        def state(part: str) -> bool | None:
            debouncer = self.parts.get(part)
            return None if debouncer is None else debouncer.state

        return {"present": bool(state("present")), "pressure_ok": state("pressure_ok"),
                "door_open": state("door_open")}


def read_cpu_temperature(path: Path = CPU_THERMAL) -> float | None:
    """The SoC temperature in °C, or None where the kernel does not offer it (not a Pi)."""
    try:
        return round(int(path.read_text().strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


class SensorNode:
    """All of one node's devices, and the decisions about what to send when."""

    def __init__(self, config: SensorsConfig, *, site_id: str, topic_prefix: str,
                 outbox: Outbox, pin_factory: Any = None, clock: Clock | None = None,
                 cpu_temperature: Callable[[], float | None] = read_cpu_temperature) -> None:
        self.config = config
        self.site_id = site_id
        self.node_id = config.node.id
        self.prefix = topic_prefix
        self.outbox = outbox
        self.clock: Clock = clock or SystemClock()
        self.cpu_temperature = cpu_temperature
        self.tanks: list[TankMonitor] = []
        self.bays: list[BayMonitor] = []
        try:
            for tank_config in config.tanks:
                self.tanks.append(TankMonitor(WaterTank(tank_config, adc=config.adc,
                                                        pin_factory=pin_factory)))
            for bay_config in config.bays:
                self.bays.append(BayMonitor(ExtinguisherBay(bay_config, pin_factory=pin_factory)))
        except BaseException:
            self.close()
            raise
        # Set by gpiozero (from its own thread) on any edge of a float switch or bay contact:
        # the loop wakes at once instead of at its next poll.
        self._edge = threading.Event()
        for tank in self.tanks:
            tank.tank.on_switch_change(self._edge.set)
        for bay in self.bays:
            bay.bay.on_switch_change(self._edge.set)
        self.started = self.clock.monotonic()
        # Everything is due at once: the retained state should be fresh right after a restart.
        self._state_due: dict[str, float] = {}
        self._health_due = self.started
        self.polls = 0
        # Events that could not be stored yet (a full disk): kept in order and stored first on
        # the next poll, so a removal seen while the disk was full is still reported.
        self._unsaved_events: list[Callable[[int], contract.Message]] = []
        # A full disk fails every store of every poll: say so once a minute, not each time.
        self._storage_warnings = LogThrottle(log)

    # ------------------------------------------------------------------ storing
    def _store(self, build: Callable[[int], contract.Message], *, periodic: bool) -> int:
        def make(seq: int) -> Outgoing:
            message = build(seq)
            return Outgoing(contract.topic_for(message, prefix=self.prefix),
                            contract.encode(message), contract.retained(message), periodic)

        return self.outbox.add(make)

    def _ids(self, seq: int, ts: datetime | None = None) -> dict[str, Any]:
        return {"site_id": self.site_id, "node_id": self.node_id, "epoch": self.outbox.epoch,
                "seq": seq, "ts": ts or self.clock.now()}

    def _event(self, build: Callable[[int], contract.Message]) -> None:
        """Store an event; if the outbox cannot take it now, keep it for the next poll."""
        self._unsaved_events.append(build)
        self._store_events()

    def _store_events(self) -> None:
        while self._unsaved_events:
            try:
                self._store(self._unsaved_events[0], periodic=False)
            except sqlite3.Error as exc:
                self._storage_warnings.warning(
                    "events", "could not store %d event(s), kept to retry on the next poll: %s",
                    len(self._unsaved_events), exc)
                return
            self._unsaved_events.pop(0)
            if not self._unsaved_events:
                self._storage_warnings.clear("events")

    def _periodic(self, store: Callable[[], None], what: str) -> None:
        """A state or health reading: on a storage error it is logged and skipped (the next
        one is due soon), and the poll goes on to the other devices."""
        try:
            store()
        except sqlite3.Error as exc:
            self._storage_warnings.warning("periodic", "could not store the %s reading: %s",
                                           what, exc)

    def _tank_state(self, monitor: TankMonitor) -> None:
        fields = monitor.fields()
        self._store(lambda seq: contract.TankState(**self._ids(seq), asset_id=monitor.tank.id,
                                                   **fields), periodic=True)
        monitor.reported_percent = fields["level_percent"]

    def _bay_state(self, monitor: BayMonitor) -> None:
        fields = monitor.fields()
        self._store(lambda seq: contract.ExtinguisherBayState(
            **self._ids(seq), asset_id=monitor.bay.id, **fields), periodic=True)

    def health(self) -> None:
        uptime = round(self.clock.monotonic() - self.started, 1)
        cpu = self.cpu_temperature()
        depth, thinned = self.outbox.depth_after_send, self.outbox.thinned
        self._store(lambda seq: contract.NodeHealth(
            **self._ids(seq), uptime_s=max(uptime, 0.0), cpu_temp_c=cpu, outbox_depth=depth,
            outbox_thinned=thinned), periodic=True)

    # ------------------------------------------------------------------ the loop
    def _due(self, asset_id: str, now: float) -> bool:
        return now >= self._state_due.get(asset_id, self.started)

    def poll(self) -> None:
        """Sample every device once and store whatever is due."""
        now = self.clock.monotonic()
        interval = self.config.node.state_interval_s
        self._store_events()
        for tank in self.tanks:
            tank_events = tank.sample(now)
            for name in tank_events:
                level = tank.level_percent
                log.info("tank %s: %s (level %s %%)", tank.tank.id, name, level)
                self._event(lambda seq, a=tank.tank.id, e=name, lv=level, ts=self.clock.now():
                            contract.TankEvent(**self._ids(seq, ts), asset_id=a, event=e,
                                               level_percent=lv))
            level = tank.level_percent
            moved = (level is not None and (tank.reported_percent is None or abs(
                level - tank.reported_percent) >= self.config.node.report_change_percent))
            # Hold the first state until the filter window is full (or an interval passed).
            warm = tank.ready or now - self.started >= interval
            if tank_events or (warm and (self._due(tank.tank.id, now) or moved)):
                self._periodic(lambda t=tank: self._tank_state(t), f"tank {tank.tank.id} state")
                self._state_due[tank.tank.id] = now + interval
        for bay in self.bays:
            bay_events = bay.sample(now)
            for bay_event in bay_events:
                log.info("bay %s: %s", bay.bay.id, bay_event)
                self._event(lambda seq, a=bay.bay.id, e=bay_event, ts=self.clock.now():
                            contract.ExtinguisherBayEvent(**self._ids(seq, ts), asset_id=a,
                                                          event=e))
            if bay_events or self._due(bay.bay.id, now):
                self._periodic(lambda b=bay: self._bay_state(b), f"bay {bay.bay.id} state")
                self._state_due[bay.bay.id] = now + interval
        if now >= self._health_due:
            self._periodic(self.health, "node health")
            self._health_due = now + self.config.node.health_interval_s
        self.polls += 1

    def _debouncers(self) -> list[Debouncer]:
        found = [d for t in self.tanks for d in (t.overflow, t.low_level) if d is not None]
        return found + [d for b in self.bays for d in b.parts.values()]

    def next_wait(self, period: float) -> float:
        """Seconds until the loop should look again: the poll period, or sooner when a switch's
        change will have held its debounce time (a hair after, so it is accepted then)."""
        now = self.clock.monotonic()
        settles = [at for d in self._debouncers() if (at := d.settles_at()) is not None]
        if not settles:
            return period
        return max(0.0, min(period, min(settles) - now + 0.001))

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set. A failing poll is logged and the loop goes on.

        Switches are edge-triggered where gpiozero gives edges: an edge wakes the loop at once,
        and a change waiting out its debounce is looked at the moment it has held, so a switch's
        event is stored its debounce time after the pin moved, not up to a poll period later.
        The level sensors are still sampled every ``poll_interval_s``."""
        period = self.config.node.poll_interval_s
        while not stop.is_set():
            self._edge.clear()  # before the poll: an edge during it wakes the wait below
            try:
                self.poll()
            except Exception:
                log.exception("sensor poll failed; carrying on")
            self._edge.wait(self.next_wait(period))

    def close(self) -> None:
        for tank in self.tanks:
            tank.tank.close()
        for bay in self.bays:
            bay.bay.close()
        self.tanks.clear()
        self.bays.clear()
