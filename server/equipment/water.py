"""The water test after a tank cleaning: each indicator against its limit, pass or fail
computed from the limit, never typed by hand. Pure: no database, no framework.

GB 17051 (secondary water supply; the 2025 edition in force from 2026-06-01) asks that a tank
be cleaned and disinfected and the water tested by a lab afterwards, against the drinking-water
standard GB 5749-2022. The limits below are GB 5749-2022's:

- turbidity (浑浊度) ≤ 1 NTU                       Table 1, sensory and general indicators
- colour (色度) ≤ 15 (platinum-cobalt units)        Table 1
- odour and taste (臭和味): none                   Table 1
- total coliforms (总大肠菌群): not detected        Table 1, microbiological
- colony count (菌落总数) ≤ 100 CFU/mL              Table 1, microbiological
- free chlorine (游离氯) at the tap 0.05–2 mg/L     Table 3 (disinfectant indicators): at most
  2 mg/L in water leaving the works and at the tap, at least 0.05 mg/L remaining at the tap
  (末梢水余量). A tank sits between the works and the tap, so the tap's figures apply.

    verdict = judge(WaterSample(turbidity_ntu=0.4, free_chlorine_mg_l=0.3,
                                coliforms_detected=False, colony_cfu_ml=12, colour=5,
                                odour_none=True))
    verdict.passed            # True; verdict.results[i].passed for each indicator

A sample with an indicator left out does not pass: the rule asks for all six.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["LIMITS", "Indicator", "IndicatorResult", "Limit", "Verdict", "WaterSample", "judge"]


class Indicator(StrEnum):
    TURBIDITY = "turbidity_ntu"
    FREE_CHLORINE = "free_chlorine_mg_l"
    COLIFORMS = "coliforms_detected"
    COLONY_COUNT = "colony_cfu_ml"
    COLOUR = "colour"
    ODOUR = "odour_none"


@dataclass(frozen=True)
class Limit:
    """A numeric range (either end open) or a yes/no that must take the value ``wanted``."""

    low: float | None = None
    high: float | None = None
    wanted: bool | None = None
    unit: str = ""

    def allows(self, value: float | bool) -> bool:
        if self.wanted is not None:
            return bool(value) is self.wanted
        number = float(value)
        if not math.isfinite(number):
            return False
        return (self.low is None or number >= self.low) and \
            (self.high is None or number <= self.high)

    def text(self) -> str:
        """The limit as a lab report writes it (language-neutral symbols)."""
        if self.wanted is not None:
            return ""
        if self.low is not None and self.high is not None:
            return f"{self.low:g}–{self.high:g} {self.unit}".strip()
        if self.high is not None:
            return f"≤ {self.high:g} {self.unit}".strip()
        return f"≥ {self.low:g} {self.unit}".strip()


LIMITS: dict[Indicator, Limit] = {
    Indicator.TURBIDITY: Limit(high=1.0, unit="NTU"),
    Indicator.FREE_CHLORINE: Limit(low=0.05, high=2.0, unit="mg/L"),
    Indicator.COLIFORMS: Limit(wanted=False),
    Indicator.COLONY_COUNT: Limit(high=100.0, unit="CFU/mL"),
    Indicator.COLOUR: Limit(high=15.0),
    Indicator.ODOUR: Limit(wanted=True),
}


@dataclass(frozen=True)
class WaterSample:
    """What the lab measured; None where the report gives no figure."""

    turbidity_ntu: float | None = None
    free_chlorine_mg_l: float | None = None
    coliforms_detected: bool | None = None
    colony_cfu_ml: float | None = None
    colour: float | None = None
    odour_none: bool | None = None


@dataclass(frozen=True)
class IndicatorResult:
    indicator: Indicator
    value: float | bool | None
    limit: Limit
    passed: bool


@dataclass(frozen=True)
class Verdict:
    results: tuple[IndicatorResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[Indicator, ...]:
        return tuple(r.indicator for r in self.results if not r.passed)


def judge(sample: WaterSample) -> Verdict:
    """Each indicator against its limit, in the order a lab report lists them."""
    results = []
    for indicator, limit in LIMITS.items():
        value = getattr(sample, indicator.value)
        results.append(IndicatorResult(indicator, value, limit,
                                       value is not None and limit.allows(value)))
    return Verdict(tuple(results))
