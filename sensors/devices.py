"""The physical parts of a sensor node, named after what they are, built on gpiozero.

Each takes ``pin_factory=`` like any gpiozero device, so :class:`gpiozero.pins.mock.MockFactory`
runs them with no Pi attached. They report raw readings; filtering, debouncing and deciding what
is an event happen in :mod:`sensors.node`.

Switch convention: every contact is wired between its GPIO and ground and read with the Pi's
internal pull-up, so a closed contact reads low. ``..._when="closed"|"open"`` in the config says
which contact state means the thing the name says.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any, Literal

from gpiozero import MCP3008, DigitalInputDevice, DistanceSensor
from gpiozero.exc import GPIOZeroError, PWMSoftwareFallback

from sensors.config import AdcConfig, BayConfig, FloatConfig, TankConfig
from sensors.filters import CalibrationTable, TankShape

__all__ = [
    "Contact",
    "ExtinguisherBay",
    "FloatSwitch",
    "PressureTransducer",
    "TurbiditySensor",
    "UltrasonicLevelSensor",
    "WaterTank",
]

log = logging.getLogger(__name__)


class Contact:
    """A dry contact (switch, reed, micro-switch) between a GPIO and ground, pulled up.

    Wiring: one leg to the GPIO, the other to any GND pin; no resistor (the internal pull-up).

        door = Contact(22, meaning_when="open")   # a reed held closed by the door's magnet
        door.value                                  # True while the door is open
        door.close()
    """

    def __init__(self, pin: int, *, meaning_when: Literal["closed", "open"] = "closed",
                 pin_factory: Any = None) -> None:
        self._input = DigitalInputDevice(pin, pull_up=True, pin_factory=pin_factory)
        self.meaning_when = meaning_when

    @property
    def is_closed(self) -> bool:
        return bool(self._input.is_active)

    def on_change(self, callback: Callable[[], None]) -> bool:
        """Call ``callback`` (with no arguments) on every edge of the pin, closing or opening.

        gpiozero calls it from its own thread (the pin factory's edge detection), so it must
        only hand off, never block. Returns False where the pin cannot detect edges (then the
        node's poll is the only reader)."""
        try:
            self._input.when_activated = callback
            self._input.when_deactivated = callback
        except GPIOZeroError as exc:
            log.info("pin %s: no edge detection (%s); polled only", self._input.pin, exc)
            return False
        return True

    @property
    def value(self) -> bool:
        return self.is_closed == (self.meaning_when == "closed")

    def close(self) -> None:
        self._input.close()


class FloatSwitch(Contact):
    """A float level switch: a magnet in a float closes or opens a reed as the water reaches it.

    Fit the high float at the overflow lip and the low float where the pump must stop; wire each
    between a GPIO and ground. ``tripped_when`` says which contact state means "water reached me"
    (for a low float hanging down in an emptying tank that is usually "open").

        overflow = FloatSwitch(5, tripped_when="closed")
        if overflow.is_tripped:
            ...
    """

    def __init__(self, pin: int, *, tripped_when: Literal["closed", "open"] = "closed",
                 pin_factory: Any = None) -> None:
        super().__init__(pin, meaning_when=tripped_when, pin_factory=pin_factory)

    @property
    def is_tripped(self) -> bool:
        return self.value

    @classmethod
    def from_config(cls, config: FloatConfig, pin_factory: Any = None) -> FloatSwitch:
        return cls(config.pin, tripped_when=config.tripped_when, pin_factory=pin_factory)


class UltrasonicLevelSensor:
    """An HC-SR04 ultrasonic rangefinder in the tank lid, looking down at the water.

    Wiring: VCC to 5 V, GND to ground, TRIG to a GPIO, ECHO through a 1 kΩ/2 kΩ divider (ECHO is
    5 V, the Pi's inputs are 3.3 V) to another GPIO. Mount it at least 2 cm above the overflow lip
    and away from the inlet's splash.

        sonar = UltrasonicLevelSensor(trigger_pin=23, echo_pin=24, max_distance_m=3.0)
        sonar.distance_cm   # e.g. 61.8
        sonar.close()
    """

    def __init__(self, *, trigger_pin: int, echo_pin: int, max_distance_m: float,
                 pin_factory: Any = None) -> None:
        with warnings.catch_warnings():
            # gpiozero suggests pigpio for timing; our median filter absorbs the jitter instead.
            warnings.simplefilter("ignore", PWMSoftwareFallback)
            # A short queue: gpiozero's own median only has to drop single dropouts, and a long
            # one would block the first reading for a second.
            self._sensor = DistanceSensor(echo=echo_pin, trigger=trigger_pin, queue_len=3,
                                          max_distance=max_distance_m, pin_factory=pin_factory)
        self.max_distance_m = max_distance_m

    @property
    def distance_cm(self) -> float | None:
        """The distance to the water, or None when the echo did not come back in range."""
        metres = float(self._sensor.distance)
        if metres >= self.max_distance_m * 0.999:
            return None
        return metres * 100.0

    def close(self) -> None:
        # gpiozero's DistanceSensor.close() drops the trigger pin before it stops its sampling
        # thread, which can then fail mid-reading; stop the thread first.
        queue = getattr(self._sensor, "_queue", None)
        if queue is not None:
            queue.stop()
        self._sensor.close()


def open_adc_channel(adc: AdcConfig, channel: int, pin_factory: Any = None) -> MCP3008:
    """One channel of the node's MCP3008 (channels share the SPI bus; gpiozero locks it)."""
    return MCP3008(channel=channel, device=adc.select, max_voltage=adc.vref,
                   pin_factory=pin_factory)


class PressureTransducer:
    """A 0.5-4.5 V hydrostatic pressure transducer at the tank floor, read on an MCP3008 channel.

    Wiring: sensor output through a divider that keeps it under the ADC's VREF (3.3 V) into
    CH<n> of the MCP3008; MCP3008 on SPI0 (CLK GPIO11, DOUT GPIO9, DIN GPIO10, CS GPIO8).
    Calibrate with the volts read at the ADC pin with the tank empty and full.

        gauge = PressureTransducer(adc, channel=0, empty_volts=0.33, full_volts=2.6, full_cm=150)
        gauge.depth_cm   # e.g. 91.2
        gauge.close()
    """

    def __init__(self, adc: AdcConfig, *, channel: int, empty_volts: float, full_volts: float,
                 full_cm: float, pin_factory: Any = None) -> None:
        self._adc = open_adc_channel(adc, channel, pin_factory)
        self._scale = CalibrationTable([(empty_volts, 0.0), (full_volts, full_cm)])

    @property
    def volts(self) -> float:
        return float(self._adc.voltage)

    @property
    def depth_cm(self) -> float:
        return self._scale(self.volts)

    def close(self) -> None:
        self._adc.close()


class TurbiditySensor:
    """An optical turbidity probe (e.g. DFRobot SEN0189) in the tank, read on an MCP3008 channel.

    Clear water gives the highest voltage. Its 0-4.5 V output goes through a divider into CH<n>
    of the MCP3008; the calibration table is in volts at the ADC pin, measured in reference
    solutions (formazin standards), so the divider is part of the calibration.

        probe = TurbiditySensor(adc, channel=1, table=[(1.6, 3000.0), (2.8, 0.0)])
        probe.ntu   # e.g. 0.4
        probe.close()
    """

    def __init__(self, adc: AdcConfig, *, channel: int, table: list[tuple[float, float]],
                 pin_factory: Any = None) -> None:
        self._adc = open_adc_channel(adc, channel, pin_factory)
        self.table = CalibrationTable(table)

    @property
    def volts(self) -> float:
        return float(self._adc.voltage)

    @property
    def ntu(self) -> float:
        return max(0.0, self.table(self.volts))

    def close(self) -> None:
        self._adc.close()


class WaterTank:
    """A secondary-water-supply storage tank (二次供水蓄水池) and the sensors fitted to it.

    Built from one ``[[tank]]`` section: a level sensor (ultrasonic or pressure), optional
    overflow and low-level float switches, and an optional turbidity probe.

        tank = WaterTank(config.tanks[0], adc=config.adc)
        tank.depth_cm, tank.shape.percent(tank.depth_cm or 0)
        tank.close()
    """

    def __init__(self, config: TankConfig, *, adc: AdcConfig | None,
                 pin_factory: Any = None) -> None:
        self.config = config
        self.id = config.id
        self.shape = TankShape(config.geometry)
        self._parts: list[Any] = []
        try:
            self.sonar: UltrasonicLevelSensor | None = None
            self.pressure: PressureTransducer | None = None
            if config.level_sensor == "ultrasonic":
                assert config.ultrasonic is not None
                self.sonar = self._own(UltrasonicLevelSensor(
                    trigger_pin=config.ultrasonic.trigger_pin,
                    echo_pin=config.ultrasonic.echo_pin,
                    max_distance_m=config.ultrasonic.max_distance_m, pin_factory=pin_factory))
            else:
                assert config.pressure is not None and adc is not None
                self.pressure = self._own(PressureTransducer(
                    adc, channel=config.pressure.adc_channel,
                    empty_volts=config.pressure.empty_volts, full_volts=config.pressure.full_volts,
                    full_cm=config.geometry.full_depth_cm, pin_factory=pin_factory))
            self.overflow = (self._own(FloatSwitch.from_config(config.overflow, pin_factory))
                             if config.overflow else None)
            self.low_level = (self._own(FloatSwitch.from_config(config.low_level, pin_factory))
                              if config.low_level else None)
            self.turbidity: TurbiditySensor | None = None
            if config.turbidity is not None:
                assert adc is not None
                self.turbidity = self._own(TurbiditySensor(
                    adc, channel=config.turbidity.adc_channel,
                    table=list(config.turbidity.table), pin_factory=pin_factory))
        except BaseException:
            self.close()
            raise

    def _own(self, part: Any) -> Any:
        self._parts.append(part)
        return part

    def on_switch_change(self, callback: Callable[[], None]) -> None:
        """``callback`` on every edge of the float switches (see :meth:`Contact.on_change`)."""
        for switch in (self.overflow, self.low_level):
            if switch is not None:
                switch.on_change(callback)

    @property
    def depth_cm(self) -> float | None:
        """One raw (unfiltered) water depth reading, or None when the sensor has none."""
        if self.sonar is not None:
            distance = self.sonar.distance_cm
            if distance is None:
                return None
            assert self.config.geometry.sensor_height_cm is not None
            return self.config.geometry.sensor_height_cm - distance
        assert self.pressure is not None
        return self.pressure.depth_cm

    def close(self) -> None:
        for part in reversed(self._parts):
            try:
                part.close()
            except Exception:  # closing is best effort; one stuck part must not keep the rest
                log.debug("closing %r failed", part, exc_info=True)
        self._parts.clear()


class ExtinguisherBay:
    """A fire-extinguisher bay: the bracket, the gauge contact, and the cabinet door.

    Wiring: a micro-switch (or reed and magnet) in the bracket that the extinguisher's weight
    closes; a gauge with a green-zone contact (closed while the needle is in the green); a reed
    on the cabinet door. Each between its GPIO and ground. Gauge and door are optional.

        bay = ExtinguisherBay(config.bays[0])
        bay.present, bay.pressure_ok, bay.door_open
        bay.close()
    """

    def __init__(self, config: BayConfig, *, pin_factory: Any = None) -> None:
        self.config = config
        self.id = config.id
        self._parts: list[Contact] = []
        try:
            self._present = self._own(Contact(config.present_pin, meaning_when=config.present_when,
                                              pin_factory=pin_factory))
            self._gauge = (self._own(Contact(config.gauge_pin, meaning_when=config.gauge_ok_when,
                                             pin_factory=pin_factory))
                           if config.gauge_pin is not None else None)
            self._door = (self._own(Contact(config.door_pin, meaning_when=config.door_open_when,
                                            pin_factory=pin_factory))
                          if config.door_pin is not None else None)
        except BaseException:
            self.close()
            raise

    def _own(self, part: Contact) -> Contact:
        self._parts.append(part)
        return part

    def on_switch_change(self, callback: Callable[[], None]) -> None:
        """``callback`` on every edge of the bay's contacts (see :meth:`Contact.on_change`)."""
        for part in self._parts:
            part.on_change(callback)

    @property
    def present(self) -> bool:
        return self._present.value

    @property
    def pressure_ok(self) -> bool | None:
        return None if self._gauge is None else self._gauge.value

    @property
    def door_open(self) -> bool | None:
        return None if self._door is None else self._door.value

    def close(self) -> None:
        for part in reversed(self._parts):
            part.close()
        self._parts.clear()
