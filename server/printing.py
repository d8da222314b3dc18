"""What every printed page of the server is drawn with: an A4 page at 300 dpi, a CJK font, a
sharp QR code, Chinese text broken by character, and pages saved as one PDF or numbered PNGs.

Pages are Pillow images (the library's labels and cards, the building posters, the volunteer
service certificates, the extinguishers' asset labels). Chinese needs a CJK font: the WenQuanYi
font at ``settings.kiosk.font_path`` (the kiosk's own, from fonts-wqy-microhei), so a missing
font is a configuration error naming that key::

    page = a4_page()
    draw = ImageDraw.Draw(page)
    draw.text((mm(20), mm(20)), "志愿服务证明", font=font(FONT, 96), fill=0)
    page.paste(qr_image("https://sp.example.cn/c/abc", mm(40)), (mm(150), mm(230)))
    save_pages([page], Path("certificate.pdf"))
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from foundation.errors import ConfigError

__all__ = ["A4", "DPI", "a4_page", "font", "mm", "pdf_bytes", "qr_image", "save_pages",
           "wrap_chars"]

DPI = 300
A4 = (2480, 3508)  # 210 × 297 mm at 300 dpi


def mm(value: float) -> int:
    """Pixels at :data:`DPI` for a length in millimetres."""
    return round(value / 25.4 * DPI)


def a4_page() -> Image.Image:
    """A blank white A4 page in greyscale (what a laser printer and a PDF viewer both like)."""
    return Image.new("L", A4, 255)


@lru_cache(maxsize=32)
def font(path: Path | str, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        raise ConfigError("kiosk.font_path", f"cannot load the font {path} (install "
                          "fonts-wqy-microhei, or point kiosk.font_path at a CJK font)") from None


def qr_image(data: str, size: int) -> Image.Image:
    """A QR code of about ``size`` pixels, with whole pixels per module (sharp edges scan
    best) and the quiet zone the standard asks for."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=1)
    code.add_data(data)
    code.make(fit=True)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(1, size // modules)
    image = code.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("L")


def wrap_chars(text: str, face: ImageFont.FreeTypeFont, width: int,
               max_lines: int) -> list[str]:
    """Break by character (Chinese has no spaces to break at); end with … if it runs over."""
    text = " ".join(text.split())  # a stray line break would upset the text layout
    lines: list[str] = []
    current = ""
    for char in text:
        if face.getlength(current + char) <= width:
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
    while last and face.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last + "…"
    return lines


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


def pdf_bytes(pages: Sequence[Image.Image]) -> bytes:
    """The pages as one PDF, for a download."""
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=list(pages[1:]),
                  resolution=DPI)
    return buffer.getvalue()
