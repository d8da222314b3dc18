"""The equipment records on the database: add, edit and retire extinguishers, edit tanks,
record a monthly inspection and a cleaning with its full water test. Each change is written to
the audit log in the same transaction; every function takes keyword-only arguments and commits.

- A monthly inspection updates the register at once (``last_inspected_on``) and closes the
  extinguisher's open ``inspection_due`` ticket; any failed item opens one maintenance ticket
  for the extinguisher (``M…``, its building's squad), through :mod:`server.ticketing` as the
  sensing side does, or adds the new failure to the one already open.
- A cleaning is logged through :func:`server.sensing.maintenance.record_cleaning` with the
  verdict :func:`server.equipment.water.judge` computes, so a cleaning ticket closes only with a
  passed test, as before; the lab report goes to the attachment store (:mod:`server.attachments`).

Stale edits: a form carries the row's ``version``; a save with another one raises
:class:`StaleEdit` carrying the row as it is now, and changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from server.attachments import AttachmentStore, StoredTogether
from server.equipment.checklist import Item, Outcome
from server.equipment.models import ExtinguisherInspection, TankWaterTest
from server.equipment.water import WaterSample, judge
from server.errors import Conflict, Invalid, NotFound
from server.lifecycle import OPEN_STATUSES, Action, HistoryAction, Status
from server.models import Building, Ticket, User
from server.sensing.maintenance import record_cleaning as log_cleaning
from server.sensing.models import TANK_LEVELS, ExtinguisherBay, Tank, TankCleaning
from server.services import audit
from server.sites.scoping import everywhere
from server.ticketing import Actor, apply_action, record

__all__ = [
    "BAY_FIELDS",
    "CleaningDetails",
    "ExtinguisherFields",
    "StaleEdit",
    "TANK_FIELDS",
    "add_extinguisher",
    "buildings",
    "last_inspections",
    "register_rows",
    "tanks",
    "ticket_numbers",
    "water_test",
    "edit_extinguisher",
    "edit_tank",
    "extinguisher",
    "inspections_of",
    "record_cleaning",
    "record_inspection",
    "retire_extinguisher",
    "tank",
    "water_tests_of",
]

log = logging.getLogger(__name__)
BAY_FIELDS = ("name", "building_code", "extinguisher_type", "manufactured_on",
              "last_maintained_on", "last_inspected_on", "retired_on")
TANK_FIELDS = ("name", "building_code", "capacity_l", "cleaning_interval_days", *TANK_LEVELS)
# One open "failed inspection" ticket per extinguisher (the tickets' unique open_key).
FAILED_KEY = "{asset_id}|inspection_failed"


class StaleEdit(Conflict):
    """Someone saved the record since this form was opened; ``current`` is it now."""

    code = "stale"

    def __init__(self, message: str, *, current: dict[str, Any]) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class ExtinguisherFields:
    name: str
    building_code: str | None
    extinguisher_type: str
    manufactured_on: date
    last_maintained_on: date | None = None


@dataclass(frozen=True)
class CleaningDetails:
    cleaned_on: date
    company: str
    certificate_no: str
    disinfectant: str
    tested_on: date
    lab: str
    report_no: str = ""
    notes: str = ""


def extinguisher(db: Session, asset_id: str) -> ExtinguisherBay:
    bay = db.get(ExtinguisherBay, asset_id)
    if bay is None:
        raise NotFound(f"no extinguisher {asset_id}")
    return bay


def tank(db: Session, asset_id: str) -> Tank:
    found = db.get(Tank, asset_id)
    if found is None:
        raise NotFound(f"no tank {asset_id}")
    return found


def _check_version(row: ExtinguisherBay | Tank, version: int, fields: tuple[str, ...]) -> None:
    if row.version != version:
        raise StaleEdit(f"{row.asset_id} was saved by someone else meanwhile",
                        current=audit.snapshot(row, *fields))


def _bump(db: Session, row: ExtinguisherBay | Tank) -> None:
    """The version goes up by one in the database only if it is still the one this save read
    (as the admin kit's ``bump``, keyed by the asset id these tables use): of two saves racing
    past :func:`_check_version`, the second is refused."""
    model = type(row)
    old = row.version
    moved = db.execute(update(model).where(model.asset_id == row.asset_id,
                                           model.version == old)
                       .values(version=old + 1)).rowcount  # type: ignore[attr-defined]
    if moved != 1:
        db.rollback()
        raise Conflict(f"{row.asset_id} was saved by someone else at the same moment")
    set_committed_value(row, "version", old + 1)


def add_extinguisher(db: Session, *, asset_id: str, fields: ExtinguisherFields, site_id: str,
                     user: User, now: datetime) -> ExtinguisherBay:
    # Asset ids are the district's: another site's is in use too (server/sites/).
    if db.scalar(everywhere(select(ExtinguisherBay.asset_id).where(
            ExtinguisherBay.asset_id == asset_id))) is not None:
        raise Conflict(f"extinguisher {asset_id} is already in the register")
    bay = ExtinguisherBay(asset_id=asset_id, site_id=site_id, version=1,
                          **{k: getattr(fields, k) for k in ExtinguisherFields.__annotations__})
    db.add(bay)
    db.flush()
    audit.record(db, actor=user, action="extinguisher.add", subject=("extinguisher", asset_id),
                 after=audit.snapshot(bay, *BAY_FIELDS), now=now)
    db.commit()
    log.info("extinguisher %s added by %s", asset_id, user.username)
    return bay


def edit_extinguisher(db: Session, *, asset_id: str, fields: ExtinguisherFields, version: int,
                      user: User, now: datetime) -> ExtinguisherBay:
    bay = extinguisher(db, asset_id)
    _check_version(bay, version, BAY_FIELDS)
    for name in ("last_inspected_on",):
        value = getattr(bay, name)
        if value is not None and value < fields.manufactured_on:
            raise Invalid(f"manufactured_on: after the last inspection {value}")
    before = audit.snapshot(bay, *BAY_FIELDS)
    for key in ExtinguisherFields.__annotations__:
        setattr(bay, key, getattr(fields, key))
    _bump(db, bay)
    audit.record(db, actor=user, action="extinguisher.edit", subject=("extinguisher", asset_id),
                 before=before, after=audit.snapshot(bay, *BAY_FIELDS), now=now)
    db.commit()
    return bay


def retire_extinguisher(db: Session, *, asset_id: str, on: date, version: int, user: User,
                        now: datetime) -> ExtinguisherBay:
    """Take a unit out of service: off the register and the schedules, kept in the records.
    Its open due tickets (inspection, maintenance, scrap) are closed: nothing is due on it."""
    bay = extinguisher(db, asset_id)
    _check_version(bay, version, BAY_FIELDS)
    if bay.retired_on is not None:
        raise Conflict(f"extinguisher {asset_id} is already retired")
    before = audit.snapshot(bay, *BAY_FIELDS)
    bay.retired_on = on
    _bump(db, bay)
    actor = Actor.of(user)
    for ticket in db.scalars(select(Ticket).where(
            Ticket.asset_id == asset_id, Ticket.due_key.is_not(None),
            Ticket.status.in_([s.value for s in OPEN_STATUSES]))):
        if ticket.status != Status.RESOLVED:
            apply_action(db, ticket=ticket, action=Action.RESOLVE, actor=actor, now=now,
                         staff=True, note=f"{on} 灭火器已停用 / extinguisher retired")
        apply_action(db, ticket=ticket, action=Action.CLOSE, actor=actor, now=now, staff=True)
    audit.record(db, actor=user, action="extinguisher.retire", subject=("extinguisher", asset_id),
                 before=before, after=audit.snapshot(bay, *BAY_FIELDS), now=now)
    db.commit()
    log.info("extinguisher %s retired on %s by %s", asset_id, on, user.username)
    return bay


def edit_tank(db: Session, *, asset_id: str, name: str, building_code: str | None,
              capacity_l: float | None, cleaning_interval_days: int | None, version: int,
              user: User, now: datetime, levels: Mapping[str, float | None] | None = None
              ) -> Tank:
    """Save the tank's register row; ``levels`` are its level alarm lines (None: the file's),
    checked by the caller against the rules (RulesConfig.with_tank_levels)."""
    row = tank(db, asset_id)
    _check_version(row, version, TANK_FIELDS)
    before = audit.snapshot(row, *TANK_FIELDS)
    row.name, row.building_code = name, building_code
    row.capacity_l, row.cleaning_interval_days = capacity_l, cleaning_interval_days
    for name_, value in (levels or {}).items():
        if name_ in TANK_LEVELS:
            setattr(row, name_, value)
    _bump(db, row)
    audit.record(db, actor=user, action="tank.edit", subject=("tank", asset_id), before=before,
                 after=audit.snapshot(row, *TANK_FIELDS), now=now)
    db.commit()
    return row


# --- the monthly inspection -------------------------------------------------------------------

def _squad_of(db: Session, building_code: str | None) -> tuple[int | None, int | None]:
    building = db.scalar(select(Building).where(Building.code == building_code)) \
        if building_code else None
    if building is None:
        return None, None
    return building.id, building.grid.squad_id if building.grid else None


def _failure_ticket(db: Session, *, bay: ExtinguisherBay, failed: tuple[Item, ...],
                    failed_words: str, actor: Actor, now: datetime) -> Ticket:
    """The extinguisher's open failed-inspection ticket, opened now if there is none."""
    key = FAILED_KEY.format(asset_id=bay.asset_id)
    note = f"月检不合格 / inspection failed: {failed_words}"
    ticket = db.scalar(select(Ticket).where(Ticket.open_key == key))
    if ticket is None:
        building_id, squad_id = _squad_of(db, bay.building_code)
        ticket = Ticket(number=f"tmp-{uuid.uuid4().hex}", kind="maintenance",
                        category_code="fire_safety",
                        title=f"灭火器月检不合格 · {bay.name}"[:200], status=Status.NEW.value,
                        priority="high", site_id=bay.site_id, squad_id=squad_id,
                        building_id=building_id, asset_id=bay.asset_id, condition=None,
                        open_key=key, created_at=now, updated_at=now)
        try:
            with db.begin_nested():
                db.add(ticket)
                db.flush()
                ticket.number = f"M{ticket.id:06d}"
                record(db, ticket=ticket, action=HistoryAction.RAISED, actor=actor, now=now,
                       note=note)
                db.flush()
            log.info("ticket %s opened: inspection of %s failed (%s)", ticket.number,
                     bay.asset_id, ",".join(failed))
            return ticket
        except IntegrityError:  # opened by someone else this instant: add to theirs
            ticket = db.scalar(select(Ticket).where(Ticket.open_key == key))
            assert ticket is not None
    record(db, ticket=ticket, action=HistoryAction.EVIDENCE, actor=actor, now=now, note=note,
           from_status=ticket.status)
    return ticket


def record_inspection(db: Session, *, asset_id: str, answers: Mapping[str, bool | None],
                      inspected_on: date, notes: str, failed_words: str, user: User,
                      now: datetime) -> ExtinguisherInspection:
    """Record the checklist. The inspection is done either way, so the register's date moves
    and its due ticket closes; a failed item opens (or adds to) a maintenance ticket.
    ``failed_words`` names the failed items in words for the ticket's history."""
    bay = extinguisher(db, asset_id)
    if bay.retired_on is not None:
        raise Conflict(f"extinguisher {asset_id} is retired")
    if inspected_on < bay.manufactured_on:
        raise Invalid("inspected_on: before the extinguisher was made")
    outcome = Outcome.of(answers)
    actor = Actor.of(user)
    before = audit.snapshot(bay, "last_inspected_on")
    bay.last_inspected_on = max(filter(None, [bay.last_inspected_on, inspected_on]))
    for ticket in db.scalars(select(Ticket).where(
            Ticket.asset_id == asset_id, Ticket.condition == "inspection_due",
            Ticket.status.in_([s.value for s in OPEN_STATUSES]))):
        if ticket.status != Status.RESOLVED:
            apply_action(db, ticket=ticket, action=Action.RESOLVE, actor=actor, now=now,
                         staff=True, note=f"{inspected_on} 已月检 / inspected")
        apply_action(db, ticket=ticket, action=Action.CLOSE, actor=actor, now=now, staff=True)
    ticket = None if outcome.passed else _failure_ticket(
        db, bay=bay, failed=outcome.failed, failed_words=failed_words, actor=actor, now=now)
    entry = ExtinguisherInspection(asset_id=asset_id, inspected_on=inspected_on,
                                   items=outcome.as_dict(), passed=outcome.passed, notes=notes,
                                   ticket_id=ticket.id if ticket else None,
                                   inspected_by=user.id, recorded_at=now)
    db.add(entry)
    db.flush()
    audit.record(db, actor=user, action="extinguisher.inspect",
                 subject=("extinguisher", asset_id), before=before,
                 after={**audit.snapshot(bay, "last_inspected_on"), "items": outcome.as_dict(),
                        "passed": outcome.passed, "ticket": ticket.number if ticket else None},
                 now=now)
    db.commit()
    log.info("inspection of %s on %s by %s: %s", asset_id, inspected_on, user.username,
             "passed" if outcome.passed else "failed " + ",".join(outcome.failed))
    return entry


def inspections_of(db: Session, *, asset_id: str, limit: int = 24
                   ) -> list[ExtinguisherInspection]:
    return list(db.scalars(select(ExtinguisherInspection)
                           .where(ExtinguisherInspection.asset_id == asset_id)
                           .order_by(ExtinguisherInspection.inspected_on.desc(),
                                     ExtinguisherInspection.id.desc()).limit(limit)))


# --- cleanings and water tests ------------------------------------------------------------------

def record_cleaning(db: Session, *, asset_id: str, details: CleaningDetails,
                    sample: WaterSample, report: tuple[bytes, str] | None,
                    store: AttachmentStore, user: User, now: datetime,
                    timezone: str) -> TankWaterTest:
    """Log the cleaning with its verdict (computed from the limits) and keep the lab report.
    The cleaning log closes the tank's cleaning ticket only when the verdict is a pass."""
    tank(db, asset_id)
    if details.tested_on < details.cleaned_on:
        raise Invalid("tested_on: the sample must be taken after the cleaning")
    verdict = judge(sample)
    with StoredTogether(store) as batch:
        key = batch.put(report[0], media_type=report[1]) if report else None
        entry = log_cleaning(db, asset_id=asset_id, user=user, cleaned_on=details.cleaned_on,
                             water_test_passed=verdict.passed,
                             turbidity_ntu=sample.turbidity_ntu,
                             notes=details.notes, now=now, timezone=timezone, commit=False)
        test = TankWaterTest(
            cleaning_id=entry.id, asset_id=asset_id, company=details.company,
            certificate_no=details.certificate_no, disinfectant=details.disinfectant,
            tested_on=details.tested_on, lab=details.lab, report_no=details.report_no,
            turbidity_ntu=sample.turbidity_ntu, free_chlorine_mg_l=sample.free_chlorine_mg_l,
            coliforms_detected=sample.coliforms_detected, colony_cfu_ml=sample.colony_cfu_ml,
            colour=sample.colour, odour_none=sample.odour_none, passed=verdict.passed,
            report_key=key, report_media_type=report[1] if report else None)
        db.add(test)
        db.flush()
        audit.record(db, actor=user, action="tank.clean", subject=("tank", asset_id),
                     after={**audit.snapshot(test, "company", "certificate_no", "disinfectant",
                                             "tested_on", "lab", "report_no", "passed"),
                            "cleaned_on": details.cleaned_on,
                            "failed": [i.value for i in verdict.failed]}, now=now)
        try:
            db.commit()
        except Exception:
            db.rollback()
            raise
    log.info("cleaning of %s on %s recorded by %s: test %s", asset_id, details.cleaned_on,
             user.username, "passed" if verdict.passed else "failed")
    return test


def water_tests_of(db: Session, *, asset_id: str) -> list[tuple[TankCleaning,
                                                                 TankWaterTest | None]]:
    """The tank's cleanings, newest first, each with its full test where one was recorded
    (cleanings logged through the older form or the API have only pass/fail and turbidity)."""
    cleanings = list(db.scalars(select(TankCleaning).where(TankCleaning.asset_id == asset_id)
                                .order_by(TankCleaning.cleaned_on.desc(),
                                          TankCleaning.id.desc())))
    tests = {t.cleaning_id: t for t in db.scalars(
        select(TankWaterTest).where(TankWaterTest.asset_id == asset_id))}
    return [(c, tests.get(c.id)) for c in cleanings]


def buildings(db: Session) -> list[tuple[str, str, str]]:
    """(code, compound's name in Chinese, in English) with the building's own name, of every
    building, for the place picker: a building's name ("2栋") repeats across compounds."""
    return [(b.code, f"{b.compound.name_zh} {b.name}",
             f"{b.compound.name_en or b.compound.name_zh} {b.name}")
            for b in db.scalars(select(Building).order_by(Building.code))]


def register_rows(db: Session, *, include_retired: bool = False) -> list[ExtinguisherBay]:
    query = select(ExtinguisherBay).order_by(ExtinguisherBay.asset_id)
    if not include_retired:
        query = query.where(ExtinguisherBay.retired_on.is_(None))
    return list(db.scalars(query))


def tanks(db: Session) -> list[Tank]:
    return list(db.scalars(select(Tank).order_by(Tank.asset_id)))


def last_inspections(db: Session) -> dict[str, ExtinguisherInspection]:
    """Each extinguisher's newest inspection."""
    found: dict[str, ExtinguisherInspection] = {}
    for entry in db.scalars(select(ExtinguisherInspection).order_by(
            ExtinguisherInspection.inspected_on, ExtinguisherInspection.id)):
        found[entry.asset_id] = entry
    return found


def ticket_numbers(db: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    """(number, status) of the given tickets."""
    return {i: (n, s) for i, n, s in db.execute(
        select(Ticket.id, Ticket.number, Ticket.status).where(Ticket.id.in_(ids)))}


def water_test(db: Session, test_id: int) -> TankWaterTest:
    found = db.get(TankWaterTest, test_id)
    if found is None:
        raise NotFound(f"no water test {test_id}")
    return found
