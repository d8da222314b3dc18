"""The library's HTTP API under /api/v1/library: the kiosk's self-check, the reader's phone page,
and the staff's lists. Routes only translate: they call ``services`` and shape ``schemas``.

- Kiosk endpoints take the kiosk's ``X-Kiosk-Key`` (or a staff sign-in). A reader identified
  with ``POST /sessions`` is named on later calls by the ``X-Library-Session`` header.
- A refusal by a lending rule answers with its reason code and the words in both languages:
  ``{"error": {"code", "message", "message_zh", "message_en"}}``.
- The phone page is public; its unguessable token is the only key (as for requests).

docs/LIBRARY.md is the contract for the kiosk's screens.

A little over the house's 400 lines: the kiosk's, the phone's and the staff's routes share their
dependencies (kiosk key, reader session, policy) and are read against docs/LIBRARY.md as one API.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute

from server.api.deps import KioskOrStaff, NowDep, SessionDep, SettingsDep, StaffUser
from server.api.ratelimit import TrackLimit
from server.api.schemas import ErrorPublic
from server.errors import Invalid, NotAuthenticated
from server.library import rules, services
from server.library import schemas as s
from server.library.config import library_config_path, load_policy
from server.library.models import Book, Hold, Loan, Patron, Reminder
from server.library.rules import LendingPolicy, Reason, Refusal
from server.library.services import LendingRefused, refuse
from server.services.requests import mask_phone
from server.settings import ServerSettings

__all__ = ["router"]



class LibraryRoute(APIRoute):
    """Answers a lending refusal with the words in both languages as well as the code, so the
    kiosk can show them; every other error goes to the app's own handlers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except LendingRefused as exc:
                return JSONResponse(_refusal_body(exc.refusal), status_code=exc.status_code)

        return route


def _refusal_body(refusal: Refusal) -> dict[str, Any]:
    return {"error": {"code": refusal.reason.value,
                      "message": f"{refusal.message_zh} {refusal.message_en}",
                      "message_zh": refusal.message_zh, "message_en": refusal.message_en}}


_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic}, 403: {"model": ErrorPublic},
    404: {"model": s.RefusalPublic}, 409: {"model": s.RefusalPublic},
    422: {"model": ErrorPublic}, 429: {"model": s.RefusalPublic},
}


@contextlib.asynccontextmanager
async def _load_policy(app: FastAPI) -> AsyncIterator[None]:
    """Read library.toml when the server starts, so a bad value stops it with the key's name
    instead of failing the first borrow."""
    settings: ServerSettings = app.state.settings
    if getattr(app.state, "library_policy", None) is None:
        app.state.library_policy = load_policy(library_config_path(settings))
    yield


router = APIRouter(prefix="/api/v1/library", route_class=LibraryRoute, tags=["library"],
                   responses=_REFUSALS, lifespan=_load_policy)


# --- dependencies ---------------------------------------------------------------------------

def get_policy(request: Request, settings: SettingsDep) -> LendingPolicy:
    """The lending policy, read from library.toml once per app (tests may set it on app.state)."""
    policy: LendingPolicy | None = getattr(request.app.state, "library_policy", None)
    if policy is None:
        policy = load_policy(library_config_path(settings))
        request.app.state.library_policy = policy
    return policy


PolicyDep = Annotated[LendingPolicy, Depends(get_policy)]
SessionHeader = Annotated[str | None, Header(alias="X-Library-Session", max_length=100)]


def _reader(db: SessionDep, now: NowDep, policy: PolicyDep, _caller: KioskOrStaff,
            x_library_session: SessionHeader = None) -> Patron:
    if not x_library_session:
        raise NotAuthenticated("identify the reader first (X-Library-Session)",
                               code=services.SESSION_EXPIRED)
    return services.session_patron(db, token=x_library_session, now=now, policy=policy)


Reader = Annotated[Patron, Depends(_reader)]


def _today(now: datetime, settings: ServerSettings) -> date:
    return services.local_today(now, settings.site.timezone)


def _phone_url(settings: ServerSettings, patron: Patron) -> str:
    """The reader's phone page (server/web/loans.py), where the kiosk's QR code leads."""
    return f"{settings.http.public_url}/l/{patron.phone_token}"


# --- shaping --------------------------------------------------------------------------------

def _loan(loan: Loan, today: date, policy: LendingPolicy) -> s.LoanPublic:
    return s.LoanPublic(
        loan_id=loan.id, copy_id=loan.copy.label, title=loan.copy.book.title,
        author=loan.copy.book.author, borrowed_at=loan.borrowed_at, due_on=loan.due_on,
        renewals=loan.renewals, renewals_left=max(0, policy.max_renewals - loan.renewals),
        overdue_days=0 if loan.returned_at else rules.days_overdue(loan.due_on, today),
        returned_at=loan.returned_at)


def _loan_staff(loan: Loan, today: date, policy: LendingPolicy) -> s.LoanStaffPublic:
    resident = loan.patron.resident
    return s.LoanStaffPublic(**_loan(loan, today, policy).model_dump(),
                             card_id=loan.patron.card_id, address_as=resident.address_as,
                             phone=mask_phone(resident.phone), via=loan.via)


def _patron(patron: Patron, loans: list[Loan], today: date, policy: LendingPolicy
            ) -> s.PatronPublic:
    states = [rules.LoanState(loan.copy.label, loan.due_on, loan.renewals) for loan in loans]
    return s.PatronPublic(card_id=patron.card_id, address_as=patron.resident.address_as,
                          loans=len(loans), max_items=policy.max_items,
                          can_borrow=max(0, policy.max_items - len(loans)),
                          blocked=bool(rules.blocking_loans(states, today, policy)))


def _hold(hold: Hold) -> s.HoldPublic:
    return s.HoldPublic(id=hold.id, book_id=hold.book_id, title=hold.book.title,
                        card_id=hold.patron.card_id, address_as=hold.patron.resident.address_as,
                        status=hold.status,  # type: ignore[arg-type]
                        placed_at=hold.placed_at, copy_id=hold.copy.label if hold.copy else None,
                        ready_at=hold.ready_at)


def _reminder(reminder: Reminder) -> s.ReminderPublic:
    return s.ReminderPublic(kind=reminder.kind,  # type: ignore[arg-type]
                            copy_id=reminder.loan.copy.label,
                            title=reminder.loan.copy.book.title, due_on=reminder.due_on,
                            days=reminder.days, at=reminder.created_at)


# --- kiosk ----------------------------------------------------------------------------------

@router.get("/reasons", response_model=s.ReasonsPublic)
def reasons(policy: PolicyDep) -> s.ReasonsPublic:
    """Every refusal code with its HTTP status and words, for the kiosk to know in advance."""
    return s.ReasonsPublic(reasons=[
        s.ReasonPublic(code=r.value, status=refuse(Refusal(r, policy)).status_code,
                       message_zh=Refusal(r, policy).message_zh,
                       message_en=Refusal(r, policy).message_en) for r in Reason])


@router.post("/sessions", response_model=s.SessionPublic, status_code=201)
def open_session(body: s.SessionCreate, db: SessionDep, now: NowDep, settings: SettingsDep,
                 policy: PolicyDep, _caller: KioskOrStaff) -> s.SessionPublic:
    if body.card_id is None and (body.phone is None or body.pin is None):
        raise Invalid("give card_id, or phone and pin")
    patron, token = services.identify(db, now=now, policy=policy, card_id=body.card_id,
                                      phone=body.phone, pin=body.pin)
    today = _today(now, settings)
    loans = services.open_loans(db, patron=patron)
    expires = now + timedelta(minutes=policy.session_minutes)
    return s.SessionPublic(session=token, expires_at=expires,
                           patron=_patron(patron, loans, today, policy),
                           loans=[_loan(loan, today, policy) for loan in loans],
                           phone_url=_phone_url(settings, patron))


@router.delete("/sessions/current", status_code=204)
def close_session(db: SessionDep, _caller: KioskOrStaff,
                  x_library_session: SessionHeader = None) -> Response:
    """The reader pressed "done" (or the kiosk timed out): forget the session."""
    if x_library_session:
        services.end_session(db, token=x_library_session)
    return Response(status_code=204)


@router.get("/session/loans", response_model=s.LoansPublic)
def my_loans(patron: Reader, db: SessionDep, now: NowDep, settings: SettingsDep,
             policy: PolicyDep) -> s.LoansPublic:
    today = _today(now, settings)
    loans = services.open_loans(db, patron=patron)
    return s.LoansPublic(patron=_patron(patron, loans, today, policy),
                         loans=[_loan(loan, today, policy) for loan in loans])


@router.post("/loans", response_model=s.LoanPublic, status_code=201,
             responses={200: {"model": s.LoanPublic,
                              "description": "borrowed before with this client_id"}})
def borrow(body: s.LoanCreate, patron: Reader, db: SessionDep, now: NowDep,
           settings: SettingsDep, policy: PolicyDep, caller: KioskOrStaff,
           response: Response) -> s.LoanPublic:
    loan, created = services.borrow(db, patron=patron, copy_id=body.copy_id, now=now,
                                    policy=policy, tz=settings.site.timezone,
                                    client_id=body.client_id, via=caller)
    if not created:
        response.status_code = 200
    return _loan(loan, _today(now, settings), policy)


@router.post("/renewals", response_model=s.LoanPublic)
def renew(body: s.RenewalCreate, patron: Reader, db: SessionDep, now: NowDep,
          settings: SettingsDep, policy: PolicyDep) -> s.LoanPublic:
    loan = services.renew(db, patron=patron, copy_id=body.copy_id, now=now, policy=policy,
                          tz=settings.site.timezone)
    return _loan(loan, _today(now, settings), policy)


_HAND_TO_STAFF = ("有读者预约了这本书，请把书交给工作人员。",
                  "Another reader is waiting for this book. Please hand it to staff.")
_SHELVED = ("还书成功，谢谢！", "Returned. Thank you!")


@router.post("/returns", response_model=s.ReturnPublic)
def return_copy(body: s.ReturnCreate, db: SessionDep, now: NowDep, settings: SettingsDep,
                policy: PolicyDep, caller: KioskOrStaff) -> s.ReturnPublic:
    result = services.return_copy(db, client_id=body.client_id, copy_id=body.copy_id, now=now,
                                  returned_at=body.returned_at, via=caller)
    receipt = result.receipt
    if receipt.loan is None:
        raise refuse(Refusal(Reason(receipt.outcome), policy))
    loan = receipt.loan
    zh, en = _HAND_TO_STAFF if result.hand_to_staff else _SHELVED
    returned_day = services.local_today(receipt.returned_at, settings.site.timezone)
    return s.ReturnPublic(client_id=receipt.client_id, copy_id=receipt.copy_label,
                          title=loan.copy.book.title, outcome="returned",
                          returned_at=receipt.returned_at,
                          overdue_days=rules.days_overdue(loan.due_on, returned_day),
                          hand_to_staff=result.hand_to_staff, message_zh=zh, message_en=en,
                          replayed=result.replayed)


# --- the reader's phone page ----------------------------------------------------------------

TokenPath = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


def phone_view(db: SessionDep, now: datetime, settings: ServerSettings, policy: LendingPolicy,
               token: str) -> s.PhonePagePublic:
    """What the reader's phone may see: their own loans, holds and reminders, nothing else."""
    patron = services.patron_by_phone_token(db, token=token)
    today = _today(now, settings)
    return s.PhonePagePublic(
        address_as=patron.resident.address_as,
        loans=[_loan(loan, today, policy) for loan in services.open_loans(db, patron=patron)],
        reminders=[_reminder(r) for r in services.patron_reminders(db, patron=patron)],
        holds=[s.PatronHoldPublic(title=h.book.title, status=h.status)
               for h in services.patron_holds(db, patron=patron)])


@router.get("/phone/{token}", response_model=s.PhonePagePublic)
def phone_loans(token: TokenPath, db: SessionDep, now: NowDep, settings: SettingsDep,
                policy: PolicyDep, _limit: TrackLimit) -> s.PhonePagePublic:
    return phone_view(db, now, settings, policy, token)


@router.get("/phone/{token}/page", include_in_schema=False)
def phone_page(token: TokenPath) -> RedirectResponse:
    """Where the page used to be: links handed out before it moved still work."""
    return RedirectResponse(f"/l/{token}", status_code=308)


# --- staff ----------------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/catalog", response_model=s.BooksPublic)
def catalog(db: SessionDep, _user: StaffUser,
            q: Annotated[str | None, Query(max_length=100)] = None,
            limit: Limit = 50, offset: Offset = 0) -> s.BooksPublic:
    books = services.catalog(db, query=q, limit=limit, offset=offset)
    out = services.copies_on_loan(db, copy_ids=[c.id for b in books for c in b.copies])
    held = {h.copy_id for h in services.hold_queue(db, status="ready", limit=10_000)}

    def status(copy_id: int, copy_status: str) -> Any:
        if copy_status != "available":
            return copy_status
        return "on_loan" if copy_id in out else "on_hold" if copy_id in held else "available"

    def book(b: Book) -> s.BookPublic:
        return s.BookPublic(id=b.id, isbn=b.isbn, title=b.title, author=b.author,
                            category=b.category,
                            copies=[s.CopyPublic(copy_id=c.label, shelf=c.shelf,
                                                 status=status(c.id, c.status))
                                    for c in b.copies])

    return s.BooksPublic(books=[book(b) for b in books], count=len(books))


@router.get("/overdue", response_model=s.OverdueListPublic)
def overdue(db: SessionDep, now: NowDep, settings: SettingsDep, policy: PolicyDep,
            _user: StaffUser) -> s.OverdueListPublic:
    today = _today(now, settings)
    rows = services.overdue_loans(db, today=today)
    counts = services.reminder_counts(db, loan_ids=[loan.id for loan, _ in rows])
    return s.OverdueListPublic(day=today, loans=[
        s.OverduePublic(**_loan_staff(loan, today, policy).model_dump(),
                        reminders=counts.get(loan.id, 0),
                        last_reminder_at=last.created_at if last else None)
        for loan, last in rows])


@router.get("/loans", response_model=s.LoanHistoryPublic)
def loan_history(db: SessionDep, now: NowDep, settings: SettingsDep, policy: PolicyDep,
                 _user: StaffUser,
                 card_id: Annotated[str | None, Query(max_length=64)] = None,
                 copy_id: Annotated[str | None, Query(max_length=64)] = None,
                 open_only: bool = False, limit: Limit = 100, offset: Offset = 0
                 ) -> s.LoanHistoryPublic:
    today = _today(now, settings)
    loans = services.loan_history(db, card_id=card_id, copy_id=copy_id, open_only=open_only,
                                  limit=limit, offset=offset)
    return s.LoanHistoryPublic(loans=[_loan_staff(loan, today, policy) for loan in loans],
                               count=len(loans))


HoldStatus = Annotated[str | None, Query(pattern="^(waiting|ready|fulfilled|cancelled)$")]


@router.get("/holds", response_model=s.HoldsPublic)
def holds(db: SessionDep, _user: StaffUser, status: HoldStatus = None,
          limit: Limit = 100, offset: Offset = 0) -> s.HoldsPublic:
    """``status=ready`` is the staff's "hand over" list: copies kept for a waiting reader."""
    rows = services.hold_queue(db, status=status, limit=limit, offset=offset)
    return s.HoldsPublic(holds=[_hold(h) for h in rows])


@router.post("/holds", response_model=s.HoldPublic, status_code=201)
def place_hold(body: s.HoldCreate, db: SessionDep, now: NowDep, _user: StaffUser
               ) -> s.HoldPublic:
    patron = services.patron_by_card(db, card_id=body.card_id)
    return _hold(services.place_hold(db, patron=patron, book_id=body.book_id, now=now))


@router.post("/holds/{hold_id}/cancel", response_model=s.HoldPublic)
def cancel_hold(hold_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)], db: SessionDep,
                now: NowDep, _user: StaffUser) -> s.HoldPublic:
    return _hold(services.cancel_hold(db, hold_id=hold_id, now=now))


def _patron_staff(db: SessionDep, patron: Patron, today: date, settings: ServerSettings,
                  policy: LendingPolicy) -> s.PatronStaffPublic:
    resident = patron.resident
    return s.PatronStaffPublic(
        card_id=patron.card_id, resident_id=resident.id, address_as=resident.address_as,
        phone=mask_phone(resident.phone), active=patron.active,
        has_pin=patron.pin_hash is not None, phone_url=_phone_url(settings, patron),
        loans=[_loan(loan, today, policy) for loan in services.open_loans(db, patron=patron)])


@router.post("/patrons", response_model=s.PatronStaffPublic, status_code=201,
             responses={200: {"model": s.PatronStaffPublic,
                              "description": "the resident was a patron already"}})
def enrol(body: s.PatronCreate, db: SessionDep, now: NowDep, settings: SettingsDep,
          policy: PolicyDep, _user: StaffUser, response: Response) -> s.PatronStaffPublic:
    patron, created = services.enrol_patron(db, resident_id=body.resident_id, now=now,
                                            pin=body.pin)
    if not created:
        response.status_code = 200
    return _patron_staff(db, patron, _today(now, settings), settings, policy)


CardPath = Annotated[str, PathParam(max_length=64)]


@router.get("/patrons/{card_id}", response_model=s.PatronStaffPublic)
def patron(card_id: CardPath, db: SessionDep, now: NowDep, settings: SettingsDep,
           policy: PolicyDep, _user: StaffUser) -> s.PatronStaffPublic:
    found = services.patron_by_card(db, card_id=card_id)
    return _patron_staff(db, found, _today(now, settings), settings, policy)


@router.put("/patrons/{card_id}/pin", status_code=204)
def set_pin(card_id: CardPath, body: s.PinUpdate, db: SessionDep, _user: StaffUser
            ) -> Response:
    services.set_pin(db, patron=services.patron_by_card(db, card_id=card_id), pin=body.pin)
    return Response(status_code=204)


@router.post("/reminders/run", response_model=s.ReminderRunPublic)
def run_reminders(db: SessionDep, now: NowDep, settings: SettingsDep, policy: PolicyDep,
                  _user: StaffUser) -> s.ReminderRunPublic:
    """The daily job, on demand (it is idempotent: a second run the same day adds nothing)."""
    summary = services.run_daily_reminders(db, now=now, policy=policy,
                                           tz=settings.site.timezone)
    return s.ReminderRunPublic(day=summary.day, open_loans=summary.open_loans,
                               due_soon=summary.due_soon, overdue=summary.overdue)
