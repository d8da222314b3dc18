"""config/sensors.toml: the one file an installer edits, read into typed, checked settings.

Pins are BCM GPIO numbers (``GPIO17`` is ``17``). Every switch is wired between its GPIO and
ground and read with the internal pull-up, so "closed" means the pin reads low.

Start-up stops with :class:`~foundation.errors.ConfigError` naming the key for: an unknown
setting, a pin that is not a GPIO on the 40-pin header, a pin used twice (or one the MCP3008's
SPI bus needs), a duplicate id, an impossible tank geometry or a calibration table that does not
go one way::

    config = load_sensors_config(settings.sensors_file)
    for tank in config.tanks: ...
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from foundation.errors import ConfigError
from foundation.tomlfile import read_toml

__all__ = [
    "AdcConfig",
    "BayConfig",
    "FloatConfig",
    "GeometryConfig",
    "NodeConfig",
    "PressureConfig",
    "SensorsConfig",
    "SimulationConfig",
    "TankConfig",
    "TurbidityConfig",
    "UltrasonicConfig",
    "load_sensors_config",
    "parse_sensors_config",
]

_ID = r"^[a-z0-9][a-z0-9-]{0,39}$"
# GPIO 0 and 1 are the HAT ID EEPROM bus; 2-27 are the usable GPIOs on a 40-pin header.
USABLE_GPIO = range(2, 28)
# SPI0 (CE0, CE1, MISO, MOSI, SCLK) belongs to the MCP3008 when one is fitted.
SPI0_PINS = {8: "CE0", 7: "CE1", 9: "MISO", 10: "MOSI", 11: "SCLK"}
# HC-SR04 cannot see anything closer than about 2 cm.
HCSR04_BLIND_CM = 2.0

Contact = Literal["closed", "open"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeConfig(_Section):
    id: str = Field(default="node-1", pattern=_ID)
    name: str = "Sensor node"
    # How often inputs are sampled. Switch debouncing and the level filter work on these samples.
    poll_interval_s: float = Field(default=0.05, gt=0, le=60)
    # Periodic retained state for every asset, and the node's health.
    state_interval_s: float = Field(default=60.0, gt=0)
    health_interval_s: float = Field(default=60.0, gt=0)
    # A tank's state is also sent at once when its level moved this much since the last one.
    report_change_percent: float = Field(default=2.0, gt=0, le=100)
    # Outbox bound in rows; past it periodic readings are thinned out, events are always kept.
    outbox_max_rows: int = Field(default=100_000, ge=10)
    # Readings the broker acknowledged are kept this long and sent once more (on the node's
    # replay topic) after every connect: a broker that lost power before saving them lost them.
    # Longer than the broker's autosave interval (60 s as shipped); 0 turns it off.
    replay_window_s: float = Field(default=600.0, ge=0)
    # Home Assistant wants discovery again a moment after it says it is back online.
    discovery_delay_s: float = Field(default=2.0, ge=0)
    reconnect_min_s: float = Field(default=1.0, gt=0)
    reconnect_max_s: float = Field(default=60.0, gt=0)
    # gpiozero pin factory on the Pi ("lgpio" on a Pi 5); empty: gpiozero's own choice.
    pin_factory: str = ""


class AdcConfig(_Section):
    """An MCP3008 8-channel 10-bit ADC on SPI0 (hardware SPI, CE0 or CE1)."""

    chip: Literal["mcp3008"] = "mcp3008"
    select: Literal[0, 1] = 0
    vref: float = Field(default=3.3, gt=0, le=5.5)


class UltrasonicConfig(_Section):
    trigger_pin: int
    echo_pin: int
    # Readings longer than this are "no echo"; must reach past the empty tank's floor.
    max_distance_m: float = Field(default=3.0, gt=0, le=4.5)
    # Median of this many polls, after dropping readings further than outlier_cm from it.
    window: int = Field(default=9, ge=1, le=101)
    outlier_cm: float = Field(default=10.0, gt=0)


class PressureConfig(_Section):
    """A submersible or bottom-mounted pressure transducer read on an ADC channel."""

    adc_channel: int = Field(ge=0, le=7)
    # Two-point calibration read off the meter during installation.
    empty_volts: float
    full_volts: float
    window: int = Field(default=9, ge=1, le=101)


class GeometryConfig(_Section):
    shape: Literal["rectangular", "vertical_cylinder", "horizontal_cylinder"] = "rectangular"
    length_cm: float | None = None
    width_cm: float | None = None
    diameter_cm: float | None = None
    # Water depth at 100 % (the overflow lip).
    full_depth_cm: float
    # Ultrasonic only: from the sensor's face down to the tank floor.
    sensor_height_cm: float | None = None


class TurbidityConfig(_Section):
    adc_channel: int = Field(ge=0, le=7)
    # [[volts, NTU], ...] measured with reference solutions; interpolated, clamped at the ends.
    table: list[tuple[float, float]]
    window: int = Field(default=9, ge=1, le=101)


class FloatConfig(_Section):
    pin: int
    # Which contact state means "tripped" (water reached the float).
    tripped_when: Contact = "closed"
    debounce_s: float = Field(default=1.0, ge=0)


class TankConfig(_Section):
    id: str = Field(pattern=_ID)
    name: str = ""
    level_sensor: Literal["ultrasonic", "pressure"] = "ultrasonic"
    ultrasonic: UltrasonicConfig | None = None
    pressure: PressureConfig | None = None
    geometry: GeometryConfig
    turbidity: TurbidityConfig | None = None
    overflow: FloatConfig | None = None
    low_level: FloatConfig | None = None


class BayConfig(_Section):
    id: str = Field(pattern=_ID)
    name: str = ""
    present_pin: int
    present_when: Contact = "closed"
    gauge_pin: int | None = None
    gauge_ok_when: Contact = "closed"
    door_pin: int | None = None
    # A reed switch on the door is held closed by its magnet while the door is shut.
    door_open_when: Contact = "open"
    debounce_s: float = Field(default=0.2, ge=0)


class SimulationConfig(_Section):
    """Only read by ``--simulate``: how the model tank behaves."""

    # Litres per day drawn by the households on this tank.
    daily_use_l: float = Field(default=20_000, ge=0)
    # Litres per hour through the inlet float valve while it is open.
    refill_l_per_h: float = Field(default=6_000, ge=0)
    refill_below_percent: float = Field(default=60, ge=0, le=100)
    refill_until_percent: float = Field(default=95, ge=0, le=100)
    overflow_at_percent: float = Field(default=98, ge=0, le=100)
    low_level_at_percent: float = Field(default=15, ge=0, le=100)
    start_percent: float = Field(default=80, ge=0, le=100)
    # Turbidity after cleaning, and how fast it creeps up (simulated days).
    clean_ntu: float = Field(default=0.3, ge=0)
    ntu_per_day: float = Field(default=0.05, ge=0)
    # Level change rate of "drain"/"fill" scenario steps, in percent per wall-clock second.
    step_percent_per_s: float = Field(default=5.0, gt=0)


class SensorsConfig(_Section):
    node: NodeConfig = NodeConfig()
    adc: AdcConfig | None = None
    tanks: list[TankConfig] = Field(default_factory=list, alias="tank")
    bays: list[BayConfig] = Field(default_factory=list, alias="bay")
    simulation: SimulationConfig = SimulationConfig()
    source: str | None = Field(default=None, exclude=True)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def pins(self) -> Iterator[tuple[str, int]]:
        """Every GPIO the config uses, with the key it comes from."""
        for i, tank in enumerate(self.tanks):
            if tank.ultrasonic is not None:
                yield f"tank[{i}].ultrasonic.trigger_pin", tank.ultrasonic.trigger_pin
                yield f"tank[{i}].ultrasonic.echo_pin", tank.ultrasonic.echo_pin
            for part in ("overflow", "low_level"):
                switch = getattr(tank, part)
                if switch is not None:
                    yield f"tank[{i}].{part}.pin", switch.pin
        for i, bay in enumerate(self.bays):
            for part in ("present_pin", "gauge_pin", "door_pin"):
                pin = getattr(bay, part)
                if pin is not None:
                    yield f"bay[{i}].{part}", pin


def _loc(parts: tuple[Any, ...]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(file)"


def _check_pins(config: SensorsConfig, source: str | None) -> None:
    seen: dict[int, str] = {}
    for key, pin in config.pins():
        if pin not in USABLE_GPIO:
            raise ConfigError(key, f"GPIO{pin} is not a usable GPIO on the 40-pin header "
                                   "(BCM numbers 2-27)", source)
        if config.adc is not None and pin in SPI0_PINS:
            raise ConfigError(key, f"GPIO{pin} is SPI0 {SPI0_PINS[pin]}, used by the MCP3008",
                              source)
        if pin in seen:
            raise ConfigError(key, f"GPIO{pin} is already used by {seen[pin]}", source)
        seen[pin] = key


def _check_ids(config: SensorsConfig, source: str | None) -> None:
    seen: dict[str, str] = {}
    assets = [(f"tank[{i}].id", t.id) for i, t in enumerate(config.tanks)]
    assets += [(f"bay[{i}].id", b.id) for i, b in enumerate(config.bays)]
    for key, asset_id in assets:
        if asset_id in seen:
            raise ConfigError(key, f"{asset_id!r} is already the id of {seen[asset_id]}", source)
        seen[asset_id] = key


def _positive(key: str, value: float | None, source: str | None) -> float:
    if value is None:
        raise ConfigError(key, "is required for this tank shape", source)
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(key, "must be a length above 0 cm", source)
    return value


def _check_tank(i: int, tank: TankConfig, config: SensorsConfig, source: str | None) -> None:
    key = f"tank[{i}]"
    geo = tank.geometry
    full = _positive(f"{key}.geometry.full_depth_cm", geo.full_depth_cm, source)
    if geo.shape == "rectangular":
        _positive(f"{key}.geometry.length_cm", geo.length_cm, source)
        _positive(f"{key}.geometry.width_cm", geo.width_cm, source)
    else:
        diameter = _positive(f"{key}.geometry.diameter_cm", geo.diameter_cm, source)
        if geo.shape == "horizontal_cylinder":
            _positive(f"{key}.geometry.length_cm", geo.length_cm, source)
            if full > diameter:
                raise ConfigError(f"{key}.geometry.full_depth_cm",
                                  f"{full} cm is deeper than the {diameter} cm tank", source)
    if tank.level_sensor == "ultrasonic":
        sonar = tank.ultrasonic
        if sonar is None:
            raise ConfigError(f"{key}.ultrasonic", "is required when level_sensor is "
                                                   "'ultrasonic'", source)
        height = _positive(f"{key}.geometry.sensor_height_cm", geo.sensor_height_cm, source)
        if height - full < HCSR04_BLIND_CM:
            raise ConfigError(f"{key}.geometry.sensor_height_cm",
                              f"{height} cm leaves the full water surface within the HC-SR04's "
                              f"{HCSR04_BLIND_CM:g} cm blind zone (full_depth_cm is {full})",
                              source)
        if sonar.max_distance_m * 100 < height:
            raise ConfigError(f"{key}.ultrasonic.max_distance_m",
                              f"{sonar.max_distance_m} m does not reach the floor "
                              f"{height} cm below the sensor", source)
    else:
        pressure = tank.pressure
        if pressure is None:
            raise ConfigError(f"{key}.pressure", "is required when level_sensor is "
                                                 "'pressure'", source)
        if pressure.empty_volts == pressure.full_volts:
            raise ConfigError(f"{key}.pressure.full_volts", "must differ from empty_volts",
                              source)
    for part in ("pressure", "turbidity"):
        uses_adc = getattr(tank, part) is not None and (
            part == "turbidity" or tank.level_sensor == "pressure")
        if uses_adc and config.adc is None:
            raise ConfigError(f"{key}.{part}.adc_channel", "needs an [adc] section (MCP3008)",
                              source)
    if tank.turbidity is not None:
        table = tank.turbidity.table
        tkey = f"{key}.turbidity.table"
        if len(table) < 2:
            raise ConfigError(tkey, "needs at least two [volts, NTU] points", source)
        volts = [v for v, _ in table]
        ntus = [n for _, n in table]
        if any(n < 0 for n in ntus):
            raise ConfigError(tkey, "NTU values cannot be negative", source)
        rising = all(b > a for a, b in zip(volts, volts[1:], strict=False))
        falling = all(b < a for a, b in zip(volts, volts[1:], strict=False))
        if not (rising or falling):
            raise ConfigError(tkey, "volts must go strictly one way", source)


def _check_adc_channels(config: SensorsConfig, source: str | None) -> None:
    seen: dict[int, str] = {}
    for i, tank in enumerate(config.tanks):
        parts: list[tuple[str, int]] = []
        if tank.level_sensor == "pressure" and tank.pressure is not None:
            parts.append((f"tank[{i}].pressure.adc_channel", tank.pressure.adc_channel))
        if tank.turbidity is not None:
            parts.append((f"tank[{i}].turbidity.adc_channel", tank.turbidity.adc_channel))
        for key, channel in parts:
            if channel in seen:
                raise ConfigError(key, f"ADC channel {channel} is already used by "
                                       f"{seen[channel]}", source)
            seen[channel] = key


def parse_sensors_config(raw: dict[str, Any], source: str | None = None) -> SensorsConfig:
    """Check a parsed TOML tree; raise ConfigError naming the first bad key."""
    try:
        config = SensorsConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "is not a known setting"
        raise ConfigError(_loc(tuple(first["loc"])), message, source) from None
    _check_ids(config, source)
    _check_pins(config, source)
    for i, tank in enumerate(config.tanks):
        _check_tank(i, tank, config, source)
    _check_adc_channels(config, source)
    if config.node.reconnect_max_s < config.node.reconnect_min_s:
        raise ConfigError("node.reconnect_max_s", "must not be below reconnect_min_s", source)
    if not config.tanks and not config.bays:
        raise ConfigError("tank", "no [[tank]] or [[bay]] is configured", source)
    return config.model_copy(update={"source": source})


def load_sensors_config(path: Path | str) -> SensorsConfig:
    """Read and check a sensors.toml file."""
    path = Path(path)
    source = str(path)
    raw = read_toml(path, key='sensors_file')
    return parse_sensors_config(raw, source)
