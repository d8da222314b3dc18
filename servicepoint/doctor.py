"""``servicepoint doctor``: check a deployment, say in plain words what is wrong and how to fix it.

Each check looks at one thing an installer can get wrong on a Pi and returns one
:class:`CheckResult` (OK, WARN or FAIL, a message, and for anything not OK a fix):

    config    the site settings load (and are not development placeholders on a deployed Pi)
    broker    a real MQTT login with the configured credentials, within a short timeout
    database  the schema is at the newest migration (alembic current vs heads)
    pins      the sensors' pin file loads (no clashes), and the pins are free on this Pi
    font      the kiosk's CJK font exists and is a font
    clock     the year is plausible, time sync is on, the Pi's time zone is the site's
    disk      free space in the data folder
    public_url  phones anywhere can open the QR codes' links (servicepoint/public_url.py)

Wiring: this module is the command and the order of the checks; the checks are in
``servicepoint.checks``, and what they share (CheckResult, Probes, each program's settings as
:class:`Deployment`) in ``servicepoint.probes``. Like the ``servicepoint`` command itself, the
checks import the server's migrations and the sensors' config loader only when they run, so the
doctor never loads Kivy. Everything outside the process (commands such as ``timedatectl`` and
``gpioinfo``, the clock, disk usage, the Pi's model) comes through :class:`Probes`, which tests
replace::

    results = run_checks(load_deployment(), probes=Probes(now=lambda: fixed_time))
    exit_code = 1 if any(r.status == "FAIL" for r in results) else 0
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict

from foundation.errors import ConfigError
from kiosk.settings import load_kiosk_settings
from sensors.settings import load_node_settings
from server.settings import load_server_settings
from servicepoint.checks import (
    check_broker,
    check_clock,
    check_config,
    check_database,
    check_disk,
    check_font,
    check_pins,
)
from servicepoint.probes import ENV_FILE, CheckResult, Deployment, Probes, load_deployment
from servicepoint.public_url import check_public_url

__all__ = ["CHECKS", "CheckResult", "Deployment", "Probes", "load_deployment", "main",
           "run_checks"]

log = logging.getLogger(__name__)

# -------------------------------------------------------------------------------------- run

Check = Callable[[Deployment, Probes], CheckResult]
CHECKS: dict[str, Check] = {
    "config": check_config,
    "broker": check_broker,
    "database": check_database,
    "pins": check_pins,
    "font": check_font,
    "clock": check_clock,
    "disk": check_disk,
    "public_url": check_public_url,
}


def run_checks(settings: Deployment | None, *, probes: Probes | None = None,
               only: Sequence[str] | None = None,
               settings_errors: Sequence[ConfigError] = ()) -> Iterator[CheckResult]:
    """Run the checks in order, yielding each result as soon as it is known.

    With ``settings`` None (they did not load), only the config check runs, and fails with
    ``settings_errors`` (each program's own): every other check needs the settings.
    """
    probes = probes or Probes()
    names = list(only) if only else list(CHECKS)
    if settings is None:
        errors = list(settings_errors) or [ConfigError("(file)", "could not be loaded")]
        said = "; ".join(dict.fromkeys(str(error) for error in errors))
        yield CheckResult("config", "FAIL", f"the settings do not load: {said}.",
                          "correct the named key in servicepoint.toml or in " + ENV_FILE + ".")
        return
    for name in names:
        try:
            yield CHECKS[name](settings, probes)
        except Exception as exc:  # a check that breaks must not hide the others' answers
            log.exception("check %s failed unexpectedly", name)
            yield CheckResult(name, "FAIL", f"the check itself failed: {exc!r}.",
                              "report this with the output of servicepoint --log-level DEBUG "
                              "doctor.")


def _each_programs_error(env: Mapping[str, str] | None = None) -> list[ConfigError]:
    """What stops each program (server, sensor node, kiosk) from loading its settings: the
    installer sees every one at once (a short session key and the kiosk's shipped PIN), not
    only the first program's."""
    errors: list[ConfigError] = []
    for load in (load_server_settings, load_node_settings, load_kiosk_settings):
        try:
            load(env=env)
        except ConfigError as exc:
            errors.append(exc)
    return errors


def _summary(results: Sequence[CheckResult]) -> str:
    counts = {status: sum(r.status == status for r in results) for status in ("OK", "WARN",
                                                                               "FAIL")}
    verdict = "problems found" if counts["FAIL"] else "ready" if not counts["WARN"] else \
        "ready, with warnings"
    return (f"doctor: {len(results)} checks, {counts['OK']} OK, {counts['WARN']} WARN, "
            f"{counts['FAIL']} FAIL: {verdict}.")


def _say(line: str) -> None:
    # Report lines are the command's output for the person at the terminal, not log events.
    print(line, flush=True)  # noqa: T201


def main(argv: Sequence[str] | None = None, *, probes: Probes | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="servicepoint doctor",
        description="Check this deployment (broker login, database, pins, font, clock, disk) "
                    "and say how to fix what is wrong. Exits 1 when any check FAILs.",
        epilog="Examples: sudo servicepoint doctor; servicepoint doctor --only broker --only "
               "database; servicepoint doctor --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object for machines")
    parser.add_argument("--only", action="append", choices=list(CHECKS), metavar="CHECK",
                        help=f"run only this check (repeatable): {', '.join(CHECKS)}")
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="seconds to wait for the broker (default 3)")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    probes = probes or Probes()
    probes.broker_timeout = args.timeout
    settings: Deployment | None
    errors: list[ConfigError] = []
    try:
        settings = load_deployment()
    except ConfigError:
        settings, errors = None, _each_programs_error()
    results: list[CheckResult] = []
    for result in run_checks(settings, probes=probes, only=args.only, settings_errors=errors):
        results.append(result)
        if not args.json:
            _say(result.line())  # each line as soon as it is known: the broker may take seconds
    failed = any(r.status == "FAIL" for r in results)
    if args.json:
        _say(json.dumps({"ok": not failed, "summary": _summary(results),
                         "checks": [asdict(r) for r in results]}, ensure_ascii=False))
    else:
        _say(_summary(results))
    return 1 if failed else 0
