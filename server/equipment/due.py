"""The due lists staff plan the month with: which extinguishers need their monthly inspection,
a maintenance, or scrapping within the next days. Pure: no database, no framework.

The dates are the rules' own (:mod:`server.rules.schedules`), from the ages in
``config/rules.toml`` ``[extinguisher.ages]``. Those figures are GB 50444-2008's:
section 5.3.2 sends water-based extinguishers for maintenance 3 years after manufacture and
every year after that, dry-powder, clean-agent and CO₂ ones 5 years after manufacture and every
2 years after that; section 5.4.3 scraps water-based ones at 6 years, dry-powder and clean-agent
at 10 and CO₂ at 12 (GA 95-2015 repeats both). The inspection is monthly (section 5.2.2).

    lists = due_lists(records, today=date(2026, 12, 3), within_days=30, config=rules)
    [entry.asset_id for entry in lists.scrap]

A unit whose record the rules cannot use (an inspection dated before manufacture) appears in no
list; the register shows it flagged instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from server.rules import (
    ExtinguisherRecord,
    RulesConfig,
    RulesError,
    inspection_due_on,
    maintenance_due_on,
    scrap_on,
)

__all__ = ["DueEntry", "DueLists", "due_lists"]


@dataclass(frozen=True)
class DueEntry:
    asset_id: str
    due_on: date | None  # None: never inspected, due at once
    days_left: int | None  # negative when overdue

    @property
    def overdue(self) -> bool:
        return self.days_left is None or self.days_left < 0


@dataclass(frozen=True)
class DueLists:
    inspection: list[DueEntry] = field(default_factory=list)
    maintenance: list[DueEntry] = field(default_factory=list)
    scrap: list[DueEntry] = field(default_factory=list)


def _entry(asset_id: str, due_on: date | None, today: date) -> DueEntry:
    return DueEntry(asset_id, due_on, (due_on - today).days if due_on else None)


def _soonest(entries: list[DueEntry]) -> list[DueEntry]:
    return sorted(entries, key=lambda e: (e.due_on or date.min, e.asset_id))


def due_lists(records: Iterable[ExtinguisherRecord], *, today: date, within_days: int,
              config: RulesConfig) -> DueLists:
    """Everything due on or before ``today + within_days``, overdue first, soonest next.

    A unit due for scrapping within the window is listed for scrapping, not maintenance: it is
    replaced, not serviced (as the rules' own schedule decides).
    """
    horizon = today + timedelta(days=within_days)
    inspection: list[DueEntry] = []
    maintenance: list[DueEntry] = []
    scrap: list[DueEntry] = []
    for record in records:
        try:
            inspect_on = inspection_due_on(record, config)
            maintain_on = maintenance_due_on(record, config)
            scrap_day = scrap_on(record, config)
        except (RulesError, KeyError, ValueError):
            continue
        if inspect_on is None or inspect_on <= horizon:
            inspection.append(_entry(record.asset_id, inspect_on, today))
        if scrap_day <= horizon:
            scrap.append(_entry(record.asset_id, scrap_day, today))
        elif maintain_on <= horizon and maintain_on < scrap_day:
            maintenance.append(_entry(record.asset_id, maintain_on, today))
    return DueLists(_soonest(inspection), _soonest(maintenance), _soonest(scrap))
