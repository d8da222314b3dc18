"""Printable label sheets for copies and library cards for readers, as A4 pages at 300 dpi.

A label carries a QR code of the copy id (what the kiosk's scanner reads), the copy id in print
for people, the title and the shelf. A card carries a QR code of the card id, the service point's
name and how the reader likes to be addressed. Chinese needs a CJK font: the WenQuanYi font at
``settings.kiosk.font_path`` (the kiosk's own). Nothing here reads the database; the command
gathers the items and marks them printed::

    pages = label_pages([LabelItem("LB-0001", "唐诗三百首", "E-3")], font_path=FONT)
    save_pages(pages, Path("labels.pdf"))          # or labels.png → labels-1.png, labels-2.png …
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from foundation.errors import ConfigError

__all__ = ["CardItem", "LabelItem", "Sheet", "CARD_SHEET", "LABEL_SHEET", "card_pages",
           "label_pages", "save_pages"]

DPI = 300
A4 = (2480, 3508)  # 210 × 297 mm at 300 dpi


def mm(value: float) -> int:
    return round(value / 25.4 * DPI)


@dataclass(frozen=True)
class Sheet:
    """A grid of equal cells on an A4 page, with a margin most printers can reach."""

    columns: int
    rows: int
    cell_w: int
    cell_h: int

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origin(self, index: int) -> tuple[int, int]:
        column, row = index % self.columns, index // self.columns
        left = (A4[0] - self.columns * self.cell_w) // 2
        top = (A4[1] - self.rows * self.cell_h) // 2
        return left + column * self.cell_w, top + row * self.cell_h


# 3 × 8 labels of 66 × 35 mm (fits the common 24-up 70 × 37 mm sheets inside their cells).
LABEL_SHEET = Sheet(columns=3, rows=8, cell_w=mm(66), cell_h=mm(35))
# 2 × 5 cards of ID-1 size (85.6 × 54 mm), to cut out and laminate.
CARD_SHEET = Sheet(columns=2, rows=5, cell_w=mm(85.6), cell_h=mm(54))


@dataclass(frozen=True)
class LabelItem:
    copy_id: str
    title: str
    shelf: str = ""


@dataclass(frozen=True)
class CardItem:
    card_id: str
    address_as: str


@lru_cache(maxsize=16)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        raise ConfigError("kiosk.font_path", f"cannot load the font {path} (install "
                          "fonts-wqy-microhei, or point kiosk.font_path at a CJK font)") from None


def _qr(data: str, size: int) -> Image.Image:
    """A QR code scaled to about ``size`` pixels, with whole pixels per module (sharp edges
    scan best) and the quiet zone the standard asks for."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=1)
    code.add_data(data)
    code.make(fit=True)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(1, size // modules)
    image = code.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("L")


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Break by character (Chinese has no spaces to break at); end with … if it runs over."""
    text = " ".join(text.split())  # a stray line break would upset the text layout
    lines: list[str] = []
    current = ""
    for char in text:
        if font.getlength(current + char) <= width:
            current += char
            continue
        lines.append(current)
        current = char
        if len(lines) == max_lines:
            break
    else:
        if current:
            lines.append(current)
        return lines
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last + "…"
    return lines


def _pages(count: int, sheet: Sheet) -> list[Image.Image]:
    return [Image.new("L", A4, 255) for _ in range((count + sheet.per_page - 1) // sheet.per_page)]


def label_pages(items: Sequence[LabelItem], *, font_path: Path | str,
                sheet: Sheet = LABEL_SHEET) -> list[Image.Image]:
    """Pages of copy labels, filled left to right, top to bottom."""
    pages = _pages(len(items), sheet)
    pad = mm(2)
    qr_size = sheet.cell_h - 2 * pad
    title_font = _font(str(font_path), 38)
    id_font = _font(str(font_path), 50)
    small = _font(str(font_path), 32)
    for index, item in enumerate(items):
        page = pages[index // sheet.per_page]
        x, y = sheet.origin(index % sheet.per_page)
        draw = ImageDraw.Draw(page)
        draw.rectangle([x, y, x + sheet.cell_w - 1, y + sheet.cell_h - 1], outline=200)
        code = _qr(item.copy_id, qr_size)
        page.paste(code, (x + pad, y + (sheet.cell_h - code.height) // 2))
        tx = x + pad + qr_size + pad
        text_w = x + sheet.cell_w - pad - tx
        ty = y + pad * 2
        draw.text((tx, ty), item.copy_id, font=id_font, fill=0)
        ty += 70
        for line in _wrap(item.title, title_font, text_w, 3):
            draw.text((tx, ty), line, font=title_font, fill=0)
            ty += 48
        if item.shelf:
            draw.text((tx, y + sheet.cell_h - pad * 2 - 36), f"书架 {item.shelf}", font=small,
                      fill=0)
    return pages


def card_pages(items: Sequence[CardItem], *, font_path: Path | str, site_name: str,
               sheet: Sheet = CARD_SHEET) -> list[Image.Image]:
    """Pages of library cards: a big QR code to hold under the kiosk's scanner, and large
    print (an elderly reader should be able to read their own card without glasses)."""
    pages = _pages(len(items), sheet)
    pad = mm(4)
    qr_size = sheet.cell_h - 2 * pad - mm(8)
    site_font = _font(str(font_path), 46)
    name_font = _font(str(font_path), 84)
    label_font = _font(str(font_path), 40)
    id_font = _font(str(font_path), 44)
    for index, item in enumerate(items):
        page = pages[index // sheet.per_page]
        x, y = sheet.origin(index % sheet.per_page)
        draw = ImageDraw.Draw(page)
        draw.rounded_rectangle([x + 4, y + 4, x + sheet.cell_w - 5, y + sheet.cell_h - 5],
                               radius=mm(3), outline=120, width=3)
        code = _qr(item.card_id, qr_size)
        page.paste(code, (x + sheet.cell_w - pad - code.width, y + pad))
        text_w = sheet.cell_w - 3 * pad - qr_size
        tx, ty = x + pad, y + pad
        for line in _wrap(site_name, site_font, text_w, 2):
            draw.text((tx, ty), line, font=site_font, fill=0)
            ty += 58
        draw.text((tx, ty + 6), "借书证 Library card", font=label_font, fill=60)
        ty += 110
        for line in _wrap(item.address_as or "", name_font, text_w, 1):
            draw.text((tx, ty), line, font=name_font, fill=0)
        draw.text((x + pad, y + sheet.cell_h - pad - 50), item.card_id, font=id_font, fill=0)
    return pages


def save_pages(pages: Sequence[Image.Image], path: Path) -> list[Path]:
    """Write the pages: one PDF with every page, or PNG files numbered ``-1``, ``-2``, …"""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pages:
        return []
    if path.suffix.lower() == ".pdf":
        pages[0].save(path, save_all=True, append_images=list(pages[1:]), resolution=DPI)
        return [path]
    written = []
    for number, page in enumerate(pages, start=1):
        target = path.with_name(f"{path.stem}-{number}{path.suffix or '.png'}")
        page.save(target, dpi=(DPI, DPI))
        written.append(target)
    return written
