"""What staff and the phone page read (the catalog, loan history, overdue loans, reminders,
holds), and the daily reminder job that records what each open loan is owed today.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.library import rules
from server.library.models import (
    Book,
    Copy,
    Hold,
    Loan,
    Patron,
    Reminder,
)
from server.library.rules import LendingPolicy
from server.library.services.common import (
    DEFAULT_TZ,
    local_today,
)

log = logging.getLogger(__name__)


# --- lists for staff and the phone page -----------------------------------------------------

def catalog(db: Session, *, query: str | None = None, limit: int = 50, offset: int = 0
            ) -> list[Book]:
    stmt = select(Book).options(selectinload(Book.copies))
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(Book.title.like(like), Book.author.like(like),
                              Book.isbn == query, Book.category == query,
                              Book.copies.any(Copy.label == query.upper())))
    return list(db.scalars(stmt.order_by(Book.title, Book.id).limit(limit).offset(offset)))


def copies_on_loan(db: Session, *, copy_ids: Sequence[int]) -> set[int]:
    """Which of these copies are out (for showing a catalog's shelf status)."""
    if not copy_ids:
        return set()
    return set(db.scalars(select(Loan.copy_id).where(Loan.open_key.in_(copy_ids))))


def loan_history(db: Session, *, card_id: str | None = None, copy_id: str | None = None,
                 open_only: bool = False, limit: int = 100, offset: int = 0) -> list[Loan]:
    stmt = select(Loan).options(selectinload(Loan.copy).selectinload(Copy.book),
                                selectinload(Loan.patron).selectinload(Patron.resident))
    if card_id is not None:
        stmt = stmt.join(Patron, Loan.patron_id == Patron.id).where(
            Patron.card_id == card_id.strip().upper())
    if copy_id is not None:
        stmt = stmt.join(Copy, Loan.copy_id == Copy.id).where(
            Copy.label == (rules.normalise_copy_id(copy_id) or ""))
    if open_only:
        stmt = stmt.where(Loan.returned_at.is_(None))
    return list(db.scalars(stmt.order_by(Loan.borrowed_at.desc(), Loan.id.desc())
                           .limit(limit).offset(offset)))


def overdue_loans(db: Session, *, today: date) -> list[tuple[Loan, Reminder | None]]:
    """Open loans past their due date, most overdue first, each with its latest reminder."""
    loans = list(db.scalars(
        select(Loan).where(Loan.returned_at.is_(None), Loan.due_on < today)
        .options(selectinload(Loan.copy).selectinload(Copy.book),
                 selectinload(Loan.patron).selectinload(Patron.resident))
        .order_by(Loan.due_on, Loan.id)))
    latest: dict[int, Reminder] = {}
    if loans:
        for reminder in db.scalars(select(Reminder).where(
                Reminder.loan_id.in_([loan.id for loan in loans])).order_by(Reminder.id)):
            latest[reminder.loan_id] = reminder
    return [(loan, latest.get(loan.id)) for loan in loans]


def reminder_counts(db: Session, *, loan_ids: Sequence[int]) -> dict[int, int]:
    if not loan_ids:
        return {}
    rows = db.execute(select(Reminder.loan_id, func.count()).where(Reminder.loan_id.in_(loan_ids))
                      .group_by(Reminder.loan_id))
    return {loan_id: count for loan_id, count in rows}


def patron_reminders(db: Session, *, patron: Patron, limit: int = 20) -> list[Reminder]:
    return list(db.scalars(
        select(Reminder).join(Loan).where(Loan.patron_id == patron.id)
        .options(selectinload(Reminder.loan).selectinload(Loan.copy).selectinload(Copy.book))
        .order_by(Reminder.created_at.desc(), Reminder.id.desc()).limit(limit)))


def patron_holds(db: Session, *, patron: Patron) -> list[Hold]:
    return list(db.scalars(select(Hold).where(Hold.patron_id == patron.id,
                                              Hold.status.in_(("waiting", "ready")))
                           .options(selectinload(Hold.book)).order_by(Hold.placed_at)))


# --- the daily reminder job -----------------------------------------------------------------

@dataclass(frozen=True)
class ReminderSummary:
    day: date
    open_loans: int
    due_soon: int
    overdue: int

    @property
    def recorded(self) -> int:
        return self.due_soon + self.overdue


def run_daily_reminders(db: Session, *, now: datetime, policy: LendingPolicy | None = None,
                        tz: str = DEFAULT_TZ) -> ReminderSummary:
    """Record the reminders open loans are owed today. Idempotent: the keys of
    :func:`rules.reminder_due` are the same all day, and (loan, key) is UNIQUE, so a second run
    on one day records nothing new (and two replicas running it at once cannot double up)."""
    policy = policy or LendingPolicy()
    today = local_today(now, tz)
    loans = list(db.scalars(select(Loan).where(Loan.returned_at.is_(None)).order_by(Loan.id)))
    have = set(db.execute(select(Reminder.loan_id, Reminder.key).join(Loan)
                          .where(Loan.returned_at.is_(None))))
    counts = {"due_soon": 0, "overdue": 0}
    for loan in loans:
        due = rules.reminder_due(loan.due_on, today, policy)
        if due is None or (loan.id, due.key) in have:
            continue
        try:
            with db.begin_nested():
                db.add(Reminder(loan=loan, kind=due.kind, key=due.key, due_on=loan.due_on,
                                days=due.days, created_at=now))
        except IntegrityError:
            continue  # another replica recorded it a moment ago
        counts[due.kind] += 1
    db.commit()
    summary = ReminderSummary(day=today, open_loans=len(loans), due_soon=counts["due_soon"],
                              overdue=counts["overdue"])
    log.info("library reminders for %s: %s due soon, %s overdue (of %s open loans)", today,
             summary.due_soon, summary.overdue, summary.open_loans)
    return summary


