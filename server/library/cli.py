"""``servicepoint library …``: import the catalog, print labels and cards, send reminders.

    servicepoint library import config/library-demo.csv      # report of rejected rows
    servicepoint library labels                               # labels for copies never labelled
    servicepoint library labels --copy LB-0001 --out one.png
    servicepoint library cards --resident 12 --resident 13    # enrols them if needed
    servicepoint library enrol --name 王阿姨 --phone 13800001234 --pin 1234 --card   # at the desk
    servicepoint library reminders                            # the daily job (cron/systemd timer)

Exit codes: 0 done; 1 the import rejected rows (the good rows are imported all the same) or a
named copy or resident does not exist; 2 bad arguments (a bad phone number or PIN to enrol);
78 a bad setting (from the main CLI).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from server.db import make_engine, session_factory
from server.errors import Invalid
from server.library import services
from server.library.config import library_config_path, load_policy
from server.library.labels import CardItem, LabelItem, card_pages, label_pages, save_pages
from server.models import utcnow
from server.settings import ServerSettings, load_server_settings

__all__ = ["main"]

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicepoint library",
        description="Library lending: catalog import, labels, cards and reminders.",
        epilog="Example: servicepoint library import config/library-demo.csv && "
               "servicepoint library labels")
    sub = parser.add_subparsers(dest="action", required=True)
    imp = sub.add_parser("import", help="add books and copies from a CSV file")
    imp.add_argument("file", type=Path, help="CSV with copy_id,title,author,isbn,category,shelf")
    imp.add_argument("--dry-run", action="store_true", help="check and report, change nothing")
    labels = sub.add_parser("labels", help="print QR labels for copies (A4, 300 dpi)")
    labels.add_argument("--copy", action="append", default=[], metavar="ID",
                        help="only this copy (repeat for more)")
    labels.add_argument("--all", action="store_true", help="every copy, not only new ones")
    labels.add_argument("--out", type=Path, help="a .pdf, or a .png (one file per page)")
    labels.add_argument("--no-mark", action="store_true",
                        help="do not mark the copies as labelled (a test print)")
    cards = sub.add_parser("cards", help="print library cards for residents")
    cards.add_argument("--resident", action="append", type=int, default=[], metavar="ID",
                       help="this resident (enrolled as a reader if not yet); repeat for more")
    cards.add_argument("--new", action="store_true", help="readers whose card was never printed")
    cards.add_argument("--out", type=Path, help="a .pdf, or a .png (one file per page)")
    enrol = sub.add_parser(
        "enrol", help="make a resident who comes to the desk a reader (added if new)",
        epilog="Example: servicepoint library enrol --name 王阿姨 --phone 13800001234 "
               "--unit C01-B01-U1 --pin 1234 --card")
    enrol.add_argument("--name", required=True, help="how to address them, e.g. 王阿姨")
    enrol.add_argument("--phone", required=True, help="their mobile number (11 digits)")
    enrol.add_argument("--unit", help="their unit or building code, e.g. C01-B01-U1")
    enrol.add_argument("--pin", help="4 to 6 digits, to borrow by phone number at the kiosk")
    enrol.add_argument("--card", nargs="?", const=True, default=False, metavar="OUT",
                       help="also print their card (to OUT, a .pdf or .png)")
    sub.add_parser("reminders", help="record today's due-soon and overdue reminders")
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    settings = load_server_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as db:
            action: Callable[[Session, argparse.Namespace, ServerSettings, datetime], int] = {
                "import": _import, "labels": _labels, "cards": _cards, "enrol": _enrol,
                "reminders": _reminders}[args.action]
            return action(db, args, settings, utcnow())
    finally:
        engine.dispose()


def _import(db: Session, args: argparse.Namespace, settings: ServerSettings, now: datetime) -> int:
    try:
        text = services.decode_catalog(args.file.read_bytes())
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}")
        return 1
    report = services.import_catalog(db, text=text, now=now, dry_run=args.dry_run)
    verb = "would add" if args.dry_run else "added"
    print(f"{args.file}: {verb} {report.books_added} books and {report.copies_added} copies")
    for row in report.rejected:
        print(f"  line {row.line}: {row.reason}: {row.detail}")
    if report.rejected:
        print(f"{len(report.rejected)} rows rejected; fix them and import the file again "
              "(rows already in are then reported as duplicates, never added twice)")
    return 0 if report.ok else 1


def _default_out(settings: ServerSettings, kind: str, now: datetime) -> Path:
    return settings.data_dir / "print" / f"{kind}-{now:%Y%m%d-%H%M%S}.pdf"


def _labels(db: Session, args: argparse.Namespace, settings: ServerSettings, now: datetime) -> int:
    copies = services.copies_to_label(db, labels=args.copy, all_copies=args.all)
    missing = sorted(set(args.copy) - {c.label for c in copies})
    if missing:
        print(f"no such copies: {', '.join(missing)}")
        return 1
    if not copies:
        print("no new copies to label (use --all or --copy ID to reprint)")
        return 0
    pages = label_pages([LabelItem(c.label, c.book.title, c.shelf) for c in copies],
                        font_path=settings.kiosk.font_path)
    written = save_pages(pages, args.out or _default_out(settings, "labels", now))
    if not args.no_mark:
        services.mark_labelled(db, copies=copies, now=now)
    print(f"{len(copies)} labels on {len(pages)} pages: {', '.join(map(str, written))}")
    return 0


def _cards(db: Session, args: argparse.Namespace, settings: ServerSettings, now: datetime) -> int:
    try:
        patrons = services.patrons_for_cards(db, resident_ids=args.resident, new_only=args.new,
                                             now=now)
    except LookupError as exc:
        print(exc)
        return 1
    if not patrons:
        print("no readers to print cards for (enrol residents with --resident ID)")
        return 0
    pages = card_pages([CardItem(p.card_id, p.resident.address_as) for p in patrons],
                       font_path=settings.kiosk.font_path, site_name=settings.site.name_zh)
    written = save_pages(pages, args.out or _default_out(settings, "cards", now))
    services.mark_cards_printed(db, patrons=patrons, now=now)
    print(f"{len(patrons)} cards on {len(pages)} pages: {', '.join(map(str, written))}")
    for patron in patrons:
        print(f"  {patron.card_id}  {patron.resident.address_as}")
    return 0


def _enrol(db: Session, args: argparse.Namespace, settings: ServerSettings, now: datetime) -> int:
    try:
        patron, new = services.enrol_walk_in(db, address_as=args.name, phone=args.phone,
                                             unit_code=args.unit, pin=args.pin, now=now)
    except Invalid as exc:
        print(f"not enrolled: {exc}")
        return 2
    pin = "with a PIN" if patron.pin_hash else "no PIN (card only)"
    print(f"{patron.card_id}  {patron.resident.address_as}  "
          f"{'enrolled' if new else 'already a reader'}, {pin}")
    if args.card:
        out = Path(args.card) if isinstance(args.card, str) else _default_out(settings, "card",
                                                                                now)
        pages = card_pages([CardItem(patron.card_id, patron.resident.address_as)],
                           font_path=settings.kiosk.font_path, site_name=settings.site.name_zh)
        written = save_pages(pages, out)
        services.mark_cards_printed(db, patrons=[patron], now=now)
        print(f"card: {', '.join(map(str, written))}")
    return 0


def _reminders(db: Session, args: argparse.Namespace, settings: ServerSettings,
               now: datetime) -> int:
    policy = load_policy(library_config_path(settings))
    summary = services.run_daily_reminders(db, now=now, policy=policy,
                                           tz=settings.site.timezone)
    print(f"{summary.day}: {summary.due_soon} due-soon and {summary.overdue} overdue reminders "
          f"recorded ({summary.open_loans} loans out)")
    return 0
