"""``servicepoint sensors``: run the sensor node until stopped (SIGTERM or Ctrl-C).

The broker, site id and data folder come from the site settings (``load_node_settings()``, so
``SERVICEPOINT_MQTT_URL`` overrides the file); pins and intervals from config/sensors.toml.

Examples::

    servicepoint sensors                              # on the Pi
    servicepoint sensors --check-config               # validate sensors.toml and exit
    servicepoint sensors --simulate                   # mock GPIO and a model tank
    servicepoint sensors --simulate --scenario config/scenarios/demo.toml --speed 3600
    servicepoint sensors --simulate --step "20: drain tank-1 to 10%" --step "40: remove ext-1"

With ``--simulate``, commands typed on stdin act at once (``remove ext-1``, ``open ext-2``...).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from foundation.errors import ConfigError
from sensors.config import SensorsConfig, load_sensors_config
from sensors.settings import load_node_settings

__all__ = ["main"]

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicepoint sensors",
        description="Read the tank and extinguisher sensors and publish them over MQTT.",
        epilog="Example: servicepoint sensors --simulate --scenario config/scenarios/demo.toml",
    )
    parser.add_argument("--simulate", action="store_true",
                        help="run on gpiozero's MockFactory with a model of the site")
    parser.add_argument("--scenario", type=Path, metavar="FILE",
                        help="with --simulate: a TOML file of timed steps")
    parser.add_argument("--step", action="append", default=[], metavar="'SECONDS: COMMAND'",
                        help="with --simulate: one more timed step (repeatable)")
    parser.add_argument("--speed", type=float, default=None,
                        help="with --simulate: simulated seconds per real second (default 1)")
    parser.add_argument("--node-id", help="override [node].id from sensors.toml")
    parser.add_argument("--sensors-file", type=Path, metavar="FILE",
                        help="sensors.toml to use instead of the one in the site settings")
    parser.add_argument("--no-stdin", action="store_true",
                        help="with --simulate: do not read commands from stdin")
    parser.add_argument("--check-config", action="store_true",
                        help="check the configuration, print a summary and exit")
    return parser


def _load(args: argparse.Namespace) -> tuple[Any, SensorsConfig]:
    settings = load_node_settings()
    config = load_sensors_config(args.sensors_file or settings.sensors_file)
    if args.node_id:
        if not re.match(r"^[a-z0-9][a-z0-9-]{0,39}$", args.node_id):
            raise ConfigError("--node-id", "must be lowercase letters, digits and '-' (max 40)")
        config = config.model_copy(
            update={"node": config.node.model_copy(update={"id": args.node_id})})
    return settings, config


def _summary(settings: Any, config: SensorsConfig) -> str:
    lines = [f"node {config.node.id} at site {settings.site.id}, broker "
             f"{settings.mqtt.broker.host}:{settings.mqtt.broker.port}"]
    for tank in config.tanks:
        lines.append(f"  tank {tank.id}: {tank.level_sensor} level, "
                     f"{tank.geometry.shape} {tank.geometry.full_depth_cm:g} cm deep")
    for bay in config.bays:
        lines.append(f"  bay {bay.id}: present GPIO{bay.present_pin}, gauge "
                     f"{bay.gauge_pin and f'GPIO{bay.gauge_pin}'}, door "
                     f"{bay.door_pin and f'GPIO{bay.door_pin}'}")
    for key, pin in sorted(config.pins(), key=lambda kp: kp[1]):
        lines.append(f"  GPIO{pin:<2} {key}")
    return "\n".join(lines)


def _site_timezone(name: str) -> Any:
    """The site's zone for timestamps; the machine's own offset if the zone is unknown here."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("timezone %r is not known on this machine; using its local offset", name)
        return None


def _read_stdin(model: Any, stop: threading.Event) -> None:
    from sensors.simulation import ScenarioError

    for line in sys.stdin:
        if stop.is_set():
            return
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            model.apply(line)
        except ScenarioError as exc:
            log.warning("%s", exc)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings, config = _load(args)
    if args.check_config:
        print(_summary(settings, config))  # noqa: T201 (the command's own output)
        return 0
    if (args.scenario or args.step or args.speed) and not args.simulate:
        raise ConfigError("--scenario", "--scenario, --step and --speed need --simulate")

    # Heavy imports only now, so --help and --check-config stay quick.
    from gpiozero import Device

    from sensors.discovery import discovery_messages
    from sensors.node import SensorNode, SystemClock
    from sensors.outbox import Outbox, outbox_path
    from sensors.publisher import Publisher

    stop = threading.Event()
    pin_factory: Any = None
    model: Any = None
    if args.simulate:
        from gpiozero.pins.mock import MockFactory

        from sensors.mockhw import MockSite
        from sensors.simulation import SiteModel, load_scenario, parse_step, scenario_speed

        steps = load_scenario(args.scenario, config) if args.scenario else []
        steps = sorted(steps + [parse_step(s, config) for s in args.step], key=lambda s: s.at_s)
        speed = args.speed or (scenario_speed(args.scenario) if args.scenario else None) or 1.0
        pin_factory = MockFactory()
        # gpiozero's software SPI bus asks for the global factory; make it this one.
        Device.pin_factory = pin_factory
        site = MockSite(config, pin_factory, jitter_cm=0.5, outlier_rate=0.05)
        model = SiteModel(config, site, speed=speed, steps=steps, on_stop=stop.set)
    elif config.node.pin_factory:
        os.environ.setdefault("GPIOZERO_PIN_FACTORY", config.node.pin_factory)

    def _stop(signum: int, frame: Any) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    outbox = Outbox(outbox_path(settings.data_dir, config.node.id),
                    max_rows=config.node.outbox_max_rows,
                    keep_sent_s=config.node.replay_window_s)
    node = publisher = None
    threads: list[threading.Thread] = []
    try:
        node = SensorNode(config, site_id=settings.site.id, topic_prefix=settings.mqtt.topic_prefix,
                          outbox=outbox, pin_factory=pin_factory,
                          clock=SystemClock(_site_timezone(settings.site.timezone)))
        if model is not None:
            site.sync()
            threads.append(threading.Thread(target=model.run, args=(stop,), name="simulation",
                                            daemon=True))
            if not args.no_stdin:
                threads.append(threading.Thread(target=_read_stdin, args=(model, stop),
                                                name="sim-stdin", daemon=True))
        publisher = Publisher(
            outbox, mqtt_settings=settings.mqtt, site_id=settings.site.id, node_id=config.node.id,
            discovery=discovery_messages(config, site_id=settings.site.id,
                                         prefix=settings.mqtt.topic_prefix,
                                         discovery_prefix=settings.mqtt.discovery_prefix),
            discovery_delay_s=config.node.discovery_delay_s,
            reconnect_min_s=config.node.reconnect_min_s,
            reconnect_max_s=config.node.reconnect_max_s)
        publisher.start()
        for thread in threads:
            thread.start()
        log.info("sensor node %s running%s (outbox %s, %d waiting)", config.node.id,
                 " in simulation" if args.simulate else "", outbox.path, outbox.depth)
        node.run(stop)
    finally:
        stop.set()
        if publisher is not None:
            publisher.stop()
        if node is not None:
            node.close()
        outbox.close()
    return 0
