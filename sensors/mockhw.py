"""Stand-ins for the hardware behind gpiozero's MockFactory, for ``--simulate`` and the tests.

The real device classes in :mod:`sensors.devices` run unchanged on top of these; only the far
side of each wire is faked:

- :class:`FakeMCP3008` answers the MCP3008's SPI protocol on the mock SPI0 pins (gpiozero ships
  no mock ADC);
- :class:`MockSite` wires a whole :class:`~sensors.config.SensorsConfig` to mock pins and sets
  what the world looks like: water depth, float switches, turbidity, bays.

    factory = MockFactory()
    site = MockSite(config, factory)       # before the devices are built
    site.set_depth("tank-1", 80.0); site.set_bay("ext-1", present=False)
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin, MockSPIDevice, MockTriggerPin

from sensors.config import SensorsConfig
from sensors.filters import CalibrationTable

__all__ = ["FakeMCP3008", "MockSite", "SteadyTriggerPin"]

SPEED_OF_SOUND_M_S = 343.26  # the figure gpiozero's DistanceSensor uses


class SteadyTriggerPin(MockTriggerPin):
    """An HC-SR04 trigger pin whose echo pulse lasts exactly ``echo_time`` (plus chosen noise).

    gpiozero's MockTriggerPin times the echo with sleep() in a thread; whenever another Python
    thread holds the GIL (our own software-SPI ADC reads, paho) the pulse stretches by up to the
    5 ms switch interval, i.e. tens of centimetres. Here the echo's edges are stamped with the
    intended times instead, so the real DistanceSensor code measures what the model says, and
    noise is whatever ``jitter_cm`` and ``outlier_rate`` ask for (seeded, so tests repeat).
    """

    def __init__(self, factory: Any, info: Any, echo_pin: Any = None, echo_time: float = 0.004,
                 jitter_cm: float = 0.0, outlier_rate: float = 0.0, seed: int = 1) -> None:
        super().__init__(factory, info, echo_pin=echo_pin, echo_time=echo_time)
        self.jitter_cm = jitter_cm
        self.outlier_rate = outlier_rate
        self._random = random.Random(seed)

    def _set_state(self, value: bool) -> None:
        MockPin._set_state(self, value)
        if value:
            self._pulse()

    def _pulse(self) -> None:
        width = self.echo_time
        if self.jitter_cm:
            width += 2 * self._random.gauss(0.0, self.jitter_cm) / 100.0 / SPEED_OF_SOUND_M_S
        if self.outlier_rate and self._random.random() < self.outlier_rate:
            # An echo off a pipe or the inlet's splash: somewhere else entirely.
            width = self._random.uniform(0.0002, 0.012)
        width = max(width, 0.00005)
        echo: Any = self.echo_pin
        start = time.monotonic()
        for level, stamp in ((True, start), (False, start + width)):
            # MockPin passes _last_change to the device as the edge's timestamp.
            echo._state = level
            echo._last_change = stamp
            if echo._when_changed is not None:
                echo._call_when_changed()


class FakeMCP3008(MockSPIDevice):
    """The chip side of an MCP3008 on mock SPI0: eight channels held at settable voltages.

    Protocol (datasheet, single-ended): after CS falls the chip waits for a start bit, reads
    SGL/DIFF and three channel bits, then clocks out a null bit and ten result bits, MSB first.
    """

    def __init__(self, factory: MockFactory, *, select: int = 0, vref: float = 3.3) -> None:
        super().__init__(clock_pin=11, mosi_pin=10, miso_pin=9, select_pin=8 - select,
                         pin_factory=factory)
        self.vref = vref
        self.volts = [0.0] * 8
        self._lock = threading.Lock()

    def set_volts(self, channel: int, volts: float) -> None:
        with self._lock:
            self.volts[channel] = min(max(volts, 0.0), self.vref)

    def on_bit(self) -> None:
        # gpiozero sends 7 padding zeros, the start bit, SGL and 3 channel bits: 12 bits in.
        if self.rx_bit == 12:
            channel = (self.rx_buf[9] << 2) | (self.rx_buf[10] << 1) | self.rx_buf[11]
            with self._lock:
                code = round(self.volts[channel] / self.vref * 1023)
            # Null bit + 10 data bits fill the last 12 clock pulses (2 leading zeros).
            self.tx_word(min(max(code, 0), 1023), 12)


class MockSite:
    """A whole site's wiring on a MockFactory, with setters in the units the world uses."""

    def __init__(self, config: SensorsConfig, factory: MockFactory, *, jitter_cm: float = 0.0,
                 outlier_rate: float = 0.0) -> None:
        self.config = config
        self.factory = factory
        self._lock = threading.Lock()
        self._levels: dict[int, bool] = {}  # GPIO -> electrical level we hold it at
        self.adc = (FakeMCP3008(factory, select=config.adc.select, vref=config.adc.vref)
                    if config.adc is not None else None)
        self.tanks = {t.id: t for t in config.tanks}
        self.bays = {b.id: b for b in config.bays}
        self._triggers: dict[str, SteadyTriggerPin] = {}
        for i, tank in enumerate(config.tanks):
            if tank.level_sensor == "ultrasonic":
                assert tank.ultrasonic is not None
                echo = factory.pin(tank.ultrasonic.echo_pin)
                self._triggers[tank.id] = factory.pin(
                    tank.ultrasonic.trigger_pin, pin_class=SteadyTriggerPin, echo_pin=echo,
                    echo_time=0.004, jitter_cm=jitter_cm, outlier_rate=outlier_rate, seed=i + 1)

    # ---------------------------------------------------------------- switches
    def _contact(self, pin: int, meaning_when: str, value: bool) -> None:
        closed = value == (meaning_when == "closed")
        with self._lock:
            self._levels[pin] = not closed  # pulled up: closed reads low
        self._drive(pin, not closed)

    def _drive(self, pin: int, level: bool) -> None:
        mock: Any = self.factory.pin(pin)
        assert isinstance(mock, MockPin)
        if mock.function != "input":
            return
        if level:
            mock.drive_high()
        else:
            mock.drive_low()

    def sync(self) -> None:
        """Drive every switch pin again (building a device resets a pin to its pull-up)."""
        with self._lock:
            levels = dict(self._levels)
        for pin, level in levels.items():
            self._drive(pin, level)

    def set_float(self, tank_id: str, which: str, tripped: bool) -> None:
        tank = self.tanks[tank_id]
        switch = tank.overflow if which == "overflow" else tank.low_level
        if switch is not None:
            self._contact(switch.pin, switch.tripped_when, tripped)

    def set_bay(self, bay_id: str, *, present: bool | None = None,
                pressure_ok: bool | None = None, door_open: bool | None = None) -> None:
        bay = self.bays[bay_id]
        if present is not None:
            self._contact(bay.present_pin, bay.present_when, present)
        if pressure_ok is not None and bay.gauge_pin is not None:
            self._contact(bay.gauge_pin, bay.gauge_ok_when, pressure_ok)
        if door_open is not None and bay.door_pin is not None:
            self._contact(bay.door_pin, bay.door_open_when, door_open)

    # ---------------------------------------------------------------- analogue
    def set_depth(self, tank_id: str, depth_cm: float) -> None:
        """Put the water surface ``depth_cm`` above the tank floor."""
        tank = self.tanks[tank_id]
        if tank.level_sensor == "ultrasonic":
            assert tank.geometry.sensor_height_cm is not None
            distance_m = max(tank.geometry.sensor_height_cm - depth_cm, 1.0) / 100.0
            self._triggers[tank_id].echo_time = 2 * distance_m / SPEED_OF_SOUND_M_S
        else:
            assert tank.pressure is not None and self.adc is not None
            volts = CalibrationTable([(0.0, tank.pressure.empty_volts),
                                      (tank.geometry.full_depth_cm, tank.pressure.full_volts)])
            self.adc.set_volts(tank.pressure.adc_channel, volts(depth_cm))

    def set_turbidity(self, tank_id: str, ntu: float) -> None:
        tank = self.tanks[tank_id]
        if tank.turbidity is not None and self.adc is not None:
            table = CalibrationTable(tank.turbidity.table)
            self.adc.set_volts(tank.turbidity.adc_channel, table.inverse(ntu))
