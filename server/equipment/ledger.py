"""The equipment registers as plain tables for the ledger (台账), and as an ``.xlsx`` workbook.

:func:`register_tables` gives ``(title, headers, rows)`` triples with Chinese headers: the
extinguisher register, its monthly inspections, and the tank cleanings with their water tests.
The monthly ledger (written by a later change) puts them beside its figures; the equipment
page offers them now through :func:`workbook`, one sheet per table (openpyxl)::

    tables = register_tables(db, now=now, rules=rules)
    data = workbook(tables)            # bytes of an .xlsx file

Values are plain (text, numbers, dates, None for an empty cell), so any writer can use them.
The headers are the community's own ledger words in Chinese, as the street office reads them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.equipment.checklist import ITEMS
from server.equipment.models import ExtinguisherInspection, TankWaterTest
from server.models import Ticket, User
from server.rules import (
    ExtinguisherRecord,
    ExtinguisherType,
    RulesConfig,
    RulesError,
    inspection_due_on,
    maintenance_due_on,
    scrap_on,
)
from server.sensing.models import ExtinguisherBay, Tank, TankCleaning

__all__ = ["Table", "register_tables", "workbook"]

Table = tuple[str, list[str], list[list[Any]]]
AGENT_ZH = {"water": "水基型", "dry_powder": "干粉", "co2": "二氧化碳", "clean_agent": "洁净气体"}
ITEM_ZH = {"present": "在位", "seal_pin": "铅封和保险销", "gauge_green": "压力表在绿区",
           "hose_nozzle": "软管和喷嘴", "label": "标签", "cabinet": "箱体"}


def _yes(value: bool | None, yes: str = "合格", no: str = "不合格") -> str | None:
    return None if value is None else (yes if value else no)


def _dates(bay: ExtinguisherBay, rules: RulesConfig) -> tuple[date | None, ...]:
    try:
        record = ExtinguisherRecord(bay.asset_id, type=ExtinguisherType(bay.extinguisher_type),
                                    manufactured_on=bay.manufactured_on,
                                    last_maintained_on=bay.last_maintained_on,
                                    last_inspected_on=bay.last_inspected_on)
        return (inspection_due_on(record, rules), maintenance_due_on(record, rules),
                scrap_on(record, rules))
    except (RulesError, ValueError, KeyError):
        return None, None, None  # an impossible row: its own dates are shown, no due dates


def _names(db: Session) -> dict[int, str]:
    return {u.id: u.display_name or u.username for u in db.scalars(select(User))}


def extinguisher_table(db: Session, *, rules: RulesConfig) -> Table:
    rows = []
    for bay in db.scalars(select(ExtinguisherBay).order_by(ExtinguisherBay.asset_id)):
        inspect_on, maintain_on, scrap_day = _dates(bay, rules)
        rows.append([bay.asset_id, bay.name, bay.building_code,
                     AGENT_ZH.get(bay.extinguisher_type, bay.extinguisher_type),
                     bay.manufactured_on, bay.last_maintained_on, bay.last_inspected_on,
                     inspect_on, maintain_on, scrap_day,
                     f"{bay.retired_on.isoformat()} 停用" if bay.retired_on else "在用"])
    return ("灭火器台账", ["编号", "位置", "楼栋", "类型", "生产日期", "上次维修", "上次月检",
                          "下次月检", "下次送修", "报废日期", "状态"], rows)


def inspection_table(db: Session) -> Table:
    names = _names(db)
    numbers = dict(db.execute(select(Ticket.id, Ticket.number).where(
        Ticket.id.in_(select(ExtinguisherInspection.ticket_id)))).tuples().all())
    bays = {b.asset_id: b.name for b in db.scalars(select(ExtinguisherBay))}
    rows = []
    for entry in db.scalars(select(ExtinguisherInspection).order_by(
            ExtinguisherInspection.inspected_on, ExtinguisherInspection.id)):
        rows.append([entry.asset_id, bays.get(entry.asset_id, ""), entry.inspected_on,
                     *(_yes(entry.items.get(item.value), "是", "否") for item in ITEMS),
                     _yes(entry.passed), numbers.get(entry.ticket_id or 0),
                     names.get(entry.inspected_by or 0, ""), entry.notes])
    return ("灭火器月检记录", ["编号", "位置", "检查日期", *(ITEM_ZH[i.value] for i in ITEMS),
                               "结论", "维修工单", "检查人", "备注"], rows)


def cleaning_table(db: Session) -> Table:
    names = _names(db)
    tanks = {t.asset_id: t.name for t in db.scalars(select(Tank))}
    tests = {t.cleaning_id: t for t in db.scalars(select(TankWaterTest))}
    rows = []
    for c in db.scalars(select(TankCleaning).order_by(TankCleaning.cleaned_on, TankCleaning.id)):
        t = tests.get(c.id)
        rows.append([
            tanks.get(c.asset_id, c.asset_id), c.cleaned_on,
            t.company if t else None, t.certificate_no if t else None,
            t.disinfectant if t else None, t.tested_on if t else None, t.lab if t else None,
            t.report_no if t else None, c.turbidity_ntu,
            t.free_chlorine_mg_l if t else None,
            _yes(t.coliforms_detected, "检出", "未检出") if t else None,
            t.colony_cfu_ml if t else None, t.colour if t else None,
            _yes(t.odour_none, "无", "有") if t else None,
            _yes(c.water_test_passed), names.get(c.recorded_by or 0, ""), c.notes])
    return ("蓄水池清洗消毒及水质检测", [
        "水池", "清洗日期", "清洗单位", "资质证书编号", "消毒剂", "检测日期", "检测机构",
        "报告编号", "浑浊度(NTU)", "游离氯(mg/L)", "总大肠菌群", "菌落总数(CFU/mL)", "色度",
        "臭和味", "结论", "记录人", "备注"], rows)


def register_tables(db: Session, *, rules: RulesConfig) -> list[Table]:
    """The extinguisher register, its inspections, and the tank cleanings with their tests."""
    return [extinguisher_table(db, rules=rules), inspection_table(db), cleaning_table(db)]


def workbook(tables: Sequence[Table]) -> bytes:
    """An ``.xlsx`` file with one sheet per table: a bold header row, frozen, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, headers, rows in tables:
        sheet = book.create_sheet(title=title[:31])  # Excel's limit on a sheet's name
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v
                          for v in row])
        for index, header in enumerate(headers, start=1):
            cells = [header, *(row[index - 1] for row in rows)]
            width = max(len(str(v)) if v is not None else 0 for v in cells)
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = min(40, 4 + 2 * width)
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, datetime | date):
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
