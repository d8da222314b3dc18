"""The catalog import from a spreadsheet's CSV, and the bookkeeping of printed copy labels
and reader cards.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.errors import Invalid
from server.library import rules
from server.library.models import (
    Book,
    Copy,
    Patron,
)
from server.library.services.patrons import enrol_patron

log = logging.getLogger(__name__)


# --- the catalog import and labels ----------------------------------------------------------

@dataclass
class ImportReport:
    books_added: int = 0
    copies_added: int = 0
    rejected: list[rules.RejectedRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


REQUIRED_COLUMNS = ("copy_id", "title")
KNOWN_COLUMNS = ("copy_id", "title", "author", "isbn", "category", "shelf")


def decode_catalog(data: bytes) -> str:
    """CSV from Excel on a Chinese Windows is often GB18030; elsewhere UTF-8 with or without a
    byte-order mark. Try UTF-8 first: GB18030 would decode UTF-8 bytes into nonsense."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _csv_rows(text: str) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise Invalid(f"the CSV header needs the columns {', '.join(REQUIRED_COLUMNS)} "
                      f"(missing: {', '.join(missing)})")
    for row in reader:
        # reader.line_num is the physical line the row ended on: right for the line the
        # librarian sees in a text editor, even with quoted line breaks before it.
        yield reader.line_num, {k: (v or "") for k, v in row.items() if isinstance(k, str)}


def import_catalog(db: Session, *, text: str, now: datetime, dry_run: bool = False
                   ) -> ImportReport:
    """Add the books and copies in a CSV file; report each rejected row with its line number.
    Good rows are imported even when others are rejected (fix those and import again: the
    copies already in are then reported as duplicates, never doubled)."""
    existing = set(db.scalars(select(Copy.label)))
    titles = {isbn: title for isbn, title in db.execute(
        select(Book.isbn, Book.title).where(Book.isbn.is_not(None))) if isbn}
    accepted, rejected = rules.validate_catalog_rows(_csv_rows(text), existing_copy_ids=existing,
                                                     existing_titles=titles)
    report = ImportReport(rejected=rejected)
    books: dict[tuple[str | None, str, str], Book] = {}
    for row in accepted:
        key = (row.isbn, "", "") if row.isbn else (None, row.title, row.author)
        book = books.get(key)
        if book is None:
            query = (select(Book).where(Book.isbn == row.isbn) if row.isbn else
                     select(Book).where(Book.isbn.is_(None), Book.title == row.title,
                                        Book.author == row.author))
            book = db.scalars(query.limit(1)).first()
            if book is None:
                book = Book(isbn=row.isbn, title=row.title, author=row.author,
                            category=row.category, created_at=now)
                db.add(book)
                report.books_added += 1
            books[key] = book
        db.add(Copy(label=row.copy_id, book=book, shelf=row.shelf, created_at=now))
        report.copies_added += 1
    if dry_run:
        db.rollback()
    else:
        db.commit()
    log.info("library import: %s books and %s copies added, %s rows rejected%s",
             report.books_added, report.copies_added, len(rejected),
             " (dry run)" if dry_run else "")
    return report


def copies_to_label(db: Session, *, labels: Sequence[str] = (), all_copies: bool = False
                    ) -> list[Copy]:
    """The copies to print: those named, or every copy (``all_copies``), or else the new ones
    that have never had a label printed."""
    stmt = select(Copy).options(selectinload(Copy.book)).order_by(Copy.label)
    if labels:
        wanted = [rules.normalise_copy_id(label) or label for label in labels]
        stmt = stmt.where(Copy.label.in_(wanted))
    elif not all_copies:
        stmt = stmt.where(Copy.labelled_at.is_(None))
    return list(db.scalars(stmt))


def mark_labelled(db: Session, *, copies: Sequence[Copy], now: datetime) -> None:
    for copy in copies:
        copy.labelled_at = now
    db.commit()


def patrons_for_cards(db: Session, *, resident_ids: Sequence[int] = (), new_only: bool = False,
                      now: datetime) -> list[Patron]:
    """Patrons to print cards for: these residents (enrolled now if they are not yet), or
    every patron, or (``new_only``) those whose card was never printed."""
    if resident_ids:
        return [enrol_patron(db, resident_id=rid, now=now)[0] for rid in resident_ids]
    stmt = select(Patron).options(selectinload(Patron.resident)).order_by(Patron.card_id)
    if new_only:
        stmt = stmt.where(Patron.card_printed_at.is_(None))
    return list(db.scalars(stmt))


def mark_cards_printed(db: Session, *, patrons: Sequence[Patron], now: datetime) -> None:
    for patron in patrons:
        patron.card_printed_at = now
    db.commit()

