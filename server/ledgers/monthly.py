"""The month's ledger (台账) as plain tables: what a community worker hands the street office and
the Party branch, with Chinese headers, one sheet each in the ``.xlsx`` file
(server/equipment/ledger.py's ``workbook`` writes it).

Sheets: the requests by category and squad, by compound, and their ratings; the volunteers'
hours; the maintenance tickets; the library's loans; the volunteer roster; and the equipment
registers (extinguishers with their inspections, tank cleanings with their water tests). Counts
come from the rows' own columns, never from personal fields, so a month's figures stay the same
after the retention job has erased contact details.

    tables = ledger_tables(db, year=2026, month=11, timezone="Asia/Shanghai", rules=rules,
                           now=now)
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from server.equipment.ledger import Table, register_tables
from server.library.models import Loan
from server.models import Building, Compound, Ticket, Unit, Volunteer
from server.records.service import monthly_hours
from server.rules import RulesConfig
from server.services.figures import monthly_figures

__all__ = ["YearSeries", "ledger_tables", "month_bounds", "year_series"]


def month_bounds(year: int, month: int, timezone: str) -> tuple[datetime, datetime]:
    """The month as [start, end) in the site's time zone."""
    tz = ZoneInfo(timezone)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def _requests(db: Session, start: datetime, end: datetime) -> list[Ticket]:
    return list(db.scalars(
        select(Ticket).where(Ticket.kind == "request", Ticket.created_at >= start,
                             Ticket.created_at < end,
                             Ticket.status.not_in(["cancelled", "duplicate"]))
        .options(selectinload(Ticket.category), selectinload(Ticket.squad),
                 selectinload(Ticket.unit).selectinload(Unit.building)
                 .selectinload(Building.compound),
                 selectinload(Ticket.building).selectinload(Building.compound),
                 selectinload(Ticket.compound))).all())


def _compound_of(ticket: Ticket) -> Compound | None:
    if ticket.unit is not None:
        return ticket.unit.building.compound
    if ticket.building is not None:
        return ticket.building.compound
    return ticket.compound


def _by_category(db: Session, year: int, month: int, timezone: str) -> Table:
    key = f"{year}-{month:02d}"
    rows = [[f.category, f.squad or "", f.requests, f.residents, f.completed,
             f.median_hours_to_accept, f.median_hours_to_resolve]
            for f in monthly_figures(db, year=year, timezone=timezone) if f.month == key]
    return ("服务统计", ["服务类别", "小分队", "请求数", "服务居民数", "已完成",
                     "接单用时中位数（小时）", "完成用时中位数（小时）"], rows)


def _by_compound(tickets: list[Ticket]) -> Table:
    groups: dict[str, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        compound = _compound_of(ticket)
        groups[compound.name_zh if compound else "（未指明小区）"].append(ticket)
    rows = [[name, len(found), sum(1 for t in found if t.status in ("resolved", "closed"))]
            for name, found in sorted(groups.items())]
    return ("按小区", ["小区", "请求数", "已完成"], rows)


def _ratings(tickets: list[Ticket]) -> Table:
    groups: dict[str, list[int]] = defaultdict(list)
    for ticket in tickets:
        if ticket.rating is not None:
            groups[ticket.category.name_zh].append(ticket.rating)
    rows = [[name, len(found), round(statistics.mean(found), 2),
             sum(1 for r in found if r <= 2)] for name, found in sorted(groups.items())]
    return ("居民评价", ["服务类别", "评价数", "平均分（5分制）", "差评数（1-2分）"], rows)


def _hours(db: Session, year: int, month: int, timezone: str, now: datetime) -> Table:
    key = f"{year}-{month:02d}"
    rows = [[h.squad, h.volunteer_code, h.volunteer_name, "是" if h.party_member else "",
             h.services, round(h.minutes / 60, 1)]
            for h in monthly_hours(db, year=year, timezone=timezone, now=now) if h.month == key]
    return ("志愿服务时长", ["小分队", "志愿者编号", "志愿者", "党员", "服务次数",
                       "服务时长（小时）"], rows)


def _maintenance(db: Session, start: datetime, end: datetime) -> Table:
    def counted(column: Any) -> dict[str, int]:
        rows = db.execute(select(Ticket.condition, func.count())
                          .where(Ticket.kind == "maintenance", column >= start, column < end)
                          .group_by(Ticket.condition)).tuples().all()
        return {condition or "": count for condition, count in rows}

    opened, closed = counted(Ticket.created_at), counted(Ticket.closed_at)
    rows = [[condition or "（其他）", opened.get(condition, 0), closed.get(condition, 0)]
            for condition in sorted(opened.keys() | closed.keys())]
    return ("维修工单", ["情况", "本月新开", "本月关闭"], rows)


def _loans(db: Session, start: datetime, end: datetime) -> Table:
    lent = db.scalar(select(func.count()).select_from(Loan)
                     .where(Loan.borrowed_at >= start, Loan.borrowed_at < end)) or 0
    back = db.scalar(select(func.count()).select_from(Loan)
                     .where(Loan.returned_at >= start, Loan.returned_at < end)) or 0
    readers = db.scalar(select(func.count(func.distinct(Loan.patron_id)))
                        .where(Loan.borrowed_at >= start, Loan.borrowed_at < end)) or 0
    overdue = db.scalar(select(func.count()).select_from(Loan)
                        .where(Loan.returned_at.is_(None),
                               Loan.due_on < end.date())) or 0
    return ("图书借阅", ["借出（册次）", "归还（册次）", "借阅读者（人）", "月末逾期未还（册）"],
            [[lent, back, readers, overdue]])


def _roster(db: Session) -> Table:
    rows = [[v.code, v.full_name or v.given_name, v.squad.name if v.squad else "",
             "是" if v.party_member else "", "在册" if v.active else "已停用",
             "、".join(v.skill_tags)]
            for v in db.scalars(select(Volunteer).options(selectinload(Volunteer.squad),
                                                          selectinload(Volunteer.skills))
                                .order_by(Volunteer.code))]
    return ("志愿者名册", ["编号", "姓名", "小分队", "党员", "状态", "专长"], rows)


def ledger_tables(db: Session, *, year: int, month: int, timezone: str, rules: RulesConfig,
                  now: datetime) -> list[Table]:
    start, end = month_bounds(year, month, timezone)
    tickets = _requests(db, start, end)
    return [_by_category(db, year, month, timezone), _by_compound(tickets), _ratings(tickets),
            _hours(db, year, month, timezone, now), _maintenance(db, start, end),
            _loans(db, start, end), _roster(db), *register_tables(db, rules=rules)]


@dataclass(frozen=True)
class YearSeries:
    """Twelve values each, January first: what the figures page draws as bars."""

    year: int
    requests: list[int]
    completed: list[int]
    hours: list[float]
    rating: list[float]  # the month's average rating, 0 when nobody rated
    maintenance: list[int]  # maintenance tickets opened (sensors, inspections, residents)
    loans: list[int]


def year_series(db: Session, *, year: int, timezone: str, now: datetime) -> YearSeries:
    tz = ZoneInfo(timezone)
    start, _ = month_bounds(year, 1, timezone)
    _, end = month_bounds(year, 12, timezone)
    requests, completed, maintenance, loans = ([0] * 12 for _ in range(4))
    ratings: list[list[int]] = [[] for _ in range(12)]
    for ticket in _requests(db, start, end):
        month = ticket.created_at.astimezone(tz).month - 1
        requests[month] += 1
        completed[month] += ticket.status in ("resolved", "closed")
        if ticket.rating is not None:
            ratings[month].append(ticket.rating)
    for opened in db.scalars(select(Ticket.created_at).where(
            Ticket.kind == "maintenance", Ticket.created_at >= start, Ticket.created_at < end)):
        maintenance[opened.astimezone(tz).month - 1] += 1
    for borrowed in db.scalars(select(Loan.borrowed_at).where(Loan.borrowed_at >= start,
                                                               Loan.borrowed_at < end)):
        loans[borrowed.astimezone(tz).month - 1] += 1
    minutes = [0] * 12
    for line in monthly_hours(db, year=year, timezone=timezone, now=now):
        minutes[int(line.month[5:]) - 1] += line.minutes
    return YearSeries(year=year, requests=requests, completed=completed,
                      hours=[round(m / 60, 1) for m in minutes],
                      rating=[round(statistics.mean(r), 1) if r else 0.0 for r in ratings],
                      maintenance=maintenance, loans=loans)
