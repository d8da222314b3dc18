"""Places in the browser: compounds, buildings (with how many floors) and units with their
other names (aliases) and a compound's position; grids and the squad covering each.

A request's squad is decided once, when it is filed, from its building's grid
(server/services/requests.py ``squad_for``): so moving a building to another grid here re-routes
only requests filed after the move, and an open request keeps the squad it has.

One saver serves the four kinds (:data:`KINDS`): each kind names its fields and its checks, the
form's mistakes come back by field (FormRefused), a record saved by someone else since the page
was opened is refused (StaleEdit), and every change is in the audit log. Pages:
server/web/admin_places.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.errors import NotFound
from server.models import Base, Building, Compound, Grid, Squad, Unit, User
from server.place_locations import PlaceLocation
from server.services import audit
from server.services.admin_forms import FormRefused, check_version, version_of
from server.sites.scoping import everywhere

__all__ = ["KINDS", "PlaceKind", "place_form", "place_overview", "place_version", "save_place",
           "get_place", "Overview"]

log = logging.getLogger(__name__)
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
ALIAS_SPLIT = re.compile(r"[\n,，、;；]+")
MAX_ALIASES = 20


@dataclass(frozen=True)
class PlaceKind:
    name: str  # compound | building | unit | grid
    model: type[Base]
    fields: tuple[str, ...]  # what the form edits besides the code
    located: bool  # has aliases (and, for a compound, a position) in PlaceLocation


KINDS: dict[str, PlaceKind] = {
    "compound": PlaceKind("compound", Compound,
                          ("name_zh", "name_en", "aliases", "lat", "long", "radius_m"), True),
    "building": PlaceKind("building", Building,
                          ("name", "compound", "grid", "floors", "aliases"), True),
    "unit": PlaceKind("unit", Unit, ("name", "building"), False),
    "grid": PlaceKind("grid", Grid, ("name", "squad"), False),
}


@dataclass(frozen=True)
class Overview:
    grids: list[Grid]
    squads: list[Squad]
    compounds: list[Compound]
    aliases: dict[str, list[str]]


def place_overview(db: Session) -> Overview:
    return Overview(
        grids=list(db.scalars(select(Grid).order_by(Grid.code))),
        squads=list(db.scalars(select(Squad).order_by(Squad.code))),
        compounds=list(db.scalars(select(Compound).order_by(Compound.code).options(
            selectinload(Compound.buildings).selectinload(Building.units),
            selectinload(Compound.buildings).selectinload(Building.grid)))),
        aliases={p.code: list(p.aliases) for p in db.scalars(select(PlaceLocation))})


def get_place(db: Session, *, kind: PlaceKind, code: str) -> Any:
    row = db.scalar(select(kind.model).where(kind.model.code == code))  # type: ignore[attr-defined]
    if row is None:
        raise NotFound(f"no such {kind.name}")
    return row


def _code_of(row: Any) -> str:
    return row.code if row is not None else ""


def place_form(db: Session, *, kind: PlaceKind, row: Any) -> dict[str, str]:
    """The record as the form's fields (text)."""
    form: dict[str, str] = {"code": row.code}
    location = db.get(PlaceLocation, row.code) if kind.located else None
    for name in kind.fields:
        if name == "aliases":
            form[name] = "、".join(location.aliases) if location else ""
        elif name in ("lat", "long", "radius_m"):
            value = getattr(location, name) if location else None
            form[name] = "" if value is None else str(value)
        elif name in ("compound", "grid", "building", "squad"):
            form[name] = _code_of(getattr(row, name))
        elif name == "floors":
            form[name] = "" if row.floors is None else str(row.floors)
        else:
            form[name] = getattr(row, name) or ""
    return form


def place_version(db: Session, *, kind: PlaceKind, row: Any) -> str:
    return version_of(place_form(db, kind=kind, row=row))


def _number(text: str, low: float, high: float, *, whole: bool = False) -> float | int | None:
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _ref(db: Session, model: type[Base], code: str) -> Any:
    return db.scalar(select(model).where(model.code == code))  # type: ignore[attr-defined]


# The parent a kind's field points at, and whether it may be empty.
_REFS: dict[str, tuple[type[Base], bool]] = {
    "compound": (Compound, False), "building": (Building, False), "grid": (Grid, True),
    "squad": (Squad, True)}


def _read(db: Session, kind: PlaceKind, form: Mapping[str, str]
          ) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    text: Callable[[str], str] = lambda name: form.get(name, "").strip()  # noqa: E731
    for name in kind.fields:
        raw = text(name)
        if name in ("name", "name_zh"):
            if not raw:
                problems[name] = "required"
            elif len(raw) > 100:
                problems[name] = "too_long"
            values[name] = raw
        elif name == "name_en":
            if len(raw) > 100:
                problems[name] = "too_long"
            values[name] = raw
        elif name == "aliases":
            aliases = [a.strip() for a in ALIAS_SPLIT.split(raw) if a.strip()]
            if len(aliases) > MAX_ALIASES or any(len(a) > 60 for a in aliases):
                problems[name] = "too_many_aliases"
            values[name] = list(dict.fromkeys(aliases))
        elif name in ("lat", "long", "radius_m", "floors"):
            limit = {"lat": (-90.0, 90.0), "long": (-180.0, 180.0), "radius_m": (1, 5000),
                     "floors": (1, 60)}[name]
            value = _number(raw, *limit, whole=name in ("radius_m", "floors")) if raw else None
            if raw and value is None:
                problems[name] = "bad_" + name
            values[name] = value
        elif name in _REFS:
            model, optional = _REFS[name]
            found = _ref(db, model, raw) if raw else None
            if raw and found is None:
                problems[name] = "unknown"
            elif not raw and not optional:
                problems[name] = "choose"
            values[name] = found
    if "lat" in values and (values["lat"] is None) != (values["long"] is None):
        missing = "long" if values["long"] is None else "lat"
        problems.setdefault(missing, "both_or_neither")
    return values, problems


def save_place(db: Session, *, kind: PlaceKind, code: str | None, form: Mapping[str, str],
               seen: str, actor: User, now: datetime, commit: bool = True) -> Any:
    """Save the form over the place ``code`` (None: a new one, its code in the form).
    ``commit=False`` leaves the transaction to the caller (a bulk import: every row or none)."""
    values, problems = _read(db, kind, form)
    if code is None:
        code = form.get("code", "").strip()
        if not code:
            problems["code"] = "required"
        elif not CODE.match(code):
            problems["code"] = "bad_code"
        elif db.scalar(everywhere(select(kind.model.id).where(  # type: ignore[attr-defined]
                kind.model.code == code))) is not None:  # type: ignore[attr-defined]
            problems["code"] = "taken"  # codes are the district's: a poster's code names its site
        row, before = None, None
    else:
        row = get_place(db, kind=kind, code=code)
        before = place_form(db, kind=kind, row=row)
        check_version(before, seen)
    if problems:
        raise FormRefused(problems)
    located = {n: v for n, v in values.items() if n in ("aliases", "lat", "long", "radius_m")}
    with db.no_autoflush:  # a new row is complete only once every field is set
        if row is None:
            row = kind.model(code=code)
            db.add(row)
        for name, value in values.items():
            if name not in located:
                setattr(row, name, value)
        if kind.located:
            location = db.get(PlaceLocation, code) or PlaceLocation(code=code, aliases=[])
            for name, value in located.items():
                setattr(location, name, value)
            db.add(location)
    db.flush()
    after = place_form(db, kind=kind, row=row)
    audit.record(db, actor=actor, action=f"{kind.name}.{'add' if before is None else 'edit'}",
                 subject=(kind.name, code), before=before, after=after, now=now)
    if commit:
        db.commit()
    if before is not None and kind.name == "building" and before["grid"] != after["grid"]:
        # Why it matters: only requests filed from now on go to the new grid's squad.
        log.info("building %s moved from grid %s to %s by user %s", code, before["grid"] or "-",
                 after["grid"] or "-", actor.id)
    return row
