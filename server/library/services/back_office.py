"""The library's back office in the browser: add a book (by ISBN, with its title, author and
publisher typed), add copies, withdraw a copy, enrol a reader and block or unblock one.

Each change is checked here (mistakes by field: ``FormRefused``; a record changed by someone
else since the page was opened: ``StaleEdit``, server/services/admin_forms.py) and written to
the audit log with the change. Labels and cards are printed from what this module lists, by
server/library/labels.py. Pages: server/web/admin/library.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from server.errors import Invalid, NotFound
from server.library import rules
from server.library.models import Book, Copy, Loan, Patron
from server.library.services.patrons import enrol_walk_in
from server.models import Resident, User
from server.services import audit
from server.services.admin_forms import FormRefused, check_version, version_of
from server.sites.scoping import everywhere

__all__ = ["BookRow", "add_book", "add_copies", "book_rows", "book_with_copies", "copy_by_label",
           "copy_version", "enrol_reader", "get_patron", "patron_version", "reader_rows",
           "set_blocked", "withdraw_copy"]

log = logging.getLogger(__name__)
LABEL = re.compile(r"^LB-(\d+)$")
MAX_COPIES = 50


@dataclass(frozen=True)
class BookRow:
    book: Book
    on_shelf: int
    on_loan: int
    withdrawn: int


def book_rows(db: Session, *, search: str = "", limit: int = 200) -> list[BookRow]:
    query = select(Book).options(selectinload(Book.copies)).order_by(Book.id.desc())
    if search:
        like = f"%{search}%"
        query = query.where(or_(Book.title.like(like), Book.author.like(like),
                                Book.isbn.like(like), Book.publisher.like(like)))
    books = list(db.scalars(query.limit(limit)))
    lent = set(db.scalars(select(Loan.copy_id).where(Loan.returned_at.is_(None))))
    rows = []
    for book in books:
        active = [c for c in book.copies if c.status == "available"]
        rows.append(BookRow(book, sum(c.id not in lent for c in active),
                            sum(c.id in lent for c in active),
                            sum(c.status != "available" for c in book.copies)))
    return rows


def book_with_copies(db: Session, *, book_id: int) -> tuple[Book, set[int]]:
    """The book and the ids of its copies on loan now."""
    book = db.get(Book, book_id)
    if book is None:
        raise NotFound("no such book")
    lent = set(db.scalars(select(Loan.copy_id).join(Copy).where(
        Copy.book_id == book_id, Loan.returned_at.is_(None))))
    return book, lent


def _next_labels(db: Session, count: int) -> list[str]:
    # Labels are the district's (one scanner id a copy): numbered over every site's copies.
    numbers = [int(m.group(1)) for label in db.scalars(everywhere(select(Copy.label).where(
        Copy.label.like("LB-%")))) if (m := LABEL.match(label))]
    start = max(numbers, default=0) + 1
    return [f"LB-{n:04d}" for n in range(start, start + count)]


def _count(text: str, *, allow_zero: bool) -> int | None:
    if not text.isdigit():
        return None
    value = int(text)
    return value if (allow_zero or value >= 1) and value <= MAX_COPIES else None


def _book_snapshot(book: Book) -> dict[str, Any]:
    return audit.snapshot(book, "isbn", "title", "author", "publisher", "category")


def add_book(db: Session, *, form: Mapping[str, str], actor: User, now: datetime,
             commit: bool = True) -> tuple[Book, list[Copy]]:
    """A new title with its first copies (labels LB-nnnn, to print). ``commit=False`` leaves
    the transaction to the caller (a bulk import saves every row or none)."""
    problems: dict[str, str] = {}
    raw_isbn = form.get("isbn", "").strip()
    isbn = rules.normalise_isbn(raw_isbn) if raw_isbn else None
    if raw_isbn and isbn is None:
        problems["isbn"] = "bad_isbn"
    elif isbn and db.scalar(select(Book.id).where(Book.isbn == isbn)) is not None:
        problems["isbn"] = "isbn_taken"
    texts = {name: form.get(name, "").strip() for name in ("title", "author", "publisher",
                                                           "category", "shelf")}
    for name, limit in (("title", 200), ("author", 100), ("publisher", 100), ("category", 40),
                        ("shelf", 40)):
        if len(texts[name]) > limit:
            problems[name] = "too_long"
    if not texts["title"]:
        problems["title"] = "required"
    count = _count(form.get("copies", "").strip(), allow_zero=True)
    if count is None:
        problems["copies"] = "copies_range"
    if problems:
        raise FormRefused(problems)
    assert count is not None
    book = Book(isbn=isbn, title=texts["title"], author=texts["author"],
                publisher=texts["publisher"], category=texts["category"], created_at=now)
    db.add(book)
    copies = [Copy(label=label, book=book, shelf=texts["shelf"], created_at=now)
              for label in _next_labels(db, count)]
    db.add_all(copies)
    db.flush()
    audit.record(db, actor=actor, action="book.add", subject=("book", book.id),
                 after={**_book_snapshot(book), "copies": [c.label for c in copies]}, now=now)
    if commit:
        db.commit()
    log.info("library book %s added with %d copies by user %s", book.id, len(copies), actor.id)
    return book, copies


def add_copies(db: Session, *, book_id: int, form: Mapping[str, str], actor: User,
               now: datetime) -> list[Copy]:
    book, _lent = book_with_copies(db, book_id=book_id)
    count = _count(form.get("copies", "").strip(), allow_zero=False)
    shelf = form.get("shelf", "").strip()
    problems = {}
    if count is None:
        problems["copies"] = "copies_range"
    if len(shelf) > 40:
        problems["shelf"] = "too_long"
    if problems:
        raise FormRefused(problems)
    assert count is not None
    copies = [Copy(label=label, book=book, shelf=shelf, created_at=now)
              for label in _next_labels(db, count)]
    db.add_all(copies)
    db.flush()
    audit.record(db, actor=actor, action="book.add_copies", subject=("book", book.id),
                 after={"copies": [c.label for c in copies], "shelf": shelf}, now=now)
    db.commit()
    return copies


def copy_by_label(db: Session, *, label: str) -> Copy:
    copy = db.scalar(select(Copy).where(Copy.label == label))
    if copy is None:
        raise NotFound("no such copy")
    return copy


def copy_version(copy: Copy) -> str:
    return version_of(audit.snapshot(copy, "label", "status", "shelf"))


def withdraw_copy(db: Session, *, label: str, seen: str, actor: User, now: datetime) -> Copy:
    """Take a copy off the shelf for good (worn out, lost): the kiosk no longer lends it; its
    loan history stays. A copy out on loan is withdrawn when it comes back, not before."""
    copy = copy_by_label(db, label=label)
    before = audit.snapshot(copy, "label", "status", "shelf")
    check_version(before, seen)
    if db.scalar(select(Loan.id).where(Loan.copy_id == copy.id,
                                       Loan.returned_at.is_(None))) is not None:
        raise Invalid("this copy is out on loan; withdraw it when it comes back")
    copy.status = "withdrawn"
    audit.record(db, actor=actor, action="copy.withdraw", subject=("copy", copy.label),
                 before=before, after=audit.snapshot(copy, "label", "status", "shelf"), now=now)
    db.commit()
    log.info("library copy %s withdrawn by user %s", copy.label, actor.id)
    return copy


# --- readers ------------------------------------------------------------------------------

def reader_rows(db: Session, *, search: str = "", limit: int = 200
                ) -> list[tuple[Patron, int]]:
    """Readers (newest first) with their loans out now; search by name or card id. Phone
    numbers are not listed: a reader is found by name or card."""
    query = (select(Patron).join(Resident).options(selectinload(Patron.resident))
             .order_by(Patron.id.desc()))
    if search:
        like = f"%{search}%"
        query = query.where(or_(Resident.address_as.like(like), Patron.card_id.like(like)))
    patrons = list(db.scalars(query.limit(limit)))
    out = dict(db.execute(select(Loan.patron_id, func.count()).where(
        Loan.returned_at.is_(None)).group_by(Loan.patron_id)).tuples().all())
    return [(p, out.get(p.id, 0)) for p in patrons]


def get_patron(db: Session, *, patron_id: int) -> Patron:
    patron = db.get(Patron, patron_id)
    if patron is None:
        raise NotFound("no such reader")
    return patron


def patron_version(patron: Patron) -> str:
    return version_of(audit.snapshot(patron, "card_id", "active"))


def enrol_reader(db: Session, *, form: Mapping[str, str], actor: User, now: datetime
                 ) -> tuple[Patron, bool]:
    """Enrol a resident at the desk by how to address them and their mobile number."""
    name, phone = form.get("address_as", "").strip(), form.get("phone", "").strip()
    problems = {}
    if not name:
        problems["address_as"] = "required"
    elif len(name) > 40:
        problems["address_as"] = "too_long"
    if rules.normalise_phone(phone) is None:
        problems["phone"] = "bad_mobile"
    if problems:
        raise FormRefused(problems)
    patron, created = enrol_walk_in(db, address_as=name, phone=phone, now=now)
    audit.record(db, actor=actor, action="reader.enrol" if created else "reader.find",
                 subject=("reader", patron.card_id),
                 after={"card_id": patron.card_id, "address_as": name}, now=now)
    db.commit()
    return patron, created


def set_blocked(db: Session, *, patron_id: int, blocked: bool, seen: str, actor: User,
                now: datetime) -> Patron:
    """Block a reader (the kiosk refuses their card and PIN) or let them borrow again."""
    patron = get_patron(db, patron_id=patron_id)
    before = audit.snapshot(patron, "card_id", "active")
    check_version(before, seen)
    patron.active = not blocked
    audit.record(db, actor=actor, action="reader.block" if blocked else "reader.unblock",
                 subject=("reader", patron.card_id), before=before,
                 after=audit.snapshot(patron, "card_id", "active"), now=now)
    db.commit()
    log.info("library reader %s %s by user %s", patron.card_id,
             "blocked" if blocked else "unblocked", actor.id)
    return patron
