"""Placing a request the way an outside client describes it: a free-text address or a position.

Pure: no framework and no database. :class:`PlaceBook` is built from the site's compounds (with
their buildings and units, the other names people use for them, and the compounds' positions,
all from the site file) and answers two questions::

    book = PlaceBook(compounds)
    book.match_text("劳动新村 1号楼 1单元")   # -> Placement("unit", "C01-B01-U1", ...)
    book.nearest(28.1961, 112.9843)            # -> Placement("compound", "C01", ...)

A text is matched forgivingly: spaces, punctuation and full-width digits do not matter, and the
ways people write a building (``1栋``, ``1号楼``, ``1幢``, ``一栋``, ``building 1``) and a unit
(``1单元``, ``一单元``, ``unit 1``) all mean the same. The compound is found by its name or an
alias anywhere in the text (the longest one wins, so ``南湖小区`` beats ``南湖``); a building alias
names its building directly. Anything that names no compound or building gives ``None``: the
caller files it to the triage queue for staff to place.

A position is placed on the nearest compound whose centre is within that compound's radius;
farther than every radius gives ``None``. Positions are compared as given: they must use the same
datum as the site file (GeoReport says WGS-84).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["BuildingEntry", "CompoundEntry", "PlaceBook", "Placement", "normalize"]

PlaceKind = Literal["unit", "building", "compound"]

EARTH_RADIUS_M = 6_371_008.8
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_CN_NUMBER = r"[零〇一二两三四五六七八九十]+"
# Ways of writing "building N": 1栋, 1号楼, 1号栋, 1幢, 1座, 第1栋, building 1, bldg 1, block 1.
_BUILDING = re.compile(
    rf"(?:第)?(\d+|{_CN_NUMBER})(?:号楼|号栋|号幢|栋|幢|座)|(?:building|bldg|block|blk)(\d+)")
# Ways of writing "unit N": 1单元, 一单元, 第1单元, unit 1.
_UNIT = re.compile(rf"(?:第)?(\d+|{_CN_NUMBER})单元|unit(\d+)")
# What is dropped before comparing: whitespace and punctuation, in both widths.
_NOISE = re.compile(r"[\s\-_.,;:/\\·、，。；：（）()【】\[\]#№]+")


def _chinese_number(text: str) -> int | None:
    """一 -> 1, 十 -> 10, 十二 -> 12, 二十三 -> 23, 一一 -> 11; None for what is not a number."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        value = 0
        for char in text:
            value = value * 10 + _DIGITS[char]
        return value
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def normalize(text: str) -> str:
    """The comparable form of a place name: NFKC (full-width digits and letters become ASCII),
    lower case, no spaces or punctuation, and every building and unit written ``N栋`` and
    ``N单元``."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())

    def building(m: re.Match[str]) -> str:
        number = _chinese_number(m.group(1) or m.group(2))
        return m.group(0) if number is None else f"{number}栋"

    def unit(m: re.Match[str]) -> str:
        number = _chinese_number(m.group(1) or m.group(2))
        return m.group(0) if number is None else f"{number}单元"

    return _UNIT.sub(unit, _BUILDING.sub(building, text))


@dataclass(frozen=True)
class Placement:
    """Where a request was placed: a unit, a building, or (a position, a compound's name alone)
    a whole compound. ``how`` says what matched, for the ticket's history."""

    kind: PlaceKind
    code: str
    how: str


@dataclass(frozen=True)
class BuildingEntry:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    units: tuple[tuple[str, str], ...] = ()  # (code, name)


@dataclass(frozen=True)
class CompoundEntry:
    code: str
    names: tuple[str, ...]  # the Chinese name, the English name, the aliases
    buildings: tuple[BuildingEntry, ...] = ()
    lat: float | None = None
    long: float | None = None
    radius_m: float = 200.0


def distance_m(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle distance (haversine); metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(long2 - long1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class PlaceBook:
    compounds: Iterable[CompoundEntry]
    _names: list[tuple[str, CompoundEntry, BuildingEntry | None]] = field(init=False)
    _codes: dict[str, Placement] = field(init=False)

    def __post_init__(self) -> None:
        self.compounds = tuple(self.compounds)
        self._names = []
        self._codes = {}
        for compound in self.compounds:
            self._codes[compound.code.lower()] = Placement("compound", compound.code, "code")
            for name in compound.names:
                if normalize(name):
                    self._names.append((normalize(name), compound, None))
            for building in compound.buildings:
                self._codes[building.code.lower()] = Placement("building", building.code, "code")
                for unit_code, _unit_name in building.units:
                    self._codes[unit_code.lower()] = Placement("unit", unit_code, "code")
                for alias in building.aliases:
                    if normalize(alias):
                        self._names.append((normalize(alias), compound, building))
        # Longest first, so a name that contains another wins over it.
        self._names.sort(key=lambda entry: len(entry[0]), reverse=True)

    def match_text(self, text: str) -> Placement | None:
        """The finest place a free-text address names, or None."""
        stripped = text.strip().lower()
        if stripped in self._codes:
            return self._codes[stripped]
        wanted = normalize(text)
        for name, compound, building in self._names:
            at = wanted.find(name)
            if at < 0:
                continue
            rest = wanted[:at] + " " + wanted[at + len(name):]
            if building is None:
                building = _building_in(compound, rest)
                if building is None:
                    return Placement("compound", compound.code, f"name {name}")
            unit = _unit_in(building, rest)
            if unit is not None:
                return Placement("unit", unit, f"name {name}")
            return Placement("building", building.code, f"name {name}")
        return None

    def nearest(self, lat: float, long: float) -> Placement | None:
        """The nearest compound whose radius holds the position, or None."""
        best: tuple[float, CompoundEntry] | None = None
        for compound in self.compounds:
            if compound.lat is None or compound.long is None:
                continue
            metres = distance_m(lat, long, compound.lat, compound.long)
            if metres <= compound.radius_m and (best is None or metres < best[0]):
                best = (metres, compound)
        if best is None:
            return None
        return Placement("compound", best[1].code, f"position, {best[0]:.0f} m from its centre")


def _named_in(names: Iterable[str], rest: str, numbered: re.Pattern[str]) -> bool:
    """Whether one of ``names`` is in ``rest``. A numbered name (``1栋``) must be a whole number
    there, so ``11栋`` is not building 1; any other name (``邮电大楼``, ``东单元``) may be
    anywhere."""
    whole = set(numbered.findall(rest))
    for name in names:
        key = normalize(name)
        if key and (key in whole if numbered.fullmatch(key) else key in rest):
            return True
    return False


def _building_in(compound: CompoundEntry, rest: str) -> BuildingEntry | None:
    for building in compound.buildings:
        if _named_in((building.name, *building.aliases), rest, _NUMBERED_BUILDING):
            return building
    return None


def _unit_in(building: BuildingEntry, rest: str) -> str | None:
    for code, name in building.units:
        if _named_in((name,), rest, _NUMBERED_UNIT):
            return code
    return None


_NUMBERED_BUILDING = re.compile(r"\d+栋")
_NUMBERED_UNIT = re.compile(r"\d+单元")
