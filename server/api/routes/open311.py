"""Open311 GeoReport v2 over HTTP, in XML (the spec's required format) and JSON.

Every endpoint answers in the format its path ends with: ``services.xml`` / ``services.json``,
``services/{code}.xml``, ``requests.xml`` (GET and POST), ``requests/{id}.xml``; errors too
(``<errors><error><code>403</code>…``, or ``[{"code": 403, "description": …}]``), including
those of validation (server/api/errors.py asks server/open311/xml.py).

A POST body may be form-encoded (UTF-8, percent-encoded or raw; another ``charset`` if the
Content-Type names it), multipart, or JSON. Filing needs an ``api_key`` that staff issued
(``servicepoint open311 key NAME``). ``jurisdiction_id``, when given, must be this site's id.
Names and descriptions come in the language of ``Accept-Language`` (Chinese by default).

The work is done by server/open311/service.py; this module only reads and answers HTTP.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.api.facility import FacilityDeskDep, link_facility_report
from server.api.filing import FilingCaller
from server.dates import EARLIEST, LATEST, in_range
from server.errors import Invalid, NotFound
from server.open311 import service
from server.open311.service import Language, Open311Post, RequestQuery
from server.open311.xml import CONTENT_TYPE, render, render_one
from server.settings import ServerSettings

router = APIRouter(prefix="/open311/v2", tags=["open311"])

Format = Annotated[Literal["json", "xml"], Path(description="json or xml")]
ServiceCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,40}$")]
Jurisdiction = Annotated[str | None, Query(max_length=100)]
AcceptLanguage = Annotated[str | None, Header(max_length=200)]
MAX_BODY = 64 * 1024
# Parsed by _parse_time (Open311 clients send a space for the "+" of the offset).
W3CTime = Annotated[str | None, Query(max_length=40, json_schema_extra={"format": "date-time"})]


class Open311Error(BaseModel):
    code: int
    description: str


_ERR: dict[int | str, dict[str, Any]] = {
    status: {"model": list[Open311Error]} for status in (400, 403, 404)}


def _answer(fmt: str, root: str, item: str, items: list[dict[str, Any]],
            status_code: int = 200) -> Response:
    if fmt == "xml":
        return Response(render(root, item, items), status_code=status_code,
                        media_type=CONTENT_TYPE)
    return JSONResponse(items, status_code=status_code)


def _check_jurisdiction(value: str | None, settings: ServerSettings) -> None:
    """The spec's jurisdiction_id is optional here (one site per server); a wrong one is 404,
    so a platform pointed at the wrong service point finds out at once."""
    if value and value.strip().lower() != settings.site.id.lower():
        raise NotFound(f"jurisdiction_id {value} not found (this is {settings.site.id})")


def _site_zone(settings: ServerSettings) -> Any:
    try:
        return ZoneInfo(settings.site.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# --- services ---------------------------------------------------------------------------------

@router.get("/services.{fmt}", responses=_ERR)
async def services(fmt: Format, db: SessionDep, settings: SettingsDep,
                   jurisdiction_id: Jurisdiction = None,
                   accept_language: AcceptLanguage = None) -> Response:
    """The services the public may file (staff-only categories are not listed)."""
    _check_jurisdiction(jurisdiction_id, settings)
    lang = service.pick_language(accept_language)
    rows = await run_in_threadpool(lambda: service.services(db, lang=lang))
    return _answer(fmt, "services", "service", rows)


@router.get("/services/{service_code}.{fmt}", responses=_ERR)
async def service_definition(service_code: ServiceCode, fmt: Format, db: SessionDep,
                             settings: SettingsDep, jurisdiction_id: Jurisdiction = None,
                             accept_language: AcceptLanguage = None) -> Response:
    _check_jurisdiction(jurisdiction_id, settings)
    lang = service.pick_language(accept_language)
    definition = await run_in_threadpool(
        lambda: service.service_definition(db, code=service_code, lang=lang))
    if fmt == "xml":
        return Response(render_one("service_definition", definition), media_type=CONTENT_TYPE)
    return JSONResponse(definition)


# --- reading requests -------------------------------------------------------------------------

def _parse_time(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise Invalid(f"{name}: not a W3C date-time such as 2026-11-01T00:00:00+08:00") from None
    if parsed.tzinfo is None:
        raise Invalid(f"{name}: needs a time zone (Z or an offset such as +08:00)")
    if not in_range(parsed):  # near year 1 or 9999 the offset alone overflows
        raise Invalid(f"{name}: must be between {EARLIEST} and {LATEST}")
    return parsed


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _views(db: Any, found: list[Any], lang: Language, settings: ServerSettings
           ) -> list[dict[str, Any]]:
    known = service.positions(db)
    zone = _site_zone(settings)
    return [service.request_view(ticket, filing=filing, lang=lang, positions=known, tz=zone)
            for ticket, filing in found]


@router.get("/requests.{fmt}", responses=_ERR)
async def list_requests(
    fmt: Format, db: SessionDep, now: NowDep, settings: SettingsDep,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=2000)] = None,
    start_date: W3CTime = None,
    end_date: W3CTime = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)(,(open|closed))?$")] = None,
    jurisdiction_id: Jurisdiction = None, accept_language: AcceptLanguage = None,
) -> Response:
    """Requests, newest first, at most 1000. ``service_request_id`` overrides every other
    filter; without dates, the last 90 days; a date range spans at most 90 days."""
    _check_jurisdiction(jurisdiction_id, settings)
    query = RequestQuery(ids=_split(service_request_id), service_codes=_split(service_code),
                         start=_parse_time("start_date", start_date),
                         end=_parse_time("end_date", end_date), statuses=_split(status))
    lang = service.pick_language(accept_language)

    def work() -> list[dict[str, Any]]:
        return _views(db, service.find_requests(db, query=query, now=now), lang, settings)

    return _answer(fmt, "service_requests", "request", await run_in_threadpool(work))


@router.get("/requests/{request_id}.{fmt}", responses=_ERR)
async def get_request(request_id: RequestId, fmt: Format, db: SessionDep,
                      settings: SettingsDep, jurisdiction_id: Jurisdiction = None,
                      accept_language: AcceptLanguage = None) -> Response:
    _check_jurisdiction(jurisdiction_id, settings)
    lang = service.pick_language(accept_language)

    def work() -> list[dict[str, Any]]:
        return _views(db, [service.one_request(db, number=request_id)], lang, settings)

    return _answer(fmt, "service_requests", "request", await run_in_threadpool(work))


# --- filing -----------------------------------------------------------------------------------

class PostBody(BaseModel):
    """What a client may post; anything else is ignored, as the spec allows."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    api_key: str | None = Field(default=None, max_length=100)
    jurisdiction_id: str | None = Field(default=None, max_length=100)
    service_code: str = Field(max_length=40)
    address_id: str | None = Field(default=None, max_length=40)
    address_string: str | None = Field(default=None, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    description: str = Field(default="", max_length=4000)
    first_name: str = Field(default="", max_length=40)
    last_name: str = Field(default="", max_length=40)
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$")
    email: str | None = Field(default=None, max_length=100, pattern=r"^[^@\s]+@[^@\s]+$")
    device_id: str | None = Field(default=None, max_length=64)
    account_id: str | None = Field(default=None, max_length=64)
    media_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$")
    attributes: dict[str, str] = Field(default_factory=dict)

    @field_validator("phone", mode="before")
    @classmethod
    def _local_number(cls, value: Any) -> Any:
        """+86 138 0000 1234 and 138-0000-1234 are the same mobile number."""
        if isinstance(value, str):
            digits = "".join(ch for ch in value if ch.isdigit())
            if digits.startswith("0086"):
                digits = digits[4:]
            elif digits.startswith("86") and len(digits) == 13:
                digits = digits[2:]
            return digits or None
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


def _pairs_to_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Form pairs to fields; ``attribute[code]=key`` pairs gather under ``attributes``."""
    fields: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for key, value in pairs:
        if key.startswith("attribute[") and key.endswith("]"):
            attributes[key[len("attribute["):-1]] = value
        elif key not in fields:
            fields[key] = value
    if attributes:
        fields["attributes"] = attributes
    return fields


async def _read_body(request: Request) -> dict[str, Any]:
    """The POST's fields from a form (UTF-8 raw or percent-encoded), multipart, or JSON."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Invalid(f"body: larger than {MAX_BODY} bytes")
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    charset = "utf-8"
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"').lower()
    if mime == "multipart/form-data":
        form = await request.form()
        return _pairs_to_fields([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    try:
        text = raw.decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise Invalid(f"body: not valid {charset} text") from None
    if mime == "application/json" or mime.endswith("+json"):
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise Invalid(f"body: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise Invalid("body: a JSON object is needed")
        fields = _pairs_to_fields(list(data.items()))
        if isinstance(data.get("attribute"), dict):
            fields["attributes"] = {**data["attribute"], **fields.get("attributes", {})}
        return fields
    # Form-encoded, or no type given: parse the text ourselves, so raw UTF-8 (curl -d '描述')
    # reads as UTF-8 rather than Latin-1.
    return _pairs_to_fields(parse_qsl(text, keep_blank_values=True, encoding=charset,
                                      max_num_fields=200))


def _validated(fields: dict[str, Any]) -> PostBody:
    try:
        return PostBody.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise Invalid(f"{where}: {first['msg']}") from None


_POST_SCHEMA = PostBody.model_json_schema()


@router.post("/requests.{fmt}", responses=_ERR, status_code=201, openapi_extra={
    "requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": _POST_SCHEMA},
        "application/json": {"schema": _POST_SCHEMA}}}})
async def post_request(
    fmt: Format, request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
    _caller: FilingCaller, desk: FacilityDeskDep,
    idempotency_key: Annotated[str | None, Header(pattern=r"^[A-Za-z0-9_-]{8,60}$")] = None,
) -> Response:
    """File a request. Its location may be an ``address_id`` (a unit or building code), an
    ``address_string`` or ``lat``/``long``; what cannot be placed goes to the triage queue."""
    fields = await _read_body(request)
    for name in ("api_key", "jurisdiction_id"):  # some clients put these in the query string
        if name not in fields and name in request.query_params:
            fields[name] = request.query_params[name]
    body = _validated(fields)
    _check_jurisdiction(body.jurisdiction_id, settings)
    post = Open311Post(
        service_code=body.service_code, address_id=body.address_id,
        address_string=body.address_string, lat=body.lat, long=body.long,
        description=body.description, first_name=body.first_name, last_name=body.last_name,
        phone=body.phone, email=body.email, device_id=body.device_id,
        account_id=body.account_id, media_url=body.media_url,
        attributes={str(k)[:40]: str(v)[:40] for k, v in body.attributes.items()},
        idempotency_key=idempotency_key)

    def work() -> dict[str, Any]:
        client = service.client_for_key(db, key=body.api_key)
        filed, _created = service.file_open311(db, post=post, client=client, now=now,
                                               site_id=settings.site.id)
        # About the water or a shared facility: onto the asset's maintenance ticket (issue 17).
        link_facility_report(desk, db, request=filed, now=now)
        return {"service_request_id": filed.ticket.number,
                "service_notice": f"{settings.http.public_url}/r/{filed.phone_token}",
                "account_id": body.account_id}

    return _answer(fmt, "service_requests", "request", [await run_in_threadpool(work)],
                   status_code=201)
