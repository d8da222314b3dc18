"""Which tables a Pi's move into the centre copies, and how: worked out from the metadata.

Every table of ``Base.metadata`` (all of server/all_models.py) gets one :class:`TablePlan`, in
dependency order (a table after every table it points at), by these rules, in order:

1. **skipped** on purpose: named in :data:`SKIPPED` with the reason (sign-ins, lockout counters,
   what the centre's ingest rebuilds from the readings the bridge carries, the Pi's own outbox
   positions);
2. **site rows**: the table has a ``site_id``: each row is the site's, moved under the new site
   id;
3. **follows its parent**: a foreign key leads to a moved table of rule 2 or 3 (a request's
   history follows its ticket, a loan's reminder its loan);
4. **shared by key**: a table of the whole district with a natural key (a category's code, a
   book's ISBN, an Open311 client's name): a row the centre already has is used as it is, a
   new one is added;
5. otherwise **unclassified**: the import refuses to run, naming the table, so a table added
   later is never silently left behind (tests/server/test_district_move.py checks there is
   none).

How keys are carried: a table whose key is one integer column of its own gets new ids at the
centre (``renumbered``); every foreign key to such a table (and each column of
:data:`UNDECLARED_KEYS`, an id kept without a foreign key) is rewritten through the ids moved
before it; text keys (asset ids, category codes) are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import Integer, MetaData, Table, UniqueConstraint

__all__ = ["SKIPPED", "UNDECLARED_KEYS", "PlanError", "TablePlan", "check_plans", "plan_tables"]

How = Literal["skipped", "site", "follows", "shared", "unclassified"]

SKIPPED: dict[str, str] = {
    "sites": "the site's own row is made by the import, with the Pi's names",
    "district_imports": "the import's own record",
    "district_import_ids": "the import's own record",
    "user_sessions": "sign-ins belong to the server that made them: people sign in at the "
                     "centre again",
    "login_failures": "the Pi's own lockout counters",
    "library_pin_failures": "the Pi's own lockout counters",
    "library_sessions": "a kiosk's library session lasts minutes",
    "readings": "the bridge carries the Pi's sensor readings to the centre itself",
    "asset_states": "the centre's ingest rebuilds them from the readings",
    "rule_state": "the centre's ingest rebuilds it from the readings",
    "dead_letters": "the Pi's rejected MQTT payloads, for its installer",
    "notice_cursor": "the Pi's notice courier's place in its own history",
    "alert_deliveries": "the Pi's sending attempts: moved, its unsent alerts would be sent "
                        "again from the centre",
}


# Integer columns that hold another table's id without a foreign key: renumbered with it. (A
# copy's one open loan and one ready hold are kept unique by the copy's id in these columns:
# server/library/models.py.)
UNDECLARED_KEYS: dict[tuple[str, str], str] = {
    ("library_loans", "open_key"): "library_copies",
    ("library_holds", "ready_key"): "library_copies",
}


class PlanError(RuntimeError):
    """A table the rules cannot place, or a moved row that would point at a skipped one."""


@dataclass(frozen=True)
class TablePlan:
    table: Table
    how: How
    reason: str = ""
    # The key is one integer column of its own: the centre gives each moved row a new one.
    renumbered: bool = False
    # Columns that point at a renumbered table's key: column name -> that table's name.
    remapped: tuple[tuple[str, str], ...] = ()
    # The natural keys (besides the primary key) a shared row is found by.
    natural_keys: tuple[tuple[str, ...], ...] = ()

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def moved(self) -> bool:
        return self.how in ("site", "follows", "shared")


def _renumbered(table: Table) -> bool:
    keys = list(table.primary_key.columns)
    return (len(keys) == 1 and isinstance(keys[0].type, Integer)
            and not keys[0].foreign_keys)


def _unique_sets(table: Table) -> tuple[tuple[str, ...], ...]:
    """Every unique column set of the table other than its primary key."""
    found: dict[tuple[str, ...], None] = {}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            found[tuple(sorted(c.name for c in constraint.columns))] = None
    for index in table.indexes:
        if index.unique:
            found[tuple(sorted(c.name for c in index.columns))] = None
    for column in table.columns:
        if column.unique:
            found[(column.name,)] = None
    primary = tuple(sorted(c.name for c in table.primary_key.columns))
    return tuple(key for key in found if key != primary)


def plan_tables(metadata: MetaData) -> list[TablePlan]:
    """One plan per table, in dependency order; raises nothing (see :func:`check_plans`)."""
    plans: list[TablePlan] = []
    moved_site: set[str] = set()
    renumbered = {t.name for t in metadata.sorted_tables if _renumbered(t)}
    for table in metadata.sorted_tables:
        remapped = tuple(sorted(
            {(fk.parent.name, fk.column.table.name) for fk in table.foreign_keys
             if fk.column.table.name in renumbered and fk.column.table.name != table.name}
            | {(column, target) for (name, column), target in UNDECLARED_KEYS.items()
               if name == table.name and column in table.c}))
        base = TablePlan(table, "unclassified", renumbered=table.name in renumbered,
                         remapped=remapped, natural_keys=_unique_sets(table))
        parents = {fk.column.table.name for fk in table.foreign_keys} - {table.name}
        if table.name in SKIPPED:
            plans.append(replace(base, how="skipped", reason=SKIPPED[table.name]))
        elif "site_id" in table.c:
            moved_site.add(table.name)
            plans.append(replace(base, how="site"))
        elif parents & moved_site:
            plans.append(replace(base, how="follows", reason="with " + ", ".join(
                sorted(parents & moved_site))))
            moved_site.add(table.name)
        elif not base.renumbered or base.natural_keys:
            plans.append(replace(base, how="shared"))
        else:
            plans.append(base)
    return plans


def check_plans(plans: list[TablePlan]) -> None:
    """Refuse what the rules cannot move safely: an unclassified table, or a moved table whose
    rows must point at a skipped one."""
    by_name = {plan.name: plan for plan in plans}
    problems = [f"{plan.name}: neither moved nor skipped with a reason (add it to SKIPPED in "
                "server/district_move/plan.py, or give it a site_id)"
                for plan in plans if plan.how == "unclassified"]
    for plan in plans:
        if not plan.moved:
            continue
        for fk in plan.table.foreign_keys:
            target = by_name.get(fk.column.table.name)
            if target is not None and not target.moved and not fk.parent.nullable \
                    and target.name != "sites":
                problems.append(f"{plan.name}.{fk.parent.name}: points at {target.name}, "
                                "which is skipped")
    if problems:
        raise PlanError("; ".join(problems))
