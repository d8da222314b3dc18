"""Printable label sheets for copies and library cards for readers, as A4 pages at 300 dpi.

A label carries a QR code of the copy id (what the kiosk's scanner reads), the copy id in print
for people, the title and the shelf. A card carries a QR code of the card id, the service point's
name and how the reader likes to be addressed. The page, font, QR code and wrapping are
server/printing.py's (a CJK font at ``settings.kiosk.font_path``). Nothing here reads the
database; the command gathers the items and marks them printed::

    pages = label_pages([LabelItem("LB-0001", "唐诗三百首", "E-3")], font_path=FONT)
    save_pages(pages, Path("labels.pdf"))          # or labels.png → labels-1.png, labels-2.png …
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from server.printing import A4, font, mm, qr_image, save_pages, wrap_chars

__all__ = ["CardItem", "LabelItem", "Sheet", "CARD_SHEET", "LABEL_SHEET", "card_pages",
           "label_pages", "save_pages"]

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


def _pages(count: int, sheet: Sheet) -> list[Image.Image]:
    return [Image.new("L", A4, 255) for _ in range((count + sheet.per_page - 1) // sheet.per_page)]


def label_pages(items: Sequence[LabelItem], *, font_path: Path | str,
                sheet: Sheet = LABEL_SHEET) -> list[Image.Image]:
    """Pages of copy labels, filled left to right, top to bottom."""
    pages = _pages(len(items), sheet)
    pad = mm(2)
    qr_size = sheet.cell_h - 2 * pad
    title_font = font(str(font_path), 38)
    id_font = font(str(font_path), 50)
    small = font(str(font_path), 32)
    for index, item in enumerate(items):
        page = pages[index // sheet.per_page]
        x, y = sheet.origin(index % sheet.per_page)
        draw = ImageDraw.Draw(page)
        draw.rectangle([x, y, x + sheet.cell_w - 1, y + sheet.cell_h - 1], outline=200)
        code = qr_image(item.copy_id, qr_size)
        page.paste(code, (x + pad, y + (sheet.cell_h - code.height) // 2))
        tx = x + pad + qr_size + pad
        text_w = x + sheet.cell_w - pad - tx
        ty = y + pad * 2
        draw.text((tx, ty), item.copy_id, font=id_font, fill=0)
        ty += 70
        for line in wrap_chars(item.title, title_font, text_w, 3):
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
    site_font = font(str(font_path), 46)
    name_font = font(str(font_path), 84)
    label_font = font(str(font_path), 40)
    id_font = font(str(font_path), 44)
    for index, item in enumerate(items):
        page = pages[index // sheet.per_page]
        x, y = sheet.origin(index % sheet.per_page)
        draw = ImageDraw.Draw(page)
        draw.rounded_rectangle([x + 4, y + 4, x + sheet.cell_w - 5, y + sheet.cell_h - 5],
                               radius=mm(3), outline=120, width=3)
        code = qr_image(item.card_id, qr_size)
        page.paste(code, (x + sheet.cell_w - pad - code.width, y + pad))
        text_w = sheet.cell_w - 3 * pad - qr_size
        tx, ty = x + pad, y + pad
        for line in wrap_chars(site_name, site_font, text_w, 2):
            draw.text((tx, ty), line, font=site_font, fill=0)
            ty += 58
        draw.text((tx, ty + 6), "借书证 Library card", font=label_font, fill=60)
        ty += 110
        for line in wrap_chars(item.address_as or "", name_font, text_w, 1):
            draw.text((tx, ty), line, font=name_font, fill=0)
        draw.text((x + pad, y + sheet.cell_h - pad - 50), item.card_id, font=id_font, fill=0)
    return pages
