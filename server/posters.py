"""Building posters (扫码报修): one printable A4 page per building for its stairwell.

Each poster says 扫码报修 in big type, names the compound and the building, and carries a QR code
that opens the phone form with that building already chosen
(``<http.public_url>/new?building=<building code>``, the code ``find_place`` reads), with the
service point's phone number for those who would rather call (the one staff set in the
browser, server/services/site_profile.py, else ``[site] phone``). The page is drawn with Pillow on
the shared printing helpers (server/printing.py: A4 at 300 dpi, the CJK font at
``kiosk.font_path``, a sharp QR code) and saved as a PNG and a one-page PDF.

    servicepoint posters --site site-01 --out posters/

The buildings come from the site's data in the database (what ``servicepoint seed`` loaded);
:func:`render_poster` itself reads nothing but its arguments::

    page = render_poster(PosterBuilding("C01-B01", "劳动新村", "1栋"),
                         url="https://sp.example.cn/new?building=C01-B01",
                         phone="0731-8888 0000", site_name="劳动路社区服务站", font_path=FONT)
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from PIL import Image, ImageDraw

from server.printing import A4, DPI, a4_page, font, mm, qr_image, wrap_chars

__all__ = ["PosterBuilding", "form_url", "main", "render_poster", "write_posters"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PosterBuilding:
    code: str  # the building's code, as the form's ?building= and find_place read it
    compound: str  # 劳动新村
    name: str  # 1栋


def form_url(public_url: str, building_code: str) -> str:
    """The phone form with this building chosen."""
    return f"{public_url.rstrip('/')}/new?building={quote(building_code, safe='')}"


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, size: int, font_path: Path | str,
             fill: int = 0) -> int:
    """Draw one line centred across the page at ``y``; return the y below it."""
    face = font(font_path, size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    draw.text(((A4[0] - (right - left)) // 2 - left, y - top), text, font=face, fill=fill)
    return y + (bottom - top)


def render_poster(building: PosterBuilding, *, url: str, phone: str, site_name: str,
                  font_path: Path | str) -> Image.Image:
    """One A4 poster at 300 dpi, greyscale (black on white prints well on any printer)."""
    page = a4_page()
    draw = ImageDraw.Draw(page)
    width = A4[0]
    # A black band with the call to action, readable from the bottom of the stairs.
    draw.rectangle((0, 0, width, mm(55)), fill=0)
    _centred(draw, mm(9), "扫码报修", mm(30), font_path, fill=255)
    _centred(draw, mm(43), "Scan to ask for a repair", mm(7), font_path, fill=255)

    y = mm(63)
    face = font(font_path, mm(16))
    for line in wrap_chars(f"{building.compound} {building.name}", face, width - mm(30), 2):
        y = _centred(draw, y, line, mm(16), font_path) + mm(4)
    _centred(draw, max(y, mm(84)), "水电维修 · 管道疏通 · 家电维修 · 上门服务", mm(7), font_path)

    # The QR code in the middle of its own space, whatever whole-pixel size it came out at.
    code = qr_image(url, mm(108))
    space_top, space_bottom = mm(97), mm(207)
    page.paste(code, ((width - code.width) // 2,
                      space_top + (space_bottom - space_top - code.height) // 2))
    y = _centred(draw, mm(210), "用手机相机或微信扫一扫，填好就能报修", mm(7.5), font_path)
    _centred(draw, y + mm(4), "不用下载软件，不用注册 · No app, no account", mm(5.5), font_path)

    # The phone number, for those who would rather call (and when the phone cannot scan).
    box_top, box_bottom = mm(238), mm(279)
    draw.rectangle((mm(12), box_top, width - mm(12), box_bottom), outline=0, width=mm(1.2))
    call = f"不会扫码？请打电话 {phone}" if phone else "不会扫码？请到服务站一体机登记"
    y = _centred(draw, box_top + mm(8), call, mm(9), font_path)
    _centred(draw, y + mm(6), site_name, mm(6.5), font_path)
    _centred(draw, mm(286), url, mm(3.2), font_path, fill=80)
    return page


def write_posters(buildings: Sequence[PosterBuilding], *, out: Path, public_url: str,
                  phone: str, site_name: str, font_path: Path | str) -> list[Path]:
    """A PNG (300 dpi) and a one-page PDF per building in ``out``; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for building in buildings:
        page = render_poster(building, url=form_url(public_url, building.code), phone=phone,
                             site_name=site_name, font_path=font_path)
        stem = out / f"poster-{building.code}"
        page.save(stem.with_suffix(".png"), dpi=(DPI, DPI))
        page.save(stem.with_suffix(".pdf"), resolution=DPI)
        written += [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    log.info("%d building posters written to %s", len(buildings), out)
    return written


def _say(line: str) -> None:
    # What was written, for the person at the terminal: the command's output, not a log line.
    print(line, flush=True)  # noqa: T201


def main(argv: list[str]) -> int:
    """``servicepoint posters --site SITE --out DIR [--building CODE …]``."""
    parser = argparse.ArgumentParser(
        prog="servicepoint posters",
        description="Print one A4 poster per building (扫码报修): a QR code to the phone form "
                    "with the building chosen, and the service point's phone number.",
        epilog="Example: servicepoint posters --site site-01 --out posters/")
    parser.add_argument("--site", required=True, help="the site id (site.id in the settings)")
    parser.add_argument("--out", required=True, type=Path, help="folder for the PNG and PDF files")
    parser.add_argument("--building", action="append", default=[], metavar="CODE",
                        help="only this building (may be given more than once)")
    args = parser.parse_args(argv)

    from sqlalchemy import select

    from server.db import make_engine, session_factory
    from server.models import Building, Compound
    from server.services.site_profile import site_facts
    from server.settings import load_server_settings

    settings = load_server_settings()
    if args.site != settings.site.id:
        parser.error(f"this server's settings are for site {settings.site.id!r}, not "
                     f"{args.site!r} (SERVICEPOINT_CONFIG names another site's settings)")
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as db:
            query = (select(Building.code, Compound.name_zh, Building.name)
                     .join(Compound, Building.compound_id == Compound.id)
                     .order_by(Compound.code, Building.code))
            if args.building:
                query = query.where(Building.code.in_(args.building))
            buildings = [PosterBuilding(code, compound, name)
                         for code, compound, name in db.execute(query)]
            # The number staff set in the browser (管理 → 站点设置), else the settings file's.
            phone = site_facts(db, site_id=settings.site.id, file_phone=settings.site.phone).phone
    finally:
        engine.dispose()
    missing = sorted(set(args.building) - {b.code for b in buildings})
    if missing:
        _say(f"no such buildings: {', '.join(missing)}")
        return 1
    if not buildings:
        _say("no buildings in the database: load the site first (servicepoint seed FILE)")
        return 1
    written = write_posters(buildings, out=args.out, public_url=settings.http.public_url,
                            phone=phone, site_name=settings.site.name_zh,
                            font_path=settings.kiosk.font_path)
    _say(f"{len(buildings)} posters in {args.out} ({len(written)} files: PNG and PDF each)")
    if settings.http.public_url.startswith(("http://127.", "http://localhost")):
        _say(f"note: the QR codes point at {settings.http.public_url}, which a resident's "
              "phone cannot reach; set http.public_url to the address phones use")
    return 0
