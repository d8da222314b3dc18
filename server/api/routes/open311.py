"""Open311 GeoReport v2 (JSON), so a city platform or another tool can read and file requests.

A building or unit code (``C01-B01`` or ``C01-B01-U1``) is the ``address_id``. Requests are
identified by their public number. Residents' names and phone numbers never appear in answers.
Errors come as ``[{"code": 400, "description": "..."}]``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.errors import Invalid, NotFound
from server.lifecycle import OPEN_STATUSES
from server.models import Category, ServiceRequest, Ticket
from server.services.requests import NewRequest, file_request, place_label

router = APIRouter(prefix="/open311/v2", tags=["open311"])
ServiceCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,40}$")]


class Open311Error(BaseModel):
    code: int
    description: str


_ERR = {400: {"model": list[Open311Error]}, 404: {"model": list[Open311Error]}}


def _service(category: Category) -> dict[str, Any]:
    return {"service_code": category.code, "service_name": category.name_zh,
            "description": f"{category.name_zh} / {category.name_en}",
            "metadata": bool(category.questions), "type": "realtime",
            "keywords": category.skill, "group": "社区服务"}


@router.get("/services.json", responses=_ERR)
def services(db: SessionDep) -> list[dict[str, Any]]:
    rows = db.scalars(select(Category).where(Category.active.is_(True))
                      .order_by(Category.sort_order))
    return [_service(c) for c in rows]


@router.get("/services/{service_code}.json", responses=_ERR)
def service_definition(service_code: ServiceCode, db: SessionDep) -> dict[str, Any]:
    category = db.get(Category, service_code)
    if category is None or not category.active:
        raise NotFound(f"service_code {service_code} not found")
    return {"service_code": category.code, "attributes": [
        {"variable": True, "code": q["code"], "datatype": "singlevaluelist",
         "required": q["required"], "datatype_description": "",
         "order": order, "description": f"{q['label_zh']} / {q['label_en']}",
         "values": [{"key": c["key"], "name": c["zh"]} for c in q["choices"]]}
        for order, q in enumerate(category.questions, start=1)
    ]}


def _status(ticket: Ticket) -> str:
    return "open" if ticket.status in OPEN_STATUSES else "closed"


def _request_view(ticket: Ticket) -> dict[str, Any]:
    code = ticket.unit.code if ticket.unit else (ticket.building.code if ticket.building else None)
    return {
        "service_request_id": ticket.number, "status": _status(ticket),
        "status_notes": ticket.status, "service_name": ticket.category.name_zh,
        "service_code": ticket.category_code,
        "description": ticket.request.description if ticket.request else ticket.title,
        "agency_responsible": ticket.squad.name if ticket.squad else "",
        "service_notice": "", "requested_datetime": ticket.created_at.isoformat(),
        "updated_datetime": ticket.updated_at.isoformat(),
        "expected_datetime": ticket.due_at.isoformat() if ticket.due_at else None,
        "address": place_label(ticket), "address_id": code, "zipcode": None,
        "lat": None, "long": None, "media_url": None,
    }


def _parse_time(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{name}: not a W3C date-time") from None
    if parsed.tzinfo is None:
        raise Invalid(f"{name}: needs a time zone offset")
    return parsed


def _query(db: Session) -> Any:
    return select(Ticket).where(Ticket.kind == "request").options(
        selectinload(Ticket.request), selectinload(Ticket.category), selectinload(Ticket.squad))


@router.get("/requests.json", responses=_ERR)
def list_requests(
    db: SessionDep,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=40)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)(,(open|closed))?$")] = None,
) -> list[dict[str, Any]]:
    query = _query(db)
    if service_request_id:
        query = query.where(Ticket.number.in_(service_request_id.split(",")[:100]))
    if service_code:
        query = query.where(Ticket.category_code.in_(service_code.split(",")[:50]))
    start, end = _parse_time("start_date", start_date), _parse_time("end_date", end_date)
    if start:
        query = query.where(Ticket.created_at >= start)
    if end:
        query = query.where(Ticket.created_at <= end)
    if start and end and (end - start).days > 90:
        raise Invalid("start_date/end_date: at most 90 days apart")
    if not service_request_id and not start:
        # The spec's default window: the last 90 days, at most 1000 requests.
        query = query.order_by(Ticket.created_at.desc())
    open_values = [s.value for s in OPEN_STATUSES]
    if status in ("open", "closed"):
        query = query.where(Ticket.status.in_(open_values) if status == "open"
                            else Ticket.status.not_in(open_values))
    return [_request_view(t) for t in db.scalars(query.limit(1000))]


@router.get("/requests/{request_id}.json", responses=_ERR)
def get_request(request_id: RequestId, db: SessionDep) -> list[dict[str, Any]]:
    ticket = db.scalar(_query(db).where(Ticket.number == request_id))
    if ticket is None:
        raise NotFound(f"service_request_id {request_id} not found")
    return [_request_view(ticket)]


@router.post("/requests.json", responses=_ERR, status_code=201)
async def post_request(
    request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
    service_code: Annotated[str, Form(max_length=40)],
    address_id: Annotated[str | None, Form(max_length=40)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    long: Annotated[float | None, Form(ge=-180, le=180)] = None,
    address_string: Annotated[str | None, Form(max_length=200)] = None,
    description: Annotated[str, Form(max_length=500)] = "",
    first_name: Annotated[str, Form(max_length=40)] = "",
    last_name: Annotated[str, Form(max_length=40)] = "",
    phone: Annotated[str | None, Form(pattern=r"^1\d{10}$")] = None,
    email: Annotated[str | None, Form(max_length=100)] = None,
    device_id: Annotated[str | None, Form(max_length=64)] = None,
    account_id: Annotated[str | None, Form(max_length=64)] = None,
    media_url: Annotated[str | None, Form(max_length=500)] = None,
    api_key: Annotated[str | None, Form(max_length=100)] = None,
    idempotency_key: Annotated[str | None, Header(pattern=r"^[A-Za-z0-9_-]{8,60}$")] = None,
) -> list[dict[str, Any]]:
    if not address_id:
        raise Invalid("address_id: give a building or unit code (lat/long alone is not enough)")
    form = await request.form()
    answers = {}
    for key, value in form.multi_items():
        if key.startswith("attribute[") and key.endswith("]") and isinstance(value, str):
            answers[key[len("attribute["):-1][:40]] = value[:40]
    client_id = f"o311-{idempotency_key}" if idempotency_key else f"o311-{uuid.uuid4().hex}"
    filed, _created = await _file(db, NewRequest(
        client_id=client_id, category=service_code, place_code=address_id, answers=answers,
        description=description, contact_name=(last_name + first_name)[:40],
        contact_phone=phone, channel="web"), now, settings.site.id)
    return [{"service_request_id": filed.ticket.number,
             "service_notice": f"{settings.http.public_url}/r/{filed.phone_token}",
             "account_id": account_id}]


async def _file(db: Session, new: NewRequest, now: datetime, site_id: str
                ) -> tuple[ServiceRequest, bool]:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(lambda: file_request(db, new=new, now=now, site_id=site_id))
