"""The library's HTTP contract: ``XCreate`` comes in, ``XPublic`` goes out (the server's naming).

Limits here are the first line of defence: a body that is longer, odder or bigger is a 422 before
any service sees it. Ids the scanner types are only length-limited here, so that a misread label
is answered as ``unknown_copy`` (something the kiosk can say) rather than a schema error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.dates import RecordMoment

ScannedId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Pin = Annotated[str, StringConstraints(pattern=r"^\d{4,6}$")]
Phone = Annotated[str, StringConstraints(min_length=11, max_length=20)]
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- kiosk ----------------------------------------------------------------------------------

class SessionCreate(_In):
    """Identify a reader: the card's QR code (``card_id``), or ``phone`` and ``pin``."""

    card_id: ScannedId | None = None
    phone: Phone | None = None
    pin: Pin | None = None


class LoanCreate(_In):
    copy_id: ScannedId
    client_id: ClientId | None = None


class RenewalCreate(_In):
    copy_id: ScannedId


class ReturnCreate(_In):
    client_id: ClientId
    copy_id: ScannedId
    returned_at: RecordMoment | None = None


class PatronPublic(BaseModel):
    card_id: str
    address_as: str
    loans: int
    max_items: int
    can_borrow: int
    blocked: bool


class LoanPublic(BaseModel):
    loan_id: int
    copy_id: str
    title: str
    author: str
    borrowed_at: datetime
    due_on: date
    renewals: int
    renewals_left: int
    overdue_days: int
    returned_at: datetime | None


class SessionPublic(BaseModel):
    session: str
    expires_at: datetime
    patron: PatronPublic
    loans: list[LoanPublic]
    phone_url: str


class LoansPublic(BaseModel):
    patron: PatronPublic
    loans: list[LoanPublic]


class ReturnPublic(BaseModel):
    client_id: str
    copy_id: str
    title: str
    outcome: Literal["returned"]
    returned_at: datetime
    overdue_days: int
    hand_to_staff: bool
    message_zh: str
    message_en: str
    replayed: bool


class ReasonPublic(BaseModel):
    code: str
    status: int
    message_zh: str
    message_en: str


class ReasonsPublic(BaseModel):
    reasons: list[ReasonPublic]


class RefusalDetail(BaseModel):
    code: str
    message: str
    message_zh: str
    message_en: str


class RefusalPublic(BaseModel):
    error: RefusalDetail


# --- phone page -----------------------------------------------------------------------------

class ReminderPublic(BaseModel):
    kind: Literal["due_soon", "overdue"]
    copy_id: str
    title: str
    due_on: date
    days: int
    at: datetime


class PatronHoldPublic(BaseModel):
    title: str
    status: str


class PhonePagePublic(BaseModel):
    address_as: str
    loans: list[LoanPublic]
    reminders: list[ReminderPublic]
    holds: list[PatronHoldPublic]


# --- staff ----------------------------------------------------------------------------------

class CopyPublic(BaseModel):
    copy_id: str
    shelf: str
    status: Literal["available", "on_loan", "on_hold", "withdrawn", "lost"]


class BookPublic(BaseModel):
    id: int
    isbn: str | None
    title: str
    author: str
    category: str
    copies: list[CopyPublic]


class BooksPublic(BaseModel):
    books: list[BookPublic]
    count: int


class LoanStaffPublic(LoanPublic):
    card_id: str
    address_as: str
    phone: str | None
    via: str


class LoanHistoryPublic(BaseModel):
    loans: list[LoanStaffPublic]
    count: int


class OverduePublic(LoanStaffPublic):
    reminders: int
    last_reminder_at: datetime | None


class OverdueListPublic(BaseModel):
    day: date
    loans: list[OverduePublic]


class HoldCreate(_In):
    card_id: ScannedId
    book_id: DbId


class HoldPublic(BaseModel):
    id: int
    book_id: int
    title: str
    card_id: str
    address_as: str
    status: Literal["waiting", "ready", "fulfilled", "cancelled"]
    placed_at: datetime
    copy_id: str | None
    ready_at: datetime | None


class HoldsPublic(BaseModel):
    holds: list[HoldPublic]


class PatronCreate(_In):
    resident_id: DbId
    pin: Pin | None = None


class PinUpdate(_In):
    pin: Pin


class PatronStaffPublic(BaseModel):
    card_id: str
    resident_id: int
    address_as: str
    phone: str | None
    active: bool
    has_pin: bool
    phone_url: str
    loans: list[LoanPublic]


class ReminderRunPublic(BaseModel):
    day: date
    open_loans: int
    due_soon: int
    overdue: int
