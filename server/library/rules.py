"""The lending rules of the service point's library, as pure functions.

Everything that decides *whether* something may happen lives here: borrowing, renewing, the item
limit, the overdue block, holds, due dates, which reminders are due, the checks on catalog rows
and the identifiers a scanner types. Nothing here touches a database, a web framework or the
clock; callers pass in what they know (the patron's open loans, the copy's state, today's date in
the site's time zone) and get back a due date, a :class:`Refusal` or ``None``.

The shape follows a self-check kiosk (Koha SCO speaking SIP2): identify the patron, scan the
item, get a due date or a refusal with a reason the screen can show in Chinese and English::

    refusal = check_borrow(patron=patron, copy=copy, today=date(2026, 11, 25), policy=POLICY)
    if refusal is None:
        due = due_date(date(2026, 11, 25), POLICY)      # 2026-12-25
    else:
        print(refusal.reason, refusal.message_zh)       # limit_reached 已借满 5 本 …

Longer than the house's 400 lines on purpose: these are the whole of the lending policy, and a
librarian checking one rule against another (a renewal against the overdue block, a hold against
the item limit) should find them on one page, as in a circulation manual.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

__all__ = [
    "CatalogRow",
    "CopyState",
    "LendingPolicy",
    "LoanState",
    "PatronState",
    "Reason",
    "Refusal",
    "RejectedRow",
    "ReminderDue",
    "blocking_loans",
    "card_id_valid",
    "check_borrow",
    "check_renew",
    "check_return",
    "days_overdue",
    "due_date",
    "luhn_digit",
    "normalise_copy_id",
    "normalise_isbn",
    "normalise_phone",
    "pin_valid",
    "pin_throttled",
    "reminder_due",
    "renewed_due_date",
    "validate_catalog_rows",
]


# --- policy ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LendingPolicy:
    """The configurable numbers (config/library.toml). Defaults are the site's defaults."""

    loan_days: int = 30
    max_renewals: int = 2
    max_items: int = 5
    overdue_grace_days: int = 7
    due_soon_days: int = 3
    # After the first overdue reminder, another every this many days while it stays out.
    overdue_repeat_days: int = 7
    pin_attempts: int = 5
    pin_window_minutes: int = 15
    session_minutes: int = 10


# --- refusals -------------------------------------------------------------------------------

class Reason(StrEnum):
    """Why the kiosk says no. The value is the ``code`` in the API's JSON error."""

    UNKNOWN_COPY = "unknown_copy"
    UNKNOWN_PATRON = "unknown_patron"
    COPY_UNAVAILABLE = "copy_unavailable"
    ON_LOAN = "on_loan"
    ALREADY_BORROWED = "already_borrowed"
    LIMIT_REACHED = "limit_reached"
    OVERDUE_BLOCK = "overdue_block"
    NO_RENEWALS_LEFT = "no_renewals_left"
    ON_HOLD_FOR_OTHER = "on_hold_for_other"
    RENEW_ON_HOLD = "renew_on_hold"
    NOT_ON_LOAN = "not_on_loan"
    NOT_YOUR_LOAN = "not_your_loan"
    PATRON_INACTIVE = "patron_inactive"
    WRONG_PIN = "wrong_pin"
    PIN_THROTTLED = "pin_throttled"


# Messages are written for an elderly reader at the kiosk: what happened, then what to do.
_MESSAGES: Mapping[Reason, tuple[str, str]] = {
    Reason.UNKNOWN_COPY: ("没有找到这本书，请交给工作人员。",
                          "This book is not in our catalog. Please hand it to staff."),
    Reason.UNKNOWN_PATRON: ("没有找到您的借书证，请找工作人员办理。",
                            "We could not find your library card. Please ask staff."),
    Reason.COPY_UNAVAILABLE: ("这本书暂不外借，请交给工作人员。",
                              "This book cannot be borrowed. Please hand it to staff."),
    Reason.ON_LOAN: ("这本书已被借出，请交给工作人员。",
                     "This book is already on loan. Please hand it to staff."),
    Reason.ALREADY_BORROWED: ("这本书您已经借了。",
                              "You have already borrowed this book."),
    Reason.LIMIT_REACHED: ("您已借满 {max_items} 本，请先还书再借。",
                           "You have {max_items} books out, the most allowed. Please return one "
                           "first."),
    Reason.OVERDUE_BLOCK: ("您有书超期未还，请先还书再借。",
                           "You have a book that is well overdue. Please return it first."),
    Reason.NO_RENEWALS_LEFT: ("这本书已续借 {max_renewals} 次，不能再续借，请按时归还。",
                              "This book has been renewed {max_renewals} times already. Please "
                              "return it by its due date."),
    Reason.ON_HOLD_FOR_OTHER: ("这本书已为其他读者预留，请交给工作人员。",
                               "This book is kept for another reader. Please hand it to staff."),
    Reason.RENEW_ON_HOLD: ("有读者在等这本书，不能续借，请按时归还。",
                           "Another reader is waiting for this book, so it cannot be renewed. "
                           "Please return it by its due date."),
    Reason.NOT_ON_LOAN: ("这本书没有借出记录，请交给工作人员。",
                         "This book was not on loan. Please hand it to staff."),
    Reason.NOT_YOUR_LOAN: ("这本书不在您的借阅中。",
                           "This book is not among your loans."),
    Reason.PATRON_INACTIVE: ("您的借书证已停用，请找工作人员。",
                             "Your library card is not active. Please ask staff."),
    Reason.WRONG_PIN: ("手机号或密码不对，请再试一次。",
                       "The phone number or PIN is wrong. Please try again."),
    Reason.PIN_THROTTLED: ("密码错误次数太多，请过 {pin_window_minutes} 分钟再试，或找工作人员。",
                           "Too many wrong PINs. Please wait {pin_window_minutes} minutes or ask "
                           "staff."),
}


@dataclass(frozen=True)
class Refusal:
    """A "no" with its reason code and the words to show, filled in from the policy."""

    reason: Reason
    policy: LendingPolicy = field(default_factory=LendingPolicy, compare=False, repr=False)

    def _fill(self, text: str) -> str:
        p = self.policy
        return text.format(max_items=p.max_items, max_renewals=p.max_renewals,
                           pin_window_minutes=p.pin_window_minutes)

    @property
    def message_zh(self) -> str:
        return self._fill(_MESSAGES[self.reason][0])

    @property
    def message_en(self) -> str:
        return self._fill(_MESSAGES[self.reason][1])


# --- what the rules look at -----------------------------------------------------------------

@dataclass(frozen=True)
class LoanState:
    """One open loan as the rules see it."""

    copy_id: str
    due_on: date
    renewals: int = 0


@dataclass(frozen=True)
class PatronState:
    patron_id: int
    loans: Sequence[LoanState] = ()
    active: bool = True


@dataclass(frozen=True)
class CopyState:
    """A copy: whether it may circulate, who has it, and whom it is kept for (a ready hold)."""

    copy_id: str
    lendable: bool = True
    on_loan_to: int | None = None
    held_for: int | None = None


# --- dates ----------------------------------------------------------------------------------

def due_date(today: date, policy: LendingPolicy) -> date:
    """The due date of a loan made today (a whole day: it is due by the end of that day)."""
    return today + timedelta(days=policy.loan_days)


def renewed_due_date(current_due: date, today: date, policy: LendingPolicy) -> date:
    """A renewal runs a full loan period from today, and never brings the due date forward."""
    return max(current_due, today + timedelta(days=policy.loan_days))


def days_overdue(due_on: date, today: date) -> int:
    """0 on or before the due date, then 1, 2, … days late."""
    return max(0, (today - due_on).days)


def blocking_loans(loans: Iterable[LoanState], today: date,
                   policy: LendingPolicy) -> list[LoanState]:
    """Loans overdue past the grace period; any one of them blocks new borrowing."""
    return [loan for loan in loans if days_overdue(loan.due_on, today) > policy.overdue_grace_days]


# --- decisions ------------------------------------------------------------------------------

def check_borrow(*, patron: PatronState | None, copy: CopyState | None, today: date,
                 policy: LendingPolicy) -> Refusal | None:
    """May this patron take this copy home today? ``None`` means yes.

    The order matters to the reader: problems with the book come first (it goes to staff
    whoever you are), then problems with the patron's account.
    """
    if patron is None:
        return Refusal(Reason.UNKNOWN_PATRON, policy)
    if copy is None:
        return Refusal(Reason.UNKNOWN_COPY, policy)
    if not patron.active:
        return Refusal(Reason.PATRON_INACTIVE, policy)
    if copy.on_loan_to is not None:
        same = copy.on_loan_to == patron.patron_id
        return Refusal(Reason.ALREADY_BORROWED if same else Reason.ON_LOAN, policy)
    if not copy.lendable:
        return Refusal(Reason.COPY_UNAVAILABLE, policy)
    if copy.held_for is not None and copy.held_for != patron.patron_id:
        return Refusal(Reason.ON_HOLD_FOR_OTHER, policy)
    if blocking_loans(patron.loans, today, policy):
        return Refusal(Reason.OVERDUE_BLOCK, policy)
    if len(patron.loans) >= policy.max_items:
        return Refusal(Reason.LIMIT_REACHED, policy)
    return None


def check_renew(*, patron: PatronState, loan: LoanState | None, others_waiting: bool,
                policy: LendingPolicy) -> Refusal | None:
    """May this loan run another period? Overdue loans may be renewed (it is kinder than a
    block, and the renewal limit still bounds it); a waiting reader or the limit says no."""
    if not patron.active:
        return Refusal(Reason.PATRON_INACTIVE, policy)
    if loan is None:
        return Refusal(Reason.NOT_YOUR_LOAN, policy)
    if loan.renewals >= policy.max_renewals:
        return Refusal(Reason.NO_RENEWALS_LEFT, policy)
    if others_waiting:
        return Refusal(Reason.RENEW_ON_HOLD, policy)
    return None


def check_return(*, known_copy: bool, on_loan: bool) -> Refusal | None:
    """A return needs no patron: only a known copy that is out."""
    if not known_copy:
        return Refusal(Reason.UNKNOWN_COPY)
    if not on_loan:
        return Refusal(Reason.NOT_ON_LOAN)
    return None


def pin_throttled(recent_failures: int, policy: LendingPolicy) -> bool:
    """Too many wrong PINs for one phone number within the window."""
    return recent_failures >= policy.pin_attempts


# --- reminders ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReminderDue:
    """A reminder to record. ``key`` is the same for every run on the same day and stage, so the
    database can refuse a second copy (the daily job is idempotent)."""

    kind: str  # "due_soon" | "overdue"
    key: str
    days: int  # days until due (due_soon) or days late (overdue)


def reminder_due(due_on: date, today: date, policy: LendingPolicy) -> ReminderDue | None:
    """The reminder a loan should have today, if any.

    One "due soon" reminder per due date (a renewal moves the date and earns a new one). Overdue
    reminders come on the first day late and then every ``overdue_repeat_days``; the key names
    the stage rather than the day, so a job that missed a day still sends the one it owes.
    """
    late = days_overdue(due_on, today)
    if late > 0:
        stage = (late - 1) // max(1, policy.overdue_repeat_days)
        return ReminderDue("overdue", f"overdue:{due_on.isoformat()}:{stage}", late)
    until = (due_on - today).days
    if until <= policy.due_soon_days:
        return ReminderDue("due_soon", f"due_soon:{due_on.isoformat()}", until)
    return None


# --- identifiers ----------------------------------------------------------------------------

_COPY_ID = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,39}$")
_SCANNER_NOISE = re.compile(r"[\s\x00-\x1f\x7f]+")


def normalise_copy_id(raw: str) -> str | None:
    """What a barcode or QR scanner typed, made canonical: no whitespace or control
    characters (scanners end with Enter or Tab), upper case. ``None`` if it cannot be one."""
    text = _SCANNER_NOISE.sub("", raw).upper()
    return text if _COPY_ID.match(text) else None


def normalise_phone(raw: str) -> str | None:
    """A mainland mobile number as 11 digits (spaces, dashes and +86 are dropped)."""
    digits = re.sub(r"[\s-]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits if re.fullmatch(r"1\d{10}", digits) else None


def pin_valid(pin: str) -> bool:
    """A short PIN an elderly reader can remember: 4 to 6 digits."""
    return re.fullmatch(r"\d{4,6}", pin) is not None


def luhn_digit(digits: str) -> str:
    """The Luhn check digit, so a card id mistyped by staff is caught, not matched."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def card_id_valid(card_id: str) -> bool:
    """A card id is ``P`` and ten digits whose last is the Luhn check digit."""
    if re.fullmatch(r"P\d{10}", card_id) is None:
        return False
    return luhn_digit(card_id[1:-1]) == card_id[-1]


def _isbn10_ok(digits: str) -> bool:
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
    return total % 11 == 0


def _isbn13_check(first12: str) -> str:
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def normalise_isbn(raw: str) -> str | None:
    """An ISBN-10 or ISBN-13 with a correct check digit, as ISBN-13 digits; else ``None``."""
    text = re.sub(r"[\s-]", "", raw).upper()
    if re.fullmatch(r"\d{9}[\dX]", text):
        if not _isbn10_ok(text):
            return None
        first12 = "978" + text[:9]
        return first12 + _isbn13_check(first12)
    if re.fullmatch(r"97[89]\d{10}", text):
        return text if _isbn13_check(text[:12]) == text[12] else None
    return None


# --- the catalog import ---------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogRow:
    line: int
    copy_id: str
    title: str
    author: str
    isbn: str | None
    category: str
    shelf: str


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str  # a short code: missing_title, bad_isbn, duplicate_copy_id, …
    detail: str


_LIMITS = {"title": 200, "author": 100, "category": 40, "shelf": 40}


def validate_catalog_rows(rows: Iterable[tuple[int, Mapping[str, str]]], *,
                          existing_copy_ids: Container[str] = frozenset(),
                          existing_titles: Mapping[str, str] | None = None,
                          ) -> tuple[list[CatalogRow], list[RejectedRow]]:
    """Check imported rows (line number, column → text); return the good ones and a report
    of the rest. A copy id already in the catalog or earlier in the file is a duplicate. Two
    titles for one ISBN mean a typo somewhere, so the later row is rejected rather than guessed.
    """
    accepted: list[CatalogRow] = []
    rejected: list[RejectedRow] = []
    seen: dict[str, int] = {}
    titles: dict[str, str] = dict(existing_titles or {})
    for line, row in rows:
        def cell(name: str, row: Mapping[str, str] = row) -> str:
            # Line breaks and runs of spaces inside a cell are spreadsheet artefacts; a title
            # is printed on one label line and matched by equality, so collapse them.
            return " ".join((row.get(name) or "").split())

        title, raw_copy, raw_isbn = cell("title"), cell("copy_id"), cell("isbn")
        if not title:
            rejected.append(RejectedRow(line, "missing_title", "the title is empty"))
            continue
        if not raw_copy:
            rejected.append(RejectedRow(line, "missing_copy_id", "the copy id is empty"))
            continue
        copy_id = normalise_copy_id(raw_copy)
        if copy_id is None:
            rejected.append(RejectedRow(
                line, "bad_copy_id",
                f"copy id {raw_copy!r}: use letters, digits, '.', '_' or '-', up to 40"))
            continue
        too_long = [name for name, limit in _LIMITS.items() if len(cell(name)) > limit]
        if too_long:
            name = too_long[0]
            rejected.append(RejectedRow(line, "too_long",
                                        f"{name} is longer than {_LIMITS[name]} characters"))
            continue
        isbn: str | None = None
        if raw_isbn:
            isbn = normalise_isbn(raw_isbn)
            if isbn is None:
                rejected.append(RejectedRow(line, "bad_isbn",
                                            f"ISBN {raw_isbn!r}: wrong length or check digit"))
                continue
        if copy_id in existing_copy_ids:
            rejected.append(RejectedRow(line, "duplicate_copy_id",
                                        f"copy id {copy_id} is already in the catalog"))
            continue
        if copy_id in seen:
            rejected.append(RejectedRow(
                line, "duplicate_copy_id",
                f"copy id {copy_id} already appears on line {seen[copy_id]}"))
            continue
        if isbn is not None and titles.setdefault(isbn, title) != title:
            rejected.append(RejectedRow(
                line, "isbn_title_mismatch",
                f"ISBN {isbn} is already the book {titles[isbn]!r}, not {title!r}"))
            continue
        seen[copy_id] = line
        accepted.append(CatalogRow(line=line, copy_id=copy_id, title=title,
                                   author=cell("author"), isbn=isbn,
                                   category=cell("category"), shelf=cell("shelf")))
    return accepted, rejected
