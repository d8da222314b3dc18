"""``servicepoint open311 …``: manage the outside systems allowed to file through Open311.

    servicepoint open311 key city-platform     # prints a new key for that client

The key is printed once and only its hash is stored; running the command again for the same
client gives it a new key and the old one stops working (that is how a leaked key is replaced).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from server.db import make_engine, session_factory, upgrade
from server.open311.service import issue_key
from server.settings import load_server_settings

__all__ = ["main"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="servicepoint open311",
        description="Manage the outside systems (city platforms, tools) that file requests "
                    "through Open311 GeoReport v2.",
        epilog="Example: servicepoint open311 key city-platform")
    sub = parser.add_subparsers(dest="action", required=True)
    key = sub.add_parser("key", help="print a new API key for a client (replaces its old one)")
    key.add_argument("client", help="the client's name, e.g. city-platform (letters, digits, -)")
    args = parser.parse_args(argv)
    name = args.client.strip()
    if not name or len(name) > 60 or not all(ch.isalnum() or ch in "-_." for ch in name):
        parser.error("CLIENT: 1-60 letters, digits, '-', '_' or '.'")
    settings = load_server_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        new_key = issue_key(session, name=name, now=datetime.now(UTC))
    engine.dispose()
    print(new_key)  # alone on its line, for a script to capture
    return 0
