"""``servicepoint district export|import``: move a single-site Pi's database into the centre.

    servicepoint district export --out pi.db          # on the Pi: a consistent copy
    servicepoint district import pi.db --site site-07 --database postgresql://…/servicepoint

``import`` works on a copy of the file, brought to the newest schema, and brings the centre's
database to it too; the rows are copied by server/district_move/move.py and what was moved is
printed per table. Registered in servicepoint/cli.py.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from server.db import make_engine, upgrade
from server.district_move.move import MoveRefused, move_pi
from server.settings import load_server_settings

__all__ = ["main"]

log = logging.getLogger(__name__)

SITE_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")  # as in MQTT topics and [site] id


def _say(line: str, *, error: bool = False) -> None:
    # The command's report, for the person at the terminal: not log events.
    print(line, file=sys.stderr if error else sys.stdout, flush=True)  # noqa: T201


def export(out: Path) -> int:
    settings = load_server_settings()
    url = settings.database_url
    if not url.startswith("sqlite"):
        _say("export is for a Pi's SQLite database; this one is " + url.split(":", 1)[0],
             error=True)
        return 2
    source = sqlite3.connect(url.split("///", 1)[-1])
    target = sqlite3.connect(out)
    with target:
        source.backup(target)  # consistent while the server writes, as `db backup`
    source.close()
    target.close()
    _say(f"exported to {out}; on the centre: servicepoint district import {out.name} "
         "--site <its site id>")
    return 0


def run_import(file: Path, *, site: str, database: str | None) -> int:
    if not file.is_file():
        _say(f"no such file: {file}", error=True)
        return 2
    with tempfile.TemporaryDirectory(prefix="sp-district-") as folder:
        copy = Path(folder) / "pi.db"
        shutil.copy(file, copy)
        source = make_engine(f"sqlite:///{copy}")
        try:
            upgrade(source)  # the Pi's schema, brought to the centre's
            centre = make_engine(database or load_server_settings().database_url)
            try:
                upgrade(centre)
                report = move_pi(source=source, centre=centre, site=site)
            finally:
                centre.dispose()
        except MoveRefused as exc:
            _say(f"refused, nothing changed: {exc}", error=True)
            return 1
        finally:
            source.dispose()
    _say(report.text())
    _say("photos and recordings: copy the Pi's attachments folder into the centre's (their "
         "names are unique), e.g. rsync -a pi:/var/lib/servicepoint/attachments/ "
         "/var/lib/servicepoint/attachments/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="servicepoint district",
        description="Move a single-site Pi into a district's centre.",
        epilog="Example: servicepoint district export --out pi.db (on the Pi); servicepoint "
               "district import pi.db --site site-07 --database postgresql://sp@centre/sp")
    sub = parser.add_subparsers(dest="action", required=True)
    out = sub.add_parser("export", help="copy this Pi's database consistently into a file")
    out.add_argument("--out", type=Path, required=True)
    into = sub.add_parser("import", help="copy a Pi's database into the centre under a site id",
                          description="Idempotent: a second run moves nothing again. Refuses "
                                      "a site id that holds another Pi's data.")
    into.add_argument("file", type=Path, help="the Pi's database (from export or db backup)")
    into.add_argument("--site", required=True, help="the site id at the centre, e.g. site-07")
    into.add_argument("--database", help="the centre's database URL (default: the settings')")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.action == "export":
        return export(args.out)
    if not SITE_ID.match(args.site):
        parser.error("--site: letters, digits, '-' and '_', up to 40 (as in [site] id)")
    return run_import(args.file, site=args.site, database=args.database)
