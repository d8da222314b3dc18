"""Draw the kiosk's pictograms: simple line pictures, one PNG per key, made for this project.

    .venv/bin/python -m kiosk.tooling.pictograms          # -> kiosk/pictograms/<key>.png
    .venv/bin/python -m kiosk.tooling.pictograms --check  # exit 1 if a PNG is missing or stale

Each picture is a few Pillow primitives (lines, arcs, rectangles, ellipses) on a 100×100 grid,
drawn white on transparent at four times the size and scaled down, so the edges are smooth; the
kiosk tints it to the tile's text colour (kiosk.screens.widgets.Tile), so one file serves the dark
tiles of the home screen and the light answer tiles. No third-party icon files: every line is
here, so the set is ours to ship and to extend.

Adding one: write a function below that draws on ``Pen`` and list it in ``DRAWINGS`` under the
key the kiosk looks for (a category's code, an answer's key, or the ``icon`` named for it in
config/categories.toml; see kiosk/pictograms/__init__.py), run this module, and commit the PNG.
tests/kiosk/test_kiosk_pictograms.py fails while a drawing and its PNG disagree.

This is a build tool, run by a developer: it is not imported by the kiosk. It is longer than
400 lines because it is one short function per picture (about sixty), each read and changed on
its own; cutting the set in two at an arbitrary line would only scatter it.
"""

from __future__ import annotations

import argparse
import io
import logging
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["DRAWINGS", "SIZE", "Pen", "main", "render"]

log = logging.getLogger(__name__)

SIZE = 128  # pixels of the shipped PNG; the tiles show it at up to about 72 dp
_SUPER = 4  # drawn this many times larger, then scaled down: smooth edges without antialiasing
OUT = Path(__file__).resolve().parents[1] / "pictograms"
INK = (255, 255, 255, 255)

Point = tuple[float, float]


class Pen:
    """Drawing on the 100×100 grid with one stroke width (thick: read from a metre away)."""

    def __init__(self, draw: ImageDraw.ImageDraw, width: float = 7.0) -> None:
        self.d = draw
        self.k = SIZE * _SUPER / 100
        self.w = width

    def _p(self, *points: Point) -> list[tuple[float, float]]:
        return [(x * self.k, y * self.k) for x, y in points]

    def _box(self, x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [x0 * self.k, y0 * self.k, x1 * self.k, y1 * self.k]

    def _width(self, width: float | None) -> int:
        return round((width or self.w) * self.k)

    def line(self, *points: Point, width: float | None = None) -> None:
        self.d.line(self._p(*points), fill=INK, width=self._width(width), joint="curve")
        r = (width or self.w) / 2
        for x, y in (points[0], points[-1]):  # round caps
            self.dot(x, y, r)

    def rect(self, x0: float, y0: float, x1: float, y1: float, radius: float = 4,
             fill: bool = False) -> None:
        self.d.rounded_rectangle(self._box(x0, y0, x1, y1), radius=radius * self.k,
                                 outline=INK, width=self._width(None),
                                 fill=INK if fill else None)

    def circle(self, cx: float, cy: float, r: float, fill: bool = False,
               width: float | None = None) -> None:
        self.d.ellipse(self._box(cx - r, cy - r, cx + r, cy + r), outline=INK,
                       width=self._width(width), fill=INK if fill else None)

    def dot(self, cx: float, cy: float, r: float) -> None:
        self.d.ellipse(self._box(cx - r, cy - r, cx + r, cy + r), fill=INK)

    def arc(self, cx: float, cy: float, r: float, start: float, end: float,
            width: float | None = None) -> None:
        """Degrees clockwise from three o'clock, as Pillow counts them."""
        self.d.arc(self._box(cx - r, cy - r, cx + r, cy + r), start, end, fill=INK,
                   width=self._width(width))

    def poly(self, *points: Point, fill: bool = False) -> None:
        if fill:
            self.d.polygon(self._p(*points), fill=INK)
        else:
            self.line(*points, points[0])

    def drop(self, cx: float, top: float, r: float, fill: bool = False) -> None:
        """A water drop: a point at ``top`` and a round bottom of radius ``r``."""
        cy = top + r * 2.2
        tangent = math.asin(r / (cy - top))
        left = (cx - r * math.cos(tangent), cy - r * math.sin(tangent))
        right = (cx + r * math.cos(tangent), cy - r * math.sin(tangent))
        if fill:
            self.d.polygon(self._p((cx, top), left, right), fill=INK)
            self.dot(cx, cy, r)
            return
        self.line(left, (cx, top), right)
        angle = math.degrees(tangent)
        self.arc(cx, cy, r, -angle, 180 + angle)


# --- the drawings (the 100×100 grid: x to the right, y down) ----------------------------------


def _bolt(p: Pen, x: float = 0, y: float = 0, s: float = 1.0) -> None:
    p.poly(*((x + a * s, y + b * s) for a, b in ((14, 0), (0, 26), (12, 26), (4, 48), (26, 16),
                                                   (13, 16), (22, 0))), fill=True)


def water_electric(p: Pen) -> None:
    p.drop(32, 14, 18)
    _bolt(p, 56, 30, 1.1)


def pipe_unclog(p: Pen) -> None:
    # A plunger over a drain.
    p.line((50, 10), (50, 52), width=9)
    p.d.chord(p._box(24, 44, 76, 84), 180, 360, fill=INK)
    p.line((16, 86), (84, 86))


def appliance(p: Pen) -> None:
    # A television: the appliance most homes have.
    p.rect(12, 24, 88, 76, radius=6)
    p.line((38, 12), (50, 24), (62, 12))
    p.line((34, 88), (66, 88))


def haircut(p: Pen) -> None:
    p.circle(28, 72, 12)
    p.circle(72, 72, 12)
    p.line((36, 62), (74, 12))
    p.line((64, 62), (26, 12))


def _question_mark(p: Pen, cx: float, cy: float, s: float = 1.0) -> None:
    p.arc(cx, cy - 12 * s, 12 * s, 180, 360 + 60)
    p.line((cx + 6 * s, cy - 1.6 * s), (cx, cy + 6 * s), (cx, cy + 10 * s))
    p.dot(cx, cy + 22 * s, 4.5 * s)


def policy(p: Pen) -> None:
    # A speech bubble with a question in it: "ask about it".
    p.rect(10, 14, 90, 70, radius=10)
    p.line((28, 70), (22, 90), (46, 70))
    _question_mark(p, 50, 40, 0.9)


def certificates(p: Pen) -> None:
    # An identity card: a face and two lines.
    p.rect(8, 22, 92, 80, radius=6)
    p.circle(32, 44, 8)
    p.arc(32, 72, 14, 200, 340)
    p.line((54, 42), (80, 42))
    p.line((54, 60), (74, 60))


def jobs(p: Pen) -> None:
    p.rect(10, 32, 90, 84, radius=6)
    p.rect(36, 16, 64, 32, radius=4)
    p.line((10, 54), (90, 54))


def books(p: Pen) -> None:
    # An open book.
    p.line((50, 26), (50, 84))
    p.line((50, 26), (36, 20), (10, 20), (10, 76), (36, 76), (50, 84))
    p.line((50, 26), (64, 20), (90, 20), (90, 76), (64, 76), (50, 84))


def _tank(p: Pen) -> None:
    p.d.ellipse(p._box(18, 12, 82, 28), outline=INK, width=p._width(None))
    p.line((18, 20), (18, 80))
    p.line((82, 20), (82, 80))
    p.d.arc(p._box(18, 72, 82, 88), 0, 180, fill=INK, width=p._width(None))


def tank_cleaning(p: Pen) -> None:
    _tank(p)
    p.drop(50, 36, 11, fill=True)


def water_supply(p: Pen) -> None:
    # A tap.
    p.line((16, 30), (60, 30), width=9)
    p.line((38, 18), (38, 30))
    p.line((26, 16), (50, 16))
    p.line((60, 30), (74, 30), (74, 46), width=9)
    p.drop(74, 58, 8, fill=True)


def fire_safety(p: Pen) -> None:
    # An extinguisher.
    p.rect(32, 30, 68, 90, radius=10)
    p.line((44, 30), (44, 18), (64, 18))
    p.line((64, 18), (82, 30))
    p.line((36, 18), (52, 18))


def sensor_node(p: Pen) -> None:
    p.dot(50, 70, 7)
    p.line((50, 70), (50, 90))
    for r in (18, 32):
        p.arc(50, 70, r, 215, 325)


def leak(p: Pen) -> None:
    p.drop(50, 8, 18)
    p.drop(24, 62, 8, fill=True)
    p.drop(76, 62, 8, fill=True)


def no_power(p: Pen) -> None:
    _bolt(p, 26, 10, 1.7)
    p.line((14, 86), (86, 14), width=8)


def light(p: Pen) -> None:
    p.arc(50, 40, 26, 140, 400)
    p.line((30, 57), (38, 68), (62, 68), (70, 57))
    p.line((40, 80), (60, 80))
    p.line((44, 90), (56, 90))


def socket(p: Pen) -> None:
    p.rect(14, 14, 86, 86, radius=12)
    p.line((38, 38), (38, 54))
    p.line((62, 38), (62, 54))
    p.dot(50, 68, 5)


def other(p: Pen) -> None:
    p.circle(50, 50, 38)
    for x in (32, 50, 68):
        p.dot(x, 50, 6)


def kitchen(p: Pen) -> None:
    # A sink under a tap.
    p.line((10, 54), (90, 54))
    p.line((20, 54), (26, 82), (74, 82), (80, 54))
    p.line((50, 54), (50, 22), (68, 22), (68, 32))


def toilet(p: Pen) -> None:
    p.rect(20, 10, 52, 36, radius=4)
    p.line((14, 44), (86, 44))
    p.line((14, 44), (22, 62), (40, 66), (36, 90), (70, 90), (66, 66), (80, 60), (86, 44))


def floor_drain(p: Pen) -> None:
    p.rect(16, 16, 84, 84, radius=6)
    for x in (36, 50, 64):
        p.line((x, 30), (x, 70), width=5)


def tv(p: Pen) -> None:
    appliance(p)


def fridge(p: Pen) -> None:
    p.rect(26, 8, 74, 92, radius=6)
    p.line((26, 40), (74, 40))
    p.line((34, 20), (34, 30))
    p.line((34, 50), (34, 64))


def washer(p: Pen) -> None:
    p.rect(16, 10, 84, 90, radius=6)
    p.line((16, 28), (84, 28))
    p.dot(28, 19, 4)
    p.circle(50, 60, 20)


def aircon(p: Pen) -> None:
    p.rect(8, 20, 92, 52, radius=8)
    p.line((20, 42), (80, 42))
    for x in (30, 50, 70):
        p.line((x, 62), (x - 6, 86))


def heater(p: Pen) -> None:
    p.rect(28, 8, 72, 74, radius=14)
    p.line((40, 74), (40, 90))
    p.line((60, 74), (60, 90))
    p.drop(50, 28, 10, fill=True)


def _sun(p: Pen, cx: float, cy: float, r: float, rays: Sequence[float]) -> None:
    for angle in rays:
        a = math.radians(angle)
        p.line((cx + math.cos(a) * (r + 8), cy - math.sin(a) * (r + 8)),
               (cx + math.cos(a) * (r + 18), cy - math.sin(a) * (r + 18)), width=6)


def morning(p: Pen) -> None:
    # The sun coming up over the horizon.
    p.arc(50, 66, 20, 180, 360)
    _sun(p, 50, 66, 20, (20, 55, 90, 125, 160))
    p.line((8, 70), (92, 70))
    p.line((24, 84), (76, 84))


def afternoon(p: Pen) -> None:
    p.circle(50, 50, 18)
    _sun(p, 50, 50, 18, range(0, 360, 45))


def any(p: Pen) -> None:  # noqa: A001 - the answer's key in config/categories.toml
    p.circle(50, 50, 38)
    p.line((50, 50), (50, 26))
    p.line((50, 50), (68, 60))


def pension(p: Pen) -> None:
    # An older person with a walking stick.
    p.circle(42, 16, 9)
    p.line((42, 30), (38, 58), (46, 90))
    p.line((38, 58), (26, 90))
    p.line((40, 38), (62, 50))
    p.line((64, 50), (64, 90))


def medical(p: Pen) -> None:
    p.rect(12, 12, 88, 88, radius=12)
    p.line((50, 30), (50, 70), width=12)
    p.line((30, 50), (70, 50), width=12)


def allowance(p: Pen) -> None:
    # A coin with the yuan sign.
    p.circle(50, 50, 38)
    p.line((34, 26), (50, 48), (66, 26))
    p.line((50, 48), (50, 76))
    p.line((36, 52), (64, 52), width=5)
    p.line((36, 64), (64, 64), width=5)


def housing(p: Pen) -> None:
    p.line((10, 48), (50, 12), (90, 48))
    p.line((22, 40), (22, 88), (78, 88), (78, 40))
    p.rect(42, 60, 58, 88, radius=2)


def senior_card(p: Pen) -> None:
    p.rect(8, 22, 92, 80, radius=6)
    p.circle(30, 42, 8)
    p.line((30, 54), (30, 70))
    p.line((50, 40), (82, 40))
    p.line((50, 56), (82, 56))
    p.line((50, 70), (72, 70))


def _heart(p: Pen, cx: float, cy: float, s: float) -> None:
    p.dot(cx - 11 * s, cy - 6 * s, 12 * s)
    p.dot(cx + 11 * s, cy - 6 * s, 12 * s)
    p.poly((cx - 22.5 * s, cy - 3 * s), (cx + 22.5 * s, cy - 3 * s), (cx, cy + 24 * s),
           fill=True)


def birth_permit(p: Pen) -> None:
    p.rect(16, 8, 84, 92, radius=6)
    _heart(p, 50, 44, 1.0)
    p.line((30, 78), (70, 78))


def full_time(p: Pen) -> None:
    p.circle(50, 50, 38)
    p.dot(50, 50, 28)


def part_time(p: Pen) -> None:
    p.circle(50, 50, 38)
    p.d.pieslice(p._box(22, 22, 78, 78), -90, 90, fill=INK)


def flexible(p: Pen) -> None:
    # Two arrows going round.
    p.arc(50, 50, 30, 200, 340)
    p.arc(50, 50, 30, 20, 160)
    p.poly((76, 30), (90, 44), (70, 48), fill=True)
    p.poly((24, 70), (10, 56), (30, 52), fill=True)


def deliver(p: Pen) -> None:
    # A book going to a house.
    housing(p)
    p.poly((44, 64), (56, 64), (56, 80), (44, 80), fill=True)


def suggest(p: Pen) -> None:
    points = []
    for i in range(10):
        r = 40 if i % 2 == 0 else 17
        a = math.radians(90 + i * 36)
        points.append((50 + r * math.cos(a), 54 - r * math.sin(a)))
    p.poly(*points)


def _glass(p: Pen) -> None:
    p.line((22, 12), (30, 90), (70, 90), (78, 12))


def cloudy(p: Pen) -> None:
    _glass(p)
    for x, y in ((40, 40), (58, 52), (44, 66), (60, 76), (50, 30)):
        p.dot(x, y, 4.5)


def smell(p: Pen) -> None:
    # Wavy lines rising from water: it smells.
    _glass(p)
    p.line((26, 52), (74, 52), width=5)
    for x in (36, 50, 64):
        p.d.line(p._p(*((x + 5 * math.sin(t / 3), 44 - t) for t in range(0, 40, 2))),
                 fill=INK, width=p._width(5))


def yellow(p: Pen) -> None:
    # A glass filled with water one cannot see through (the picture has one colour: the words
    # beside it say yellow).
    _glass(p)
    p.poly((26.5, 40), (73.5, 40), (70, 90), (30, 90), fill=True)


def low_pressure(p: Pen) -> None:
    # A gauge with its needle low.
    p.arc(50, 60, 38, 180, 360)
    p.line((12, 60), (88, 60))
    p.line((50, 60), (24, 46))
    p.dot(50, 60, 6)
    p.line((36, 84), (64, 84))


def no_water(p: Pen) -> None:
    p.line((12, 30), (52, 30), width=9)
    p.line((32, 18), (32, 30))
    p.line((52, 30), (64, 30), (64, 46), width=9)
    p.line((14, 88), (86, 16), width=8)


def stair_light(p: Pen) -> None:
    p.line((8, 92), (8, 76), (30, 76), (30, 60), (52, 60), (52, 44), (74, 44), (74, 28),
           (92, 28))
    p.circle(28, 22, 11)
    p.line((28, 33), (28, 38))


def entry_door(p: Pen) -> None:
    p.rect(24, 8, 76, 92, radius=4)
    p.rect(56, 48, 70, 62, radius=2, fill=True)
    p.arc(63, 48, 6, 180, 360, width=4)


def shared_facility(p: Pen) -> None:
    # A block of flats with its shared entrance and the stairwell's light over it.
    p.rect(14, 22, 86, 92, radius=3)
    for y in (36, 52):
        p.line((28, y), (40, y), width=5)
        p.line((60, y), (72, y), width=5)
    p.rect(40, 66, 60, 92, radius=1)
    p.dot(50, 10, 6)


def hydrant(p: Pen) -> None:
    p.arc(50, 34, 18, 180, 360)
    p.line((32, 34), (32, 86))
    p.line((68, 34), (68, 86))
    p.line((22, 88), (78, 88))
    p.line((20, 52), (80, 52))
    p.dot(50, 12, 5)


def skip(p: Pen) -> None:
    p.line((14, 50), (70, 50), width=9)
    p.poly((60, 28), (88, 50), (60, 72), fill=True)


def borrow(p: Pen) -> None:
    p.rect(10, 16, 52, 84, radius=4)
    p.line((20, 16), (20, 84))
    p.line((58, 50), (86, 50), width=8)
    p.poly((80, 36), (94, 50), (80, 64), fill=True)


def give_back(p: Pen) -> None:
    p.rect(48, 16, 90, 84, radius=4)
    p.line((58, 16), (58, 84))
    p.line((8, 50), (36, 50), width=8)
    p.poly((30, 36), (44, 50), (30, 64), fill=True)


def loans(p: Pen) -> None:
    for y in (22, 50, 78):
        p.rect(10, y - 9, 26, y + 9, radius=2, fill=True)
        p.line((36, y), (90, y))


def lookup(p: Pen) -> None:
    p.circle(42, 42, 26)
    p.line((62, 62), (88, 88), width=11)


def call_staff(p: Pen) -> None:
    # A person with a raised hand.
    p.circle(40, 20, 10)
    p.line((40, 36), (40, 66))
    p.line((40, 66), (28, 92))
    p.line((40, 66), (52, 92))
    p.line((40, 44), (20, 58))
    p.line((40, 42), (64, 30), (70, 8))


def service(p: Pen) -> None:
    # The fallback: a heart in an open hand, "we are here to help".
    _heart(p, 50, 36, 0.9)
    p.line((8, 62), (24, 62), (46, 74), (70, 74))
    p.line((24, 86), (70, 86), (92, 66))


DRAWINGS: dict[str, Callable[[Pen], None]] = {
    # the categories (their codes)
    "water_electric": water_electric, "pipe_unclog": pipe_unclog, "appliance": appliance,
    "haircut": haircut, "policy": policy, "certificates": certificates, "jobs": jobs,
    "books": books, "tank_cleaning": tank_cleaning, "water_supply": water_supply,
    "fire_safety": fire_safety, "sensor_node": sensor_node,
    # the answers (their keys)
    "leak": leak, "no_power": no_power, "light": light, "socket": socket, "other": other,
    "kitchen": kitchen, "toilet": toilet, "floor_drain": floor_drain, "tv": tv,
    "fridge": fridge, "washer": washer, "aircon": aircon, "heater": heater,
    "morning": morning, "afternoon": afternoon, "any": any, "pension": pension,
    "medical": medical, "allowance": allowance, "housing": housing,
    "senior_card": senior_card, "birth_permit": birth_permit, "full_time": full_time,
    "part_time": part_time, "flexible": flexible, "deliver": deliver, "suggest": suggest,
    # the water and the shared facilities (issue 17)
    "tank_water": tank_cleaning, "shared_facility": shared_facility, "tank": tank_cleaning,
    "cloudy": cloudy, "smell": smell, "yellow": yellow, "low_pressure": low_pressure,
    "no_water": no_water, "stair_light": stair_light, "entry_door": entry_door,
    "hydrant": hydrant, "extinguisher": fire_safety,
    # skipping a question, the library's choices, the home screen's other doors, the fallback
    "skip": skip,
    "borrow": borrow, "give_back": give_back, "loans": loans, "lookup": lookup,
    "call_staff": call_staff, "service": service,
}


def render(key: str) -> bytes:
    """The PNG of one pictogram, as bytes (the same bytes every run: no timestamps)."""
    big = Image.new("RGBA", (SIZE * _SUPER, SIZE * _SUPER), (255, 255, 255, 0))
    DRAWINGS[key](Pen(ImageDraw.Draw(big)))
    small = big.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.tooling.pictograms",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true",
                        help="only compare: exit 1 if a PNG is missing or differs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    stale = []
    for key in DRAWINGS:
        path = args.out / f"{key}.png"
        png = render(key)
        if path.is_file() and path.read_bytes() == png:
            continue
        stale.append(key)
        if not args.check:
            path.write_bytes(png)
            log.info("wrote %s", path)
    if args.check and stale:
        log.error("pictograms missing or stale: %s (run python -m kiosk.tooling.pictograms)",
                  ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
