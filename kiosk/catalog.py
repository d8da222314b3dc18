"""What a resident can choose from: service categories and places, as the server describes them.

The server's JSON (``GET /api/v1/categories`` and ``GET /api/v1/places``, see docs/API.md) is
parsed here, once, into frozen dataclasses; nothing inward of this module sees raw JSON. The same
parsers read the kiosk's on-disk cache, so a damaged cache file is refused the same way a bad
server answer is::

    categories = parse_categories(response.json())
    compounds = parse_places(cache.load("places"))
    categories[0].name("zh_CN")

Pure Python: no Kivy, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kiosk.errors import BadReply

__all__ = [
    "Building",
    "Category",
    "Choice",
    "Compound",
    "Language",
    "Question",
    "Slot",
    "Unit",
    "find_category",
    "find_compound",
    "parse_categories",
    "parse_places",
    "parse_slots",
    "pick",
]

Language = Literal["zh_CN", "en"]


def pick(language: str, zh: str, en: str) -> str:
    """The text for ``language``; English falls back to Chinese when a name has no translation."""
    return (en or zh) if language == "en" else zh


@dataclass(frozen=True)
class Choice:
    key: str
    zh: str
    en: str

    def label(self, language: str) -> str:
        return pick(language, self.zh, self.en)


@dataclass(frozen=True)
class Question:
    code: str
    label_zh: str
    label_en: str
    required: bool
    choices: tuple[Choice, ...]

    def label(self, language: str) -> str:
        return pick(language, self.label_zh, self.label_en)

    def choice(self, key: str) -> Choice | None:
        return next((c for c in self.choices if c.key == key), None)


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    questions: tuple[Question, ...]
    # "At a time" rather than "as soon as possible" (上门理发): the resident picks a slot.
    by_appointment: bool = False

    def name(self, language: str) -> str:
        return pick(language, self.name_zh, self.name_en)


@dataclass(frozen=True)
class Slot:
    """A time a by-appointment service can be booked into (``GET /api/v1/slots``); the times
    are aware (UTC from the server), shown in the site's time zone."""

    id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    remaining: int

    @property
    def full(self) -> bool:
        return self.remaining <= 0


@dataclass(frozen=True)
class Unit:
    code: str
    name: str


@dataclass(frozen=True)
class Building:
    code: str
    name: str
    units: tuple[Unit, ...]

    def unit(self, code: str) -> Unit | None:
        return next((u for u in self.units if u.code == code), None)


@dataclass(frozen=True)
class Compound:
    code: str
    name_zh: str
    name_en: str
    buildings: tuple[Building, ...]

    def name(self, language: str) -> str:
        return pick(language, self.name_zh, self.name_en)

    def building(self, code: str) -> Building | None:
        return next((b for b in self.buildings if b.code == code), None)


def find_category(categories: Sequence[Category], code: str | None) -> Category | None:
    return next((c for c in categories if c.code == code), None)


def find_compound(compounds: Sequence[Compound], code: str | None) -> Compound | None:
    return next((c for c in compounds if c.code == code), None)


# --- parsing -------------------------------------------------------------------------------


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise BadReply(f"{where}: expected an object")
    return value


def _list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise BadReply(f"{where}: expected a list")
    return value


def _text(node: Mapping[str, object], key: str, where: str, *, required: bool = True) -> str:
    value = node.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadReply(f"{where}.{key}: expected a non-empty string")
    return value


def _choice(raw: object, where: str) -> Choice:
    node = _mapping(raw, where)
    return Choice(key=_text(node, "key", where), zh=_text(node, "zh", where),
                  en=_text(node, "en", where, required=False))


def _question(raw: object, where: str) -> Question:
    node = _mapping(raw, where)
    choices = tuple(
        _choice(c, f"{where}.choices[{i}]")
        for i, c in enumerate(_list(node.get("choices", []), f"{where}.choices"))
    )
    if not choices:
        # The kiosk never makes typing the only way to answer; a question without choices
        # cannot be asked here, so it is refused rather than shown as a dead end.
        raise BadReply(f"{where}.choices: a kiosk question needs at least one choice")
    return Question(
        code=_text(node, "code", where),
        label_zh=_text(node, "label_zh", where),
        label_en=_text(node, "label_en", where, required=False),
        required=bool(node.get("required", False)),
        choices=choices,
    )


def parse_categories(payload: object) -> tuple[Category, ...]:
    """The categories shown on the kiosk (``kiosk: true``), in the server's order."""
    root = _mapping(payload, "categories")
    result: list[Category] = []
    for i, raw in enumerate(_list(root.get("categories"), "categories")):
        where = f"categories[{i}]"
        node = _mapping(raw, where)
        if not node.get("kiosk", False):
            continue
        questions = tuple(
            _question(q, f"{where}.questions[{j}]")
            for j, q in enumerate(_list(node.get("questions", []), f"{where}.questions"))
        )
        result.append(Category(
            code=_text(node, "code", where),
            name_zh=_text(node, "name_zh", where),
            name_en=_text(node, "name_en", where, required=False),
            questions=questions,
            by_appointment=node.get("by_appointment") is True,
        ))
    return tuple(result)


def _moment(node: Mapping[str, object], key: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(node, key, where))
    except ValueError:
        raise BadReply(f"{where}.{key}: not an ISO date and time") from None
    if moment.utcoffset() is None:
        # A time without its zone would be read in the kiosk's, an hour or eight off.
        raise BadReply(f"{where}.{key}: the time has no zone")
    return moment


def _count(node: Mapping[str, object], key: str, where: str) -> int:
    value = node.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadReply(f"{where}.{key}: expected a whole number, 0 or more")
    return value


def parse_slots(payload: object) -> tuple[Slot, ...]:
    """``GET /api/v1/slots?category=…``: the slots in time order (full ones too: they are shown,
    not offered)."""
    root = _mapping(payload, "slots")
    slots: list[Slot] = []
    for i, raw in enumerate(_list(root.get("slots"), "slots")):
        where = f"slots[{i}]"
        node = _mapping(raw, where)
        slot_id = node.get("id")
        if not isinstance(slot_id, int) or isinstance(slot_id, bool):
            raise BadReply(f"{where}.id: expected a number")
        slot = Slot(id=slot_id, starts_at=_moment(node, "starts_at", where),
                    ends_at=_moment(node, "ends_at", where),
                    capacity=_count(node, "capacity", where),
                    remaining=_count(node, "remaining", where))
        if slot.ends_at <= slot.starts_at:
            raise BadReply(f"{where}: ends before it starts")
        slots.append(slot)
    return tuple(sorted(slots, key=lambda s: (s.starts_at, s.id)))


def parse_places(payload: object) -> tuple[Compound, ...]:
    """Compounds with their buildings and units; a building without units is dropped."""
    root = _mapping(payload, "places")
    compounds: list[Compound] = []
    for i, raw in enumerate(_list(root.get("compounds"), "compounds")):
        where = f"compounds[{i}]"
        node = _mapping(raw, where)
        buildings: list[Building] = []
        for j, raw_b in enumerate(_list(node.get("buildings", []), f"{where}.buildings")):
            bwhere = f"{where}.buildings[{j}]"
            bnode = _mapping(raw_b, bwhere)
            units = tuple(
                Unit(code=_text(u, "code", f"{bwhere}.units[{k}]"),
                     name=_text(u, "name", f"{bwhere}.units[{k}]"))
                for k, u in (
                    (k, _mapping(raw_u, f"{bwhere}.units[{k}]"))
                    for k, raw_u in enumerate(_list(bnode.get("units", []), f"{bwhere}.units"))
                )
            )
            if units:
                buildings.append(Building(code=_text(bnode, "code", bwhere),
                                          name=_text(bnode, "name", bwhere), units=units))
        if buildings:
            compounds.append(Compound(
                code=_text(node, "code", where),
                name_zh=_text(node, "name_zh", where),
                name_en=_text(node, "name_en", where, required=False),
                buildings=tuple(buildings),
            ))
    return tuple(compounds)
