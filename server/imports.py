"""Reading a spreadsheet a community worker fills in (volunteers, places, books) into rows of
form fields, for the admin pages' bulk import (server/web/admin/imports.py checks and saves them).

A file is ``.xlsx`` (its first sheet) or CSV in UTF-8 (with or without a BOM) or GB18030 (what
Excel on Chinese Windows writes). The first row names the columns, in Chinese or English; each
kind lists the columns it knows (:data:`COLUMNS`). Line numbers are the spreadsheet's own: the
header is line 1, so a mistake can be found where the worker typed it::

    sheet = read_sheet("volunteers.xlsx", data, kind="volunteer")
    sheet.problems                 # whole-file problems: unknown or missing columns, no rows
    for row in sheet.rows: row.line, row.values   # {"code": "v10", "given_name": "小明", …}
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

__all__ = ["COLUMNS", "MAX_ROWS", "Column", "Row", "Sheet", "read_sheet"]

MAX_ROWS = 2000  # a compound's volunteers, its buildings or a small library, with room to spare


@dataclass(frozen=True)
class Column:
    field: str  # the admin form's field name
    names: tuple[str, ...]  # what the header may say (Chinese first, then English)
    required: bool = False


COLUMNS: dict[str, tuple[Column, ...]] = {
    "volunteer": (
        Column("code", ("编号", "code"), True),
        Column("given_name", ("称呼", "given name", "given_name"), True),
        Column("full_name", ("姓名", "full name", "full_name")),
        Column("phone", ("电话", "手机", "phone")),
        Column("squad", ("小分队", "squad"), True),
        Column("grid", ("网格", "grid")),
        Column("skills", ("专长", "skills")),
        Column("party_member", ("党员", "party member", "party_member")),
        Column("username", ("登录名", "username")),
    ),
    "compound": (
        Column("code", ("编号", "code"), True),
        Column("name_zh", ("名称", "小区", "name", "name_zh"), True),
        Column("name_en", ("英文名", "english name", "name_en")),
        Column("aliases", ("别名", "aliases")),
        Column("lat", ("纬度", "lat", "latitude")),
        Column("long", ("经度", "long", "longitude")),
        Column("radius_m", ("半径（米）", "半径", "radius_m")),
    ),
    "building": (
        Column("code", ("编号", "code"), True),
        Column("name", ("名称", "楼栋", "name"), True),
        Column("compound", ("小区编号", "小区", "compound"), True),
        Column("grid", ("网格", "grid")),
        Column("aliases", ("别名", "aliases")),
    ),
    "unit": (
        Column("code", ("编号", "code"), True),
        Column("name", ("名称", "单元", "name"), True),
        Column("building", ("楼栋编号", "楼栋", "building"), True),
    ),
    "book": (
        Column("isbn", ("ISBN", "书号", "isbn")),
        Column("title", ("书名", "title"), True),
        Column("author", ("作者", "author")),
        Column("publisher", ("出版社", "publisher")),
        Column("category", ("分类", "category")),
        Column("shelf", ("书架", "shelf")),
        Column("copies", ("册数", "copies"), True),
    ),
}


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


@dataclass
class Sheet:
    columns: dict[str, str] = field(default_factory=dict)  # field -> the header as written
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # codes: the page says them in words


def _cells(name: str, data: bytes) -> list[list[str]] | None:
    """The file's cells as text, or None when it is neither a workbook nor readable text."""
    if name.lower().endswith(".xlsx") or data[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # a damaged or disguised file: openpyxl raises many kinds
            return None
        sheet = book.worksheets[0]
        rows = [["" if v is None else _plain(v) for v in row]
                for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
        book.close()
        return rows
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [row for row in csv.reader(io.StringIO(text))]
    return None


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps 3 as 3.0
    return str(value).strip()


def read_sheet(name: str, data: bytes, *, kind: str) -> Sheet:
    sheet = Sheet()
    cells = _cells(name, data)
    if cells is None:
        sheet.problems.append("unreadable")
        return sheet
    if not any(c.strip() for row in cells for c in row):
        sheet.problems.append("empty")
        return sheet
    header = [c.strip() for c in cells[0]]
    known = {n.lower(): column for column in COLUMNS[kind] for n in column.names}
    where: dict[str, int] = {}
    for index, title in enumerate(header):
        column = known.get(title.lower())
        if column is None:
            if title:
                sheet.problems.append("unknown_column:" + title)
            continue
        where[column.field] = index
        sheet.columns[column.field] = title
    for column in COLUMNS[kind]:
        if column.required and column.field not in where:
            sheet.problems.append("missing_column:" + column.names[0])
    if len(cells) - 1 > MAX_ROWS:
        sheet.problems.append("too_many_rows")
    for line, row in enumerate(cells[1:MAX_ROWS + 1], start=2):
        values = {f: (row[i].strip() if i < len(row) else "") for f, i in where.items()}
        if any(values.values()):
            sheet.rows.append(Row(line, values))
    if not sheet.rows and not sheet.problems:
        sheet.problems.append("empty")
    return sheet
