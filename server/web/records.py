"""Volunteer service records in the browser: the volunteer's own record on their phone, the
staff's and squad leader's view with corrections and certificates, and the certificate's public
verification page (server/records/ holds the rules).

    GET  /v/record                                  my hours by month, my services, my ratings
    GET  /staff/records                             every volunteer's hours this year (or
                                                    ?year=), totals by squad
    GET  /staff/records.csv?year=                   the branch's 台账: hours by month, squad
                                                    and volunteer
    GET  /staff/records/<volunteer id>              one volunteer's record, for a period
    POST /staff/records/<volunteer id>/jobs/<ticket id>/hours   a leader's correction
    POST /staff/records/<volunteer id>/certificates             issue a certificate
    GET  /staff/certificates/<number>.pdf           the certificate to print
    GET  /c/<token>                                 public: number, period, hours, issuer

A squad leader sees and corrects the volunteers of their own squad; staff and admins all. The
public page names no one: the paper in the reader's hand carries the name, the page confirms the
number and hours on it (counted against the per-address limit of token lookups).
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.api.ratelimit import TrackLimit
from server.errors import Forbidden, NotFound
from server.models import Role, Ticket, User, Volunteer
from server.printing import pdf_bytes
from server.records.certificate import CertificateLine, CertificateSheet, certificate_page
from server.records.hours import MAX_JOB_MINUTES
from server.records.models import ServiceCertificate
from server.records.service import (
    CorrectionRefused,
    Record,
    certificate_by_number,
    certificate_by_token,
    correct_hours,
    issue_certificate,
    monthly_hours,
    volunteer_record,
)
from server.settings import ServerSettings
from server.sites.scoping import acting_site
from server.web.common import (
    CsrfChecked,
    WebDispatcher,
    WebRoute,
    WebStaff,
    WebVolunteer,
    lang_of,
    redirect,
    render,
    spreadsheet_cell,
)
from server.web.words import N_, words_for

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
VolunteerId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
Number = Annotated[str, Path(pattern=r"^ZY\d{4}-\d{4,6}$")]

# Form mistakes, beside the field, in the reader's words.
_ERRORS = {
    "not_a_number": N_("请填写分钟数（整数）"),
    "out_of_range": N_("分钟数应在 0 到 480 之间"),
    "required": N_("请写明更正的原因"),
    "too_long": N_("原因请写在 200 字以内"),
    "bad_date": N_("请按 年-月-日 填写日期"),
    "before_start": N_("结束日期不能早于开始日期"),
}


def _today(now: datetime, settings: ServerSettings) -> date:
    return now.astimezone(ZoneInfo(settings.site.timezone)).date()


def _year_span(now: datetime, settings: ServerSettings) -> tuple[date, date]:
    today = _today(now, settings)
    return date(today.year, 1, 1), today


def _volunteer_for(db: SessionDep, user: User, volunteer_id: int) -> Volunteer:
    volunteer = db.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("no such volunteer")
    if user.role == Role.SQUAD_LEADER and volunteer.squad_id != user.squad_id:
        raise Forbidden("a squad leader sees the records of their own squad")
    return volunteer


@router.get("/v/record", response_class=HTMLResponse)
def my_record(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
              user: WebVolunteer) -> HTMLResponse:
    if user.volunteer is None:
        raise NotFound("this sign-in has no volunteer record")
    start, end = _year_span(now, settings)
    found = volunteer_record(db, volunteer=user.volunteer, start=start, end=end,
                             timezone=settings.site.timezone, now=now)
    return render(request, "record.html", {"record": found, "mine": True}, user=user)


@router.get("/staff/records", response_class=HTMLResponse)
def records_list(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                 user: WebDispatcher,
                 year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> HTMLResponse:
    this_year = _today(now, settings).year
    start, end = _year_span(now, settings)
    if year is not None and year != this_year:
        start, end = date(year, 1, 1), date(year, 12, 31)
    query = select(Volunteer).order_by(Volunteer.squad_id, Volunteer.code)
    if user.role == Role.SQUAD_LEADER:
        query = query.where(Volunteer.squad_id == user.squad_id)
    rows = [volunteer_record(db, volunteer=v, start=start, end=end,
                             timezone=settings.site.timezone, now=now)
            for v in db.scalars(query)]
    squads: dict[str, list[Record]] = {}
    for row in rows:
        squads.setdefault(row.volunteer.squad.name if row.volunteer.squad else "", []).append(row)
    return render(request, "records.html", {
        "records": rows, "start": start, "end": end, "year": start.year,
        "years": list(range(this_year, this_year - 5, -1)),
        "squads": [(name, sum(r.services for r in found), round(
            sum(r.minutes for r in found) / 60, 1)) for name, found in squads.items()],
    }, user=user)


@router.get("/staff/records.csv")
def records_download(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                     user: WebStaff,
                     year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    """Hours by month, squad and volunteer, for the Party branch and the street office: CSV in
    UTF-8 with a BOM, so Excel on Chinese Windows opens it right."""
    year = year or _today(now, settings).year
    words = words_for(lang_of(request))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([words.pgettext("CSV column", head) for head in (
        "月份", "小分队", "志愿者编号", "志愿者", "党员", "服务次数", "服务时长（小时）")])
    for row in monthly_hours(db, year=year, timezone=settings.site.timezone, now=now):
        writer.writerow([spreadsheet_cell(value) for value in (
            row.month, row.squad, row.volunteer_code, row.volunteer_name,
            words.gettext("是") if row.party_member else "", row.services,
            round(row.minutes / 60, 1))])
    log.info("service hours %s downloaded by %s", year, user.username)
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"),
                    media_type="text/csv; charset=utf-8", headers={
                        "Content-Disposition":
                            f'attachment; filename="servicepoint-hours-{year}.csv"',
                        "Cache-Control": "no-store"})


def _period(start: str | None, end: str | None, now: datetime, settings: ServerSettings
            ) -> tuple[date, date, dict[str, str]]:
    first, last = _year_span(now, settings)
    errors: dict[str, str] = {}
    picked = []
    for name, text, default in (("start", start, first), ("end", end, last)):
        try:
            picked.append(date.fromisoformat(text) if text else default)
        except ValueError:
            errors[name] = "bad_date"
            picked.append(default)
        if not errors.get(name) and not date(2000, 1, 1) <= picked[-1] <= date(2100, 12, 31):
            errors[name] = "bad_date"
            picked[-1] = default
    if not errors and picked[1] < picked[0]:
        errors["end"] = "before_start"
    return picked[0], picked[1], errors


def _staff_page(request: Request, db: SessionDep, now: datetime, settings: ServerSettings,
                user: User, volunteer: Volunteer, *, start: date, end: date,
                errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                job_errors: dict[int, dict[str, str]] | None = None,
                job_forms: dict[int, dict[str, str]] | None = None,
                status: int = 200) -> HTMLResponse:
    found: Record = volunteer_record(db, volunteer=volunteer, start=start, end=end,
                                     timezone=settings.site.timezone, now=now)
    issued = db.scalars(select(ServiceCertificate)
                        .where(ServiceCertificate.volunteer_id == volunteer.id)
                        .order_by(ServiceCertificate.id.desc())).all()
    return render(request, "record.html", {
        "record": found, "mine": False, "certificates": issued, "error_words": _ERRORS,
        "errors": errors or {}, "form": form or {"start": start.isoformat(),
                                                  "end": end.isoformat()},
        "job_errors": job_errors or {}, "job_forms": job_forms or {},
        "max_minutes": MAX_JOB_MINUTES,
    }, user=user, status=status)


@router.get("/staff/records/{volunteer_id}", response_class=HTMLResponse)
def staff_record(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                 user: WebDispatcher, volunteer_id: VolunteerId,
                 start: Annotated[str | None, Query(max_length=10)] = None,
                 end: Annotated[str | None, Query(max_length=10)] = None) -> HTMLResponse:
    volunteer = _volunteer_for(db, user, volunteer_id)
    first, last, errors = _period(start, end, now, settings)
    return _staff_page(request, db, now, settings, user, volunteer, start=first, end=last,
                       errors=errors, form={"start": start or first.isoformat(),
                                            "end": end or last.isoformat()},
                       status=422 if errors else 200)


@router.post("/staff/records/{volunteer_id}/jobs/{ticket_id}/hours",
             response_class=HTMLResponse)
def correct(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
            user: WebDispatcher, _csrf: CsrfChecked, volunteer_id: VolunteerId,
            ticket_id: TicketId, minutes: Annotated[str, Form(max_length=10)] = "",
            reason: Annotated[str, Form(max_length=1000)] = "") -> Response:
    volunteer = _volunteer_for(db, user, volunteer_id)
    ticket = db.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("no such ticket")
    first, last = _year_span(now, settings)
    value: object = int(minutes) if minutes.strip().isdigit() else minutes
    try:
        correct_hours(db, ticket=ticket, volunteer=volunteer, minutes=value, reason=reason,
                      user=user, now=now)
    except CorrectionRefused as refused:
        db.rollback()
        return _staff_page(request, db, now, settings, user, volunteer, start=first, end=last,
                           job_errors={ticket_id: refused.errors},
                           job_forms={ticket_id: {"minutes": minutes, "reason": reason}},
                           status=422)
    db.commit()
    return redirect(f"/staff/records/{volunteer.id}?saved=hours#j{ticket_id}")


@router.post("/staff/records/{volunteer_id}/certificates", response_class=HTMLResponse)
def issue(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
          user: WebDispatcher, _csrf: CsrfChecked, volunteer_id: VolunteerId,
          start: Annotated[str, Form(max_length=10)] = "",
          end: Annotated[str, Form(max_length=10)] = "") -> Response:
    volunteer = _volunteer_for(db, user, volunteer_id)
    first, last, errors = _period(start, end, now, settings)
    if errors:
        return _staff_page(request, db, now, settings, user, volunteer, start=first, end=last,
                           errors=errors, form={"start": start, "end": end}, status=422)
    certificate = issue_certificate(db, volunteer=volunteer, start=first, end=last,
                                    timezone=settings.site.timezone,
                                    issuer_name=settings.site.name_zh,
                                    site_id=acting_site(db, settings.site.id), user=user,
                                    now=now)
    db.commit()
    return redirect(f"/staff/records/{volunteer.id}?issued={certificate.number}")


@router.get("/staff/certificates/{number}.pdf")
def certificate_pdf(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                    user: WebDispatcher, number: Number) -> Response:
    certificate = certificate_by_number(db, number)
    volunteer = _volunteer_for(db, user, certificate.volunteer_id)
    found = volunteer_record(db, volunteer=volunteer, start=certificate.period_start,
                             end=certificate.period_end, timezone=settings.site.timezone,
                             now=now)
    tz = ZoneInfo(settings.site.timezone)
    sheet = CertificateSheet(
        number=certificate.number, volunteer_name=volunteer.full_name or volunteer.given_name,
        volunteer_code=volunteer.code, issuer_name=certificate.issuer_name,
        period_start=certificate.period_start, period_end=certificate.period_end,
        jobs=certificate.jobs, hours=round(certificate.minutes / 60, 1),
        issued_on=certificate.issued_at.astimezone(tz).date(),
        verify_url=f"{settings.http.public_url}/c/{certificate.verify_token}",
        lines=tuple(sorted(
            [CertificateLine(j.day, j.category_zh, round(j.minutes / 60, 1))
             for j in found.jobs]
            + [CertificateLine(a.day, a.title, round((a.minutes or 0) / 60, 1))
               for a in found.activities], key=lambda line: line.day)))
    page = certificate_page(sheet, font_path=settings.kiosk.font_path)
    log.info("certificate %s printed by %s", certificate.number, user.username)
    return Response(pdf_bytes([page]), media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{certificate.number}.pdf"',
        "Cache-Control": "private, no-store"})


@router.get("/c/{token}", response_class=HTMLResponse)
def verify(request: Request, db: SessionDep, _limit: TrackLimit, token: Token) -> HTMLResponse:
    try:
        certificate = certificate_by_token(db, token)
    except NotFound:
        return render(request, "certificate_check.html", {"certificate": None}, status=404)
    return render(request, "certificate_check.html", {"certificate": certificate})
