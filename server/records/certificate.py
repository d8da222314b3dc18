"""The volunteer service certificate (志愿服务证明) as an A4 page: who, for what period, how
many services and hours, the services themselves (as many as fit), who issued it, and a QR code
of its public verification page. Drawn with server/printing.py; nothing here reads the database
(server/web/records.py gathers a :class:`CertificateSheet` from the issued certificate)::

    page = certificate_page(sheet, font_path=FONT)
    pdf = pdf_bytes([page])
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw

from server.printing import A4, a4_page, font, mm, qr_image, wrap_chars

__all__ = ["CertificateLine", "CertificateSheet", "certificate_page"]

MAX_LINES = 14  # services listed on the page; the rest are counted in one line


@dataclass(frozen=True)
class CertificateLine:
    day: date
    service: str
    hours: float


@dataclass(frozen=True)
class CertificateSheet:
    number: str
    volunteer_name: str
    volunteer_code: str
    issuer_name: str
    period_start: date
    period_end: date
    jobs: int
    hours: float
    issued_on: date
    verify_url: str
    lines: tuple[CertificateLine, ...] = ()


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _centre(draw: ImageDraw.ImageDraw, y: int, text: str, face: object) -> None:
    width = draw.textlength(text, font=face)  # type: ignore[arg-type]
    draw.text(((A4[0] - width) / 2, y), text, font=face, fill=0)  # type: ignore[arg-type]


def certificate_page(sheet: CertificateSheet, *, font_path: Path | str) -> Image.Image:
    page = a4_page()
    draw = ImageDraw.Draw(page)
    left, right = mm(25), A4[0] - mm(25)
    draw.rectangle((mm(12), mm(12), A4[0] - mm(12), A4[1] - mm(12)), outline=0, width=8)
    _centre(draw, mm(30), "志愿服务证明", font(font_path, 150))
    _centre(draw, mm(50), "Certificate of Volunteer Service", font(font_path, 56))
    small = font(font_path, 44)
    draw.text((left, mm(64)), f"证明编号 No. {sheet.number}", font=small, fill=0)

    body = font(font_path, 64)
    text = (f"兹证明 {sheet.volunteer_name}（志愿者编号 {sheet.volunteer_code}）于 "
            f"{_day(sheet.period_start)} 至 {_day(sheet.period_end)} 期间，在"
            f"{sheet.issuer_name}参加志愿服务 {sheet.jobs} 次，累计服务时长 "
            f"{sheet.hours:.1f} 小时。")
    y = mm(80)
    for line in wrap_chars(text, body, right - left, 6):
        draw.text((left, y), line, font=body, fill=0)
        y += 96
    y += mm(6)

    head = font(font_path, 48)
    cell = font(font_path, 44)
    columns = (left, left + mm(45), right - mm(30))
    for x, title in zip(columns, ("日期", "服务内容", "时长（小时）"), strict=True):
        draw.text((x, y), title, font=head, fill=0)
    y += 70
    draw.line((left, y, right, y), fill=0, width=3)
    y += 20
    for entry in sheet.lines[:MAX_LINES]:
        draw.text((columns[0], y), entry.day.isoformat(), font=cell, fill=0)
        service = wrap_chars(entry.service, cell, columns[2] - columns[1] - mm(4), 1)
        draw.text((columns[1], y), service[0] if service else "", font=cell, fill=0)
        draw.text((columns[2], y), f"{entry.hours:.1f}", font=cell, fill=0)
        y += 66
    if len(sheet.lines) > MAX_LINES:
        draw.text((columns[1], y), f"另有 {len(sheet.lines) - MAX_LINES} 次服务，见服务记录",
                  font=cell, fill=0)

    bottom = A4[1] - mm(75)
    code = qr_image(sheet.verify_url, mm(42))
    page.paste(code, (left, bottom))
    draw.text((left, bottom + code.height + 10), "扫码核验 Scan to verify", font=small, fill=0)
    sign = font(font_path, 60)
    draw.text((right - mm(95), bottom + mm(8)), sheet.issuer_name[:14], font=sign, fill=0)
    draw.text((right - mm(95), bottom + mm(20)), "（盖章）", font=sign, fill=0)
    draw.text((right - mm(95), bottom + mm(32)), _day(sheet.issued_on), font=sign, fill=0)
    return page
