"""The equipment records on a real database: a cleaning ticket closes only with a passed water
test (judged from the limits), a failed inspection opens one repair ticket per extinguisher
however often it fails, a retired extinguisher leaves the schedules, and the register tables
hold what was recorded."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from server.attachments import MemoryAttachmentStore
from server.equipment import ledger, service
from server.equipment.water import WaterSample
from server.lifecycle import Status
from server.models import Ticket, User
from server.sensing.models import ExtinguisherBay
from tests.server.sensing.conftest import Rig, rig  # noqa: F401  (the fixture)

GOOD = WaterSample(turbidity_ntu=0.4, free_chlorine_mg_l=0.3, coliforms_detected=False,
                   colony_cfu_ml=12, colour=5, odour_none=True)
DETAILS = service.CleaningDetails(cleaned_on=date(2026, 12, 20), company="星城二次供水清洗公司",
                                  certificate_no="湘卫水字2024-017", disinfectant="次氯酸钠",
                                  tested_on=date(2026, 12, 22), lab="长沙市疾控中心")


def _tickets(rig: Rig, **where: object) -> list[Ticket]:  # noqa: F811
    with rig.sessions() as db:
        query = select(Ticket).where(*(getattr(Ticket, k) == v for k, v in where.items()))
        return list(db.scalars(query.order_by(Ticket.id)))


def _staff(db) -> User:  # type: ignore[no-untyped-def]
    user = db.scalar(select(User).where(User.username == "staff"))
    assert user is not None
    return user


def test_a_cleaning_ticket_closes_only_with_a_test_that_passes_every_limit(
        rig: Rig) -> None:  # noqa: F811
    rig.clock.advance(days=29)  # tank-1 falls due 2027-01-06; its ticket opens 14 days before
    with rig.sessions() as db:
        assert rig.processor.run_schedules(db) >= 1
    [ticket] = _tickets(rig, asset_id="tank-1", condition="cleaning_due")
    store = MemoryAttachmentStore()
    with rig.sessions() as db:
        failed = service.record_cleaning(
            db, asset_id="tank-1", details=DETAILS,
            sample=WaterSample(**{**GOOD.__dict__, "colony_cfu_ml": 180}),
            report=(b"%PDF-1.4 report", "application/pdf"), store=store, user=_staff(db),
            now=rig.clock(), timezone="Asia/Shanghai")
        assert not failed.passed and failed.report_key in store.files
    [still] = _tickets(rig, id=ticket.id)
    assert still.status not in (Status.RESOLVED, Status.CLOSED)  # the failed test keeps it open
    rig.clock.advance(days=2)
    with rig.sessions() as db:
        passed = service.record_cleaning(
            db, asset_id="tank-1",
            details=service.CleaningDetails(**{**DETAILS.__dict__,
                                               "tested_on": date(2026, 12, 24)}),
            sample=GOOD, report=None, store=store, user=_staff(db), now=rig.clock(),
            timezone="Asia/Shanghai")
        assert passed.passed
    [closed] = _tickets(rig, id=ticket.id)
    assert closed.status == Status.CLOSED


def test_a_failing_extinguisher_has_one_repair_ticket_however_often_it_fails(
        rig: Rig) -> None:  # noqa: F811
    answers = {"present": True, "seal_pin": True, "gauge_green": False, "hose_nozzle": True,
               "label": True, "cabinet": True}
    for _ in range(2):
        with rig.sessions() as db:
            service.record_inspection(db, asset_id="ext-1", answers=answers,
                                      inspected_on=rig.clock().date(), notes="",
                                      failed_words="压力表", user=_staff(db), now=rig.clock())
        rig.clock.advance(days=1)
    repairs = _tickets(rig, asset_id="ext-1", kind="maintenance")
    assert len(repairs) == 1 and repairs[0].number.startswith("M")
    with rig.sessions() as db:
        bay = db.get(ExtinguisherBay, "ext-1")
        assert bay is not None and bay.last_inspected_on == rig.clock().date() - timedelta(days=1)
        # The register has no condition for it (the page shows the failed check instead) and
        # still lists it.
        tables = {title: rows for title, _, rows in ledger.register_tables(
            db, rules=rig.processor.rules)}
    checks = [r for r in tables["灭火器月检记录"] if r[0] == "ext-1"]
    assert len(checks) == 2 and checks[0][5] == "否" and checks[0][9] == "不合格"
    assert checks[0][10] == repairs[0].number


def test_a_retired_extinguisher_leaves_the_schedules_and_its_due_tickets_close(
        rig: Rig) -> None:  # noqa: F811
    rig.clock.advance(days=8)  # the monthly inspections of 2026-11-02 come due on 2026-12-02
    with rig.sessions() as db:
        rig.processor.run_schedules(db)
    assert _tickets(rig, asset_id="ext-2", condition="inspection_due")
    with rig.sessions() as db:
        service.retire_extinguisher(db, asset_id="ext-2", on=rig.clock().date(), version=1,
                                    user=_staff(db), now=rig.clock())
    assert all(t.status == Status.CLOSED for t in _tickets(rig, asset_id="ext-2"))
    rig.clock.advance(days=40)
    with rig.sessions() as db:
        rig.processor.run_schedules(db)
    assert all(t.status == Status.CLOSED for t in _tickets(rig, asset_id="ext-2"))
