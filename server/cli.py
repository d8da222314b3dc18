"""``servicepoint server``, ``servicepoint db …`` and ``servicepoint seed …``.

Each command reads every configuration file it depends on before it starts work, so a bad key
stops it as a ConfigError (one line naming the file and the key, exit 78 from the
``servicepoint`` command) and never inside uvicorn's start-up. In production the server does
not start while a demo sign-in still opens with its published password, and ``seed --demo`` is
refused.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from pathlib import Path

from sqlalchemy import Engine

from foundation.errors import ConfigError
from server.db import make_engine, session_factory, upgrade
from server.library.config import library_config_path, load_policy
from server.services.categories import load_category_specs, sync_categories
from server.services.site_data import apply_site_data, demo_signins_in_use, load_site_data
from server.settings import ServerSettings, load_server_settings

log = logging.getLogger(__name__)
DEMO_SITE = Path("config") / "demo-site.toml"
# The demo file as shipped with the code, whichever settings file a deployment uses.
SHIPPED_DEMO_SITE = Path(__file__).resolve().parents[1] / "config" / "demo-site.toml"


def demo_site_path(settings: ServerSettings) -> Path:
    """The demo site file: beside the settings file, else config/ under the current folder."""
    return Path(settings.source).parent / "demo-site.toml" if settings.source else DEMO_SITE


def refuse_demo_signins(settings: ServerSettings, engine: Engine) -> None:
    """In production, stop while any demo sign-in still opens with its published password."""
    if settings.environment != "production":
        return
    files = {path.resolve() for path in (demo_site_path(settings), SHIPPED_DEMO_SITE)
             if path.is_file()}
    with session_factory(engine)() as session:
        for path in sorted(files):
            names = demo_signins_in_use(session, load_site_data(path))
            if names:
                raise ConfigError(
                    "sign-ins", f"{', '.join(names)} still sign in with the demo passwords of "
                    f"{path}; give them new ones in your site file and run servicepoint seed "
                    "FILE")


def check_config_files(settings: ServerSettings) -> None:
    """Read the categories and the library's rules now, so a bad key stops the command here
    (ConfigError) and not in the web app's start-up, where uvicorn would print a traceback."""
    load_category_specs(settings.categories_file)
    load_policy(library_config_path(settings))


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="servicepoint server", description="Run the HTTP server.",
        epilog="Example: servicepoint server --host 0.0.0.0 --port 8080")
    parser.add_argument("--host", help="address to listen on (default: http.host)")
    parser.add_argument("--port", type=int, help="port to listen on (default: http.port)")
    parser.add_argument("--no-upgrade", action="store_true",
                        help="do not migrate the database at start-up")
    parser.add_argument("--workers", type=int,
                        help="server processes (default: http.workers; 0 there: one per core, "
                             "at most 2)")
    args = parser.parse_args(argv)
    settings = load_server_settings()
    check_config_files(settings)
    from server.app import serve
    from server.workers import build_app, serve_workers, worker_count

    engine = make_engine(settings.database_url)
    if not args.no_upgrade:
        upgrade(engine)  # here, once, before any worker starts
    refuse_demo_signins(settings, engine)
    host, port = args.host or settings.http.host, args.port or settings.http.port
    workers = args.workers if args.workers else worker_count(settings)
    log.info("listening on http://%s:%s with %d worker process%s (phone links: %s)", host, port,
             workers, "" if workers == 1 else "es", settings.http.public_url)
    if workers == 1:
        serve(build_app(settings, duties=True, engine=engine), host=host, port=port)
        return 0
    # Each worker syncs the categories as it starts; done here first, they find nothing to write.
    with session_factory(engine)() as session:
        sync_categories(session, specs=load_category_specs(settings.categories_file))
    engine.dispose()  # the workers open their own connections
    serve_workers(settings, host=host, port=port, workers=workers)
    return 0


def db(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="servicepoint db", description="Database maintenance.",
        epilog="Example: servicepoint db upgrade; servicepoint db backup data/backup.db")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("upgrade", help="migrate the database to the newest schema")
    backup = sub.add_parser("backup", help="copy the SQLite database while the system runs")
    backup.add_argument("file", type=Path)
    restore = sub.add_parser(
        "restore", help="replace the SQLite database with a backup (keeps the current one)",
        description="Check FILE is a servicepoint database, keep the current database as a "
                    "timestamped copy beside it, copy FILE in and run the migrations.",
        epilog="Example: sudo systemctl stop servicepoint-server; "
               "servicepoint db restore /var/lib/servicepoint/backups/servicepoint-2026-01-31.db")
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true",
                         help="restore even while another process (a server) has it open")
    args = parser.parse_args(argv)
    settings = load_server_settings()
    engine = make_engine(settings.database_url)
    if args.action == "upgrade":
        upgrade(engine)
        with session_factory(engine)() as session:
            sync_categories(session, specs=load_category_specs(settings.categories_file))
        print(f"database up to date: {engine.url.render_as_string(hide_password=True)}")
        return 0
    if args.action == "backup":
        if engine.dialect.name != "sqlite":
            log.error("backup is for SQLite; use pg_dump for PostgreSQL")
            return 2
        source = sqlite3.connect(engine.url.database or "")
        target = sqlite3.connect(args.file)
        with target:
            source.backup(target)  # consistent even while the server writes
        source.close()
        target.close()
        print(f"backed up to {args.file}")
        from server.attachments import attachment_folder
        from server.backup import attachments_beside, copy_new_files, drop_gone_files

        files = attachments_beside(args.file)
        copied = copy_new_files(attachment_folder(settings), files)
        dropped = drop_gone_files(attachment_folder(settings), files)
        print(f"stored files (photos): {copied} new in {files}, {dropped} erased since gone")
        return 0
    if args.action == "restore":
        from server.attachments import attachment_folder
        from server.backup import attachments_beside, copy_new_files, run_restore

        # The stored files first (the store only gains files it lacks, whatever the restore
        # then decides), so the restore's own summary, "restart the server", is said last.
        copied = copy_new_files(attachments_beside(args.file), attachment_folder(settings))
        print(f"stored files (photos): {copied} put back from {attachments_beside(args.file)}")
        return run_restore(database_url=settings.database_url, source=args.file,
                           migrate=lambda: upgrade(engine), force=args.force)
    return 2


def seed(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="servicepoint seed",
        description="Load places, squads, volunteers and staff sign-ins from a TOML file.",
        epilog="Example: servicepoint seed --demo; servicepoint seed /etc/servicepoint/site.toml")
    parser.add_argument("file", nargs="?", type=Path, help="the site data file")
    parser.add_argument("--demo", action="store_true", help=f"load {DEMO_SITE}")
    args = parser.parse_args(argv)
    if not args.file and not args.demo:
        parser.error("give a FILE or --demo")
    settings = load_server_settings()
    if args.demo and settings.environment == "production":
        raise ConfigError("environment", "is production: the demo's sign-ins and passwords are "
                          "public, so seed --demo is refused; load your own site file",
                          settings.source)
    path = args.file or demo_site_path(settings)
    data = load_site_data(path)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        sync_categories(session, specs=load_category_specs(settings.categories_file))
        report = apply_site_data(session, data=data)
    print(f"loaded {path}: {report.summary()}")
    for username, password in report.generated_passwords.items():
        print(f"  new sign-in {username}: password {password} (shown once; change it)")
    sys.stdout.flush()
    return 0
