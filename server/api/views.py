"""Turn model rows into public schemas. Only what each audience may see leaves here."""

from __future__ import annotations

from datetime import datetime

from server.api import schemas
from server.appointments.booking import appointment_at
from server.lifecycle import allowed_actions
from server.models import Category, Ticket
from server.services.privacy import ShownPhone
from server.services.requests import dispatch_note, mask_phone, place_label, public_history
from server.services.tickets import Proposal, is_overdue


def category_public(category: Category) -> schemas.CategoryPublic:
    return schemas.CategoryPublic(
        code=category.code, name_zh=category.name_zh, name_en=category.name_en,
        skill=category.skill, target_hours=category.target_hours, kiosk=category.kiosk,
        questions=[schemas.QuestionPublic.model_validate(q) for q in category.questions],
        by_appointment=category.by_appointment,
    )


def request_public(ticket: Ticket, now: datetime, *, token: str | None = None,
                   public_url: str | None = None) -> schemas.RequestPublic:
    return schemas.RequestPublic(
        number=ticket.number, status=ticket.status, category=ticket.category_code,
        category_name_zh=ticket.category.name_zh, category_name_en=ticket.category.name_en,
        place=place_label(ticket), created_at=ticket.created_at,
        volunteer_given_name=(ticket.assignee.given_name
                              if ticket.assignee and ticket.accepted_at else None),
        overdue=is_overdue(ticket, now),
        history=[schemas.HistoryEntryPublic.model_validate(h) for h in public_history(ticket)],
        rating=ticket.rating,
        phone_token=token,
        status_url=f"{public_url}/r/{token}" if token and public_url else None,
        appointment_at=appointment_at(ticket),
    )


def ticket_public(ticket: Ticket, now: datetime) -> schemas.TicketPublic:
    return schemas.TicketPublic(
        id=ticket.id, number=ticket.number, kind=ticket.kind, category=ticket.category_code,
        title=ticket.title, status=ticket.status, priority=ticket.priority,
        squad=ticket.squad.code if ticket.squad else None, place=place_label(ticket),
        asset_id=ticket.asset_id, condition=ticket.condition, assignee_id=ticket.assignee_id,
        assignee_given_name=ticket.assignee.given_name if ticket.assignee else None,
        created_at=ticket.created_at, due_at=ticket.due_at, overdue=is_overdue(ticket, now),
    )


def ticket_detail(ticket: Ticket, now: datetime, *, staff: bool,
                  phone: ShownPhone | None = None) -> schemas.TicketDetailPublic:
    """``phone`` is what server.services.privacy allowed this reader; without it, masked."""
    request = ticket.request
    return schemas.TicketDetailPublic(
        **ticket_public(ticket, now).model_dump(),
        answers=dict(request.answers) if request else {},
        description=request.description if request else "",
        contact_name=request.contact_name if request else "",
        contact_phone_masked=mask_phone(request.contact_phone) if request else None,
        contact_phone=phone.number if phone is not None and phone.full else None,
        floor=request.floor if request else "", room=request.room if request else "",
        dispatch_note=dispatch_note(ticket),
        rating=ticket.rating, rating_comment=ticket.rating_comment,
        history=[schemas.TicketEventPublic(at=e.at, action=e.action, from_status=e.from_status,
                                           to_status=e.to_status, actor=e.actor_label,
                                           note=e.note) for e in ticket.events],
        allowed_actions=[str(a) for a in allowed_actions(ticket.status, staff=staff)],
    )


def proposal_public(p: Proposal) -> schemas.ProposalPublic:
    v = p.volunteer
    return schemas.ProposalPublic(
        volunteer_id=v.id, given_name=v.given_name, squad=v.squad.code if v.squad else None,
        skills=v.skill_tags, party_member=v.party_member, open_tasks=p.open_tasks,
        in_squad=p.in_squad,
    )
