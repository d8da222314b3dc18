"""The ``servicepoint`` command.

Each part of the system registers its subcommand here as ``"module:function"``; the module is
imported only when its subcommand runs, so ``servicepoint server`` never loads Kivy and
``servicepoint kiosk`` never loads SQLAlchemy. A delegated function takes the remaining
arguments (a list of strings) and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from foundation.errors import ConfigError, ServicepointError
from foundation.logs import configure_logging

__all__ = ["main"]

log = logging.getLogger(__name__)

# name -> (entry point, one-line help). Each entry point owns its own --help and examples.
COMMANDS: dict[str, tuple[str, str]] = {
    "server": ("server.cli:serve", "run the HTTP server (and, with a broker, sensor ingest)"),
    "db": ("server.cli:db", "database maintenance: `db upgrade`, `db backup FILE`"),
    "seed": ("server.cli:seed", "load places, squads, volunteers and staff from a TOML file"),
    "sensors": ("sensors.cli:main", "run the sensor node (`--simulate` for mock GPIO)"),
    "kiosk": ("kiosk.cli:main", "run the touchscreen kiosk"),
    "demo": ("servicepoint.demo:main", "bring up the whole system on this machine"),
    "library": ("server.library.cli:main",
                "library: import the catalog, print labels and cards, send reminders"),
    "doctor": ("servicepoint.doctor:main", "check a deployment and say how to fix what is wrong"),
    "open311": ("server.open311.cli:main", "Open311: `open311 key CLIENT` prints a new API key"),
    "district": ("server.district_move.cli:main",
                 "move a single-site Pi into a district: `district export`, `district import`"),
    "posters": ("server.posters:main",
                "print an A4 poster per building (扫码报修) with a QR code to the phone form"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicepoint",
        description="Community service point: kiosk, sensors and server.",
        epilog="Example: servicepoint seed --demo && servicepoint server",
    )
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_target, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, rest = parser.parse_known_args(args_in)
    if args.command is None:
        parser.print_help()
        return 2
    configure_logging(args.log_level)
    module_name, _, func_name = COMMANDS[args.command][0].partition(":")
    try:
        entry = getattr(importlib.import_module(module_name), func_name)
        return int(entry(rest) or 0)
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return 78  # EX_CONFIG
    except ServicepointError as exc:
        log.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        return 130
