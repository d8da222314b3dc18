"""Signed-in work: sign-in, the ticket queue, dispatch (分队下单), accepting (党员接单), figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session

from server.api import schemas
from server.api.deps import (
    CurrentUser,
    DispatcherUser,
    KioskOrStaff,
    NowDep,
    SessionDep,
    SettingsDep,
    StaffUser,
    VolunteerUser,
    session_token,
)
from server.api.views import proposal_public, ticket_detail, ticket_public
from server.errors import Invalid
from server.lifecycle import Action
from server.models import Ticket, User
from server.security import authenticate, close_session, open_session, session_terms
from server.services import tickets as ticket_service
from server.services.figures import monthly_figures
from server.services.privacy import Viewer, phone_for
from server.services.site_status import site_status
from server.sites.scoping import acting_site

router = APIRouter(prefix="/api/v1", responses={401: {"model": schemas.ErrorPublic},
                                                403: {"model": schemas.ErrorPublic}})
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/auth/login", response_model=schemas.LoginPublic, tags=["auth"],
             responses={429: {"model": schemas.ErrorPublic}})
def login(body: schemas.LoginCreate, request: Request, db: SessionDep, now: NowDep,
          settings: SettingsDep) -> schemas.LoginPublic:
    sec = settings.security
    user = authenticate(db, username=body.username, password=body.password,
                        address=request.client.host if request.client else "unknown", now=now,
                        attempts=sec.login_attempts, window_s=sec.login_window_s)
    token = open_session(db, user=user, now=now, hours=sec.session_hours,
                         terms=session_terms(user.role, staff_hours=sec.session_hours,
                                             field_days=sec.field_session_days))
    return schemas.LoginPublic(access_token=token, role=user.role,
                               display_name=user.display_name)


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(db: SessionDep, token: Annotated[str, Depends(session_token)]) -> None:
    close_session(db, token=token)


@router.get("/tickets", response_model=schemas.TicketsPublic, tags=["tickets"])
def list_tickets(
    db: SessionDep, now: NowDep, user: CurrentUser,
    status: Annotated[str | None, Query(max_length=20)] = None,
    squad: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(pattern="^(request|maintenance)$")] = None,
    overdue: bool | None = None,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> schemas.TicketsPublic:
    rows = ticket_service.list_tickets(db, user=user, now=now, status=status, squad=squad,
                                       category=category, kind=kind, overdue=overdue,
                                       open_only=open_only, limit=limit, offset=offset)
    return schemas.TicketsPublic(tickets=[ticket_public(t, now) for t in rows], count=len(rows))


def _detail(db: Session, ticket: Ticket, user: User, now: datetime
            ) -> schemas.TicketDetailPublic:
    """The ticket as this user may see it; a full phone number given out is logged."""
    shown = phone_for(db, ticket=ticket, viewer=Viewer.of(user), now=now, via="api")
    if shown is not None and shown.full:
        db.commit()
    return ticket_detail(ticket, now, staff=ticket_service.is_staff(user), phone=shown)


def _visible_ticket(db: SessionDep, user: CurrentUser, ticket_id: TicketId):  # type: ignore[no-untyped-def]
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    ticket_service.require_view(user, ticket)
    return ticket


@router.get("/tickets/{ticket_id}", response_model=schemas.TicketDetailPublic, tags=["tickets"],
            responses={404: {"model": schemas.ErrorPublic}})
def get_ticket(ticket_id: TicketId, db: SessionDep, now: NowDep, user: CurrentUser
               ) -> schemas.TicketDetailPublic:
    ticket = _visible_ticket(db, user, ticket_id)
    return _detail(db, ticket, user, now)


@router.get("/tickets/{ticket_id}/proposals", response_model=schemas.ProposalsPublic,
            tags=["tickets"], responses={404: {"model": schemas.ErrorPublic}})
def get_proposals(ticket_id: TicketId, db: SessionDep, user: DispatcherUser
                  ) -> schemas.ProposalsPublic:
    ticket = _visible_ticket(db, user, ticket_id)
    return schemas.ProposalsPublic(
        proposals=[proposal_public(p) for p in ticket_service.proposals(db, ticket=ticket)])


_ERRORS = {404: {"model": schemas.ErrorPublic}, 409: {"model": schemas.ErrorPublic},
           422: {"model": schemas.ErrorPublic}}


@router.post("/tickets/{ticket_id}/dispatch", response_model=schemas.TicketDetailPublic,
             tags=["tickets"], responses=_ERRORS)
def dispatch(ticket_id: TicketId, body: schemas.DispatchCreate, db: SessionDep, now: NowDep,
             user: DispatcherUser) -> schemas.TicketDetailPublic:
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    ticket_service.dispatch(db, ticket=ticket, user=user, volunteer_id=body.volunteer_id,
                            now=now, note=body.note)
    return _detail(db, ticket, user, now)


def _volunteer_route(action: Action):  # type: ignore[no-untyped-def]
    def route(ticket_id: TicketId, db: SessionDep, now: NowDep, user: CurrentUser,
              body: schemas.NoteCreate | None = None) -> schemas.TicketDetailPublic:
        ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
        ticket_service.volunteer_action(db, ticket=ticket, user=user, action=action, now=now,
                                        note=body.note if body else "")
        return _detail(db, ticket, user, now)

    route.__name__ = f"{action}_ticket"
    return route


for _action in (Action.ACCEPT, Action.DECLINE, Action.START, Action.RESOLVE):
    router.add_api_route(f"/tickets/{{ticket_id}}/{_action}", _volunteer_route(_action),
                         methods=["POST"], response_model=schemas.TicketDetailPublic,
                         tags=["tickets"], responses=_ERRORS)


def _staff_route(action: Action):  # type: ignore[no-untyped-def]
    def route(ticket_id: TicketId, db: SessionDep, now: NowDep, user: DispatcherUser,
              body: schemas.NoteCreate | None = None) -> schemas.TicketDetailPublic:
        ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
        ticket_service.staff_action(db, ticket=ticket, user=user, action=action, now=now,
                                    note=body.note if body else "")
        return _detail(db, ticket, user, now)

    route.__name__ = f"{action}_ticket"
    return route


for _action in (Action.CLOSE, Action.CANCEL, Action.REOPEN):
    router.add_api_route(f"/tickets/{{ticket_id}}/{_action}", _staff_route(_action),
                         methods=["POST"], response_model=schemas.TicketDetailPublic,
                         tags=["tickets"], responses=_ERRORS)


@router.post("/tickets/{ticket_id}/duplicate", response_model=schemas.TicketDetailPublic,
             tags=["tickets"], responses=_ERRORS)
def duplicate(ticket_id: TicketId, body: schemas.DuplicateCreate, db: SessionDep, now: NowDep,
              user: DispatcherUser) -> schemas.TicketDetailPublic:
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    original = ticket_service.get_ticket(db, ticket_id=body.of_ticket_id)
    if original.id == ticket.id:
        raise Invalid("of_ticket_id: a ticket cannot duplicate itself")
    note = f"重复 / duplicate of {original.number}" + (f": {body.note}" if body.note else "")
    ticket_service.staff_action(db, ticket=ticket, user=user, action=Action.DUPLICATE, now=now,
                                note=note)
    return _detail(db, ticket, user, now)


@router.get("/me/tasks", response_model=schemas.TasksPublic, tags=["volunteers"])
def my_tasks(db: SessionDep, now: NowDep, user: VolunteerUser) -> schemas.TasksPublic:
    current, done = ticket_service.tasks_for(db, user=user)
    return schemas.TasksPublic(current=[ticket_public(t, now) for t in current],
                               history=[ticket_public(t, now) for t in done])


@router.get("/figures/monthly", response_model=schemas.MonthlyFiguresPublic, tags=["figures"])
def figures(db: SessionDep, user: StaffUser, settings: SettingsDep,
            year: Annotated[int, Query(ge=2000, le=2100)]) -> schemas.MonthlyFiguresPublic:
    rows = monthly_figures(db, year=year, timezone=settings.site.timezone)
    return schemas.MonthlyFiguresPublic(
        year=year, figures=[schemas.MonthlyFigurePublic.model_validate(r, from_attributes=True)
                            for r in rows])


@router.get("/site/status", tags=["site"])
def get_site_status(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                    who: KioskOrStaff) -> dict[str, object]:
    return site_status(db, now=now, site_id=acting_site(db, settings.site.id),
                       extra=getattr(request.app.state, "site_status_extra", None))
