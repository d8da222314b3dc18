"""What a resident's report about the water or a shared facility concerns, and who must hear it.

Pure: no database, no framework. A request in one of the facility categories of
config/categories.toml (``tank_water``: 有异味, 发黄, 水压小, 停水; ``shared_facility``: 楼道灯,
防盗门, 消防栓) is about a thing the whole building shares, not about the resident's own flat. The
answer says which thing (:class:`AssetKind`) and what kind of concern it is (:class:`Concern`):

- the tank (二次供水蓄水池) of the resident's building, or else of its compound: the report is
  written on that tank's open maintenance ticket (or raises one) and alerts the duty staff, as a
  water-quality concern (odour, colour: urgent, the water may not be fit to drink) or a supply
  concern (pressure, no water);
- the building's fire-extinguisher bay, for the fire hydrant: the same, as a fire-safety concern;
- the stairwell unit itself, for the stairwell light and the entry door: an ordinary repair
  request placed at the unit, with no register asset and no staff alert.

``server.services.facility_reports`` does the database side; this module only decides::

    concern = concern_of("tank_water", {"symptom": "smell"})
    concern.asset_kind            # AssetKind.TANK
    concern.report_zh("tank-1")   # "居民报告：1号楼蓄水池的水有异味"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "FACILITY_CATEGORIES",
    "REPORT_CONDITION_NAMES",
    "AssetKind",
    "Concern",
    "FacilityConcern",
    "SENSOR_CONDITIONS",
    "concern_of",
    "report_open_key",
]


class AssetKind(StrEnum):
    TANK = "tank"  # the building's (or compound's) secondary-supply tank
    EXTINGUISHER_BAY = "extinguisher_bay"  # the building's fire-safety bay (hydrant, extinguisher)
    STAIRWELL = "stairwell"  # the unit itself: its light, its entry door


class Concern(StrEnum):
    WATER_QUALITY = "water_quality"
    WATER_SUPPLY = "water_supply"
    FIRE_SAFETY = "fire_safety"
    REPAIR = "repair"


# The maintenance ticket's condition for reports by residents: one open ticket per asset and
# concern ("tank-1|resident_water_quality"), as a sensor condition has.
_CONDITION: Final = {Concern.WATER_QUALITY: "resident_water_quality",
                     Concern.WATER_SUPPLY: "resident_water_supply",
                     Concern.FIRE_SAFETY: "resident_fire_safety"}
# A report condition's names in both languages, as the rules' own conditions have (the staff's
# pages show them beside the sensors' conditions).
REPORT_CONDITION_NAMES: Final = {
    "resident_water_quality": ("居民反映水质问题", "Residents report the water quality"),
    "resident_water_supply": ("居民反映供水问题", "Residents report the water supply"),
    "resident_fire_safety": ("居民反映消防设施问题", "Residents report fire-safety equipment"),
}
# The service category of a maintenance ticket a report raises (the squad skill that does it).
_MAINTENANCE_CATEGORY: Final = {Concern.WATER_QUALITY: "tank_cleaning",
                                Concern.WATER_SUPPLY: "water_supply",
                                Concern.FIRE_SAFETY: "fire_safety"}
# The concerns whose reports go to the tickets the sensors raise for the same asset, if one is
# open: a resident smelling the water while the turbidity ticket is open adds to that ticket.
SENSOR_CONDITIONS: Final = {
    Concern.WATER_QUALITY: frozenset({"turbidity_high", "cleaning_due"}),
    Concern.WATER_SUPPLY: frozenset({"low_level", "high_level", "overflow"}),
    Concern.FIRE_SAFETY: frozenset({"missing", "pressure_low", "door_open"}),
}


@dataclass(frozen=True)
class FacilityConcern:
    """One answer of a facility category: what it is about and how it reads to staff."""

    category: str
    answer: str
    asset_kind: AssetKind
    concern: Concern
    urgent: bool
    what_zh: str  # completes "居民报告：<asset>…"
    what_en: str

    @property
    def alerts_staff(self) -> bool:
        """Reports on a register asset alert the duty staff; a stairwell repair does not."""
        return self.asset_kind is not AssetKind.STAIRWELL

    @property
    def condition(self) -> str | None:
        """The maintenance ticket's condition for this concern (None: no maintenance ticket)."""
        return _CONDITION.get(self.concern)

    @property
    def maintenance_category(self) -> str | None:
        return _MAINTENANCE_CATEGORY.get(self.concern)

    @property
    def title_zh(self) -> str:
        condition = self.condition
        return REPORT_CONDITION_NAMES[condition][0] if condition else "居民报修公共设施"

    @property
    def title_en(self) -> str:
        condition = self.condition
        return REPORT_CONDITION_NAMES[condition][1] if condition else \
            "Residents report a shared facility broken"

    def report_zh(self, asset: str) -> str:
        return f"居民报告：{asset}{self.what_zh}"

    def report_en(self, asset: str) -> str:
        return f"Resident reports {self.what_en} ({asset})"


def _concerns(*rows: tuple[str, str, AssetKind, Concern, bool, str, str]
              ) -> dict[tuple[str, str], FacilityConcern]:
    return {(r[0], r[1]): FacilityConcern(*r) for r in rows}


_T, _B, _S = AssetKind.TANK, AssetKind.EXTINGUISHER_BAY, AssetKind.STAIRWELL
_CONCERNS: Final = _concerns(
    # Odour and colour may mean the water is unsafe to drink (GB 5749: colour, odour): urgent.
    ("tank_water", "smell", _T, Concern.WATER_QUALITY, True, "的水有异味", "odour in the water"),
    ("tank_water", "yellow", _T, Concern.WATER_QUALITY, True, "的水发黄",
     "yellow (discoloured) water"),
    ("tank_water", "low_pressure", _T, Concern.WATER_SUPPLY, False, "供水水压小",
     "low water pressure"),
    ("tank_water", "no_water", _T, Concern.WATER_SUPPLY, True, "停水", "no water"),
    ("shared_facility", "hydrant", _B, Concern.FIRE_SAFETY, True, "的消防栓有问题",
     "a fire hydrant problem"),
    ("shared_facility", "stair_light", _S, Concern.REPAIR, False, "的楼道灯坏了",
     "a stairwell light out"),
    ("shared_facility", "entry_door", _S, Concern.REPAIR, False, "的防盗门坏了",
     "the entry door broken"),
)

# The questions whose answer names the concern, per facility category.
_QUESTION: Final = {"tank_water": "symptom", "shared_facility": "facility"}
FACILITY_CATEGORIES: Final = frozenset(_QUESTION)


def concern_of(category: str, answers: Mapping[str, str]) -> FacilityConcern | None:
    """The concern of a request, or None when it is not about a shared facility."""
    question = _QUESTION.get(category)
    if question is None:
        return None
    return _CONCERNS.get((category, answers.get(question, "")))


def report_open_key(asset_id: str, concern: FacilityConcern) -> str:
    """The one-open-ticket key of residents' reports of one concern on one asset."""
    return f"{asset_id}|{concern.condition}"
