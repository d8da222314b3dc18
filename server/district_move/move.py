"""Copy a Pi's rows into the centre under a site id, by the plan of server/district_move/plan.py.

    report = move_pi(source=pi_engine, centre=centre_engine, site="site-07")
    print(report.text())

The Pi's database must be at the same schema as the centre's (the command upgrades a copy of
it first). Everything happens in one transaction of the centre: a refusal or a conflict leaves
the centre as it was. Both connections are SQLAlchemy Core (no ORM session), so the site
scoping of server/sites/scoping.py does not filter what is read or written.

Per row, in dependency order: a row already moved (``district_import_ids``) is counted and left
alone; the row's ``site_id`` becomes the site; each key pointing at a renumbered table is
rewritten through the ids moved before it; a renumbered table's own id is left for the centre
to give. A shared table's row that the centre already has (by its primary or natural key) is
used as it is. A row whose unique value (a compound's code, a ticket's number) is already taken
at the centre is a conflict: the move stops and names it, except the names and numbers of
:data:`RENAMED_ON_CLASH`, which are given the site as a suffix (``admin`` ->
``admin-site-07``) and reported.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, func, insert, select, update

from server.district_move.plan import TablePlan, check_plans, plan_tables

__all__ = ["MoveRefused", "MoveReport", "TableMoved", "move_pi", "source_fingerprint"]

log = logging.getLogger(__name__)

IDS = "district_import_ids"
IMPORTS = "district_imports"
# The columns that identify a Pi's database and do not change while it runs: its first
# sign-in, ticket, request (with its random phone token) and compound (by id).
FINGERPRINT = {"users": ("id", "username"), "tickets": ("id", "number", "created_at"),
               "service_requests": ("id", "phone_token"), "compounds": ("id", "code")}
# Unique values given the site as a suffix when the centre has them already (two Pis both
# have an ``admin``, a compound ``C01``, a ticket ``K1-0001``); each is reported, so staff
# reprint a poster or tell a volunteer their sign-in. Not these: a book's barcode label, a
# library card, a kiosk's key; they are printed on things scanned, so a clash refuses the move.
RENAMED_ON_CLASH = {("users", "username"), ("volunteers", "code"), ("tickets", "number"),
                    ("service_certificates", "number"), ("squads", "code"), ("grids", "code"),
                    ("compounds", "code"), ("buildings", "code"), ("units", "code")}


class MoveRefused(RuntimeError):  # noqa: N818 (a refusal, not a fault)
    """The centre is left as it was: the site holds another Pi's data, or rows clash."""


@dataclass
class TableMoved:
    name: str
    how: str
    moved: int = 0
    already: int = 0
    shared: int = 0
    note: str = ""


@dataclass
class MoveReport:
    site: str
    tables: list[TableMoved] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    first_run: bool = True

    def count(self, table: str) -> TableMoved:
        return next(t for t in self.tables if t.name == table)

    @property
    def moved(self) -> int:
        return sum(t.moved for t in self.tables)

    def text(self) -> str:
        lines = [f"district import into {self.site}: "
                 f"{'first run' if self.first_run else 'again (rows already moved are kept)'}",
                 f"{'table':<28} {'moved':>7} {'already':>8} {'shared':>7}"]
        empty = 0
        for t in self.tables:
            if t.how == "skipped":
                continue
            if not (t.moved or t.already or t.shared):
                empty += 1  # a table the Pi has no rows in: one line for them all, below
                continue
            lines.append(f"{t.name:<28} {t.moved:>7} {t.already:>8} {t.shared:>7}")
        lines.append(f"{'total':<28} {self.moved:>7} "
                     f"{sum(t.already for t in self.tables):>8} "
                     f"{sum(t.shared for t in self.tables):>7}")
        if empty:
            lines.append(f"({empty} more tables had no rows at the Pi)")
        if self.renamed:
            lines.append("renamed, as the centre had them already (reprint posters, tell people "
                         "their sign-in):")
            lines += [f"  {name}" for name in self.renamed]
        lines.append("skipped on purpose:")
        lines += [f"  {t.name}: {t.note}" for t in self.tables if t.how == "skipped"]
        return "\n".join(lines)


def _key(values: list[Any]) -> str:
    return json.dumps(values, default=str, ensure_ascii=False)


def source_fingerprint(source: Connection, tables: dict[str, Table]) -> str:
    """What identifies the Pi: its first sign-in, ticket, request and compound."""
    parts = []
    for name, columns in FINGERPRINT.items():
        table = tables.get(name)
        if table is None:
            continue
        cols = [table.c[c] for c in columns if c in table.c]
        row = source.execute(select(*cols).order_by(*table.primary_key.columns).limit(1)).first()
        parts.append(f"{name}:{_key(list(row) if row else [])}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


class _Mover:
    def __init__(self, source: Connection, centre: Connection, tables: dict[str, Table],
                 site: str, report: MoveReport) -> None:
        self.source, self.centre, self.tables = source, centre, tables
        self.site, self.report = site, report
        ids = tables[IDS]
        self.ids: dict[tuple[str, str], str] = {
            (row.table_name, row.old_key): row.new_key
            for row in centre.execute(select(ids).where(ids.c.site_id == site))}
        self.plans: dict[str, TablePlan] = {}

    # ------------------------------------------------------------------------- the guard

    def guard(self, fingerprint: str, site_tables: list[Table]) -> None:
        imports = self.tables[IMPORTS]
        before = self.centre.execute(select(imports).where(imports.c.site_id == self.site)
                                     ).first()
        if before is not None:
            if before.source != fingerprint:
                raise MoveRefused(
                    f"{self.site} already holds the data of another Pi (moved there on "
                    f"{before.first_at:%Y-%m-%d}): give this Pi its own site id")
            self.report.first_run = False
            return
        held = {t.name: n for t in site_tables if t.name != IMPORTS and (n := self.centre.execute(
            select(func.count()).select_from(t).where(t.c.site_id == self.site)).scalar_one())}
        if held:
            said = ", ".join(f"{name} {n}" for name, n in sorted(held.items()))
            raise MoveRefused(f"{self.site} already holds rows that did not come from this Pi "
                              f"({said}): give this Pi a new site id")

    def ensure_site(self) -> None:
        sites = self.tables["sites"]
        if self.centre.execute(select(sites.c.id).where(sites.c.id == self.site)).first():
            return
        tickets = self.tables["tickets"]
        home = self.source.execute(select(tickets.c.site_id).group_by(tickets.c.site_id)
                                   .order_by(func.count().desc()).limit(1)).scalar()
        row = self.source.execute(select(sites).where(sites.c.id == home)).mappings().first() \
            or self.source.execute(select(sites).order_by(sites.c.id).limit(1)).mappings().first()
        values = dict(row) if row else {"name_zh": self.site}
        values["id"] = self.site
        if "provisional" in sites.c:
            values["provisional"] = False
        self.centre.execute(insert(sites).values(**values))
        log.info("district import: site %s made from the Pi's %s", self.site,
                 row["id"] if row else "(none)")

    # ------------------------------------------------------------------------- the rows

    def move_table(self, plan: TablePlan) -> TableMoved:
        table = plan.table
        done = TableMoved(plan.name, plan.how, note=plan.reason)
        keys = list(table.primary_key.columns)
        clashes: list[str] = []
        recorded: list[dict[str, str]] = []
        for row in self.source.execute(select(table).order_by(*keys)).mappings():
            old_key = _key([row[c.name] for c in keys])
            if (plan.name, old_key) in self.ids:
                done.already += 1
                continue
            values = self._carried(plan, dict(row))
            if plan.renumbered:
                del values[keys[0].name]
            found = self._existing(plan, values)
            if found is not None:
                new_key = found
                done.shared += 1
            else:
                clash = self._clash(plan, values)
                if clash:
                    clashes.append(clash)
                    continue
                result = self.centre.execute(insert(table).values(**values))
                new_key = _key(list(result.inserted_primary_key or [])) if plan.renumbered \
                    else _key([values[c.name] for c in keys])
                done.moved += 1
            self.ids[(plan.name, old_key)] = new_key
            recorded.append({"site_id": self.site, "table_name": plan.name,
                             "old_key": old_key, "new_key": new_key})
        if clashes:
            raise MoveRefused(f"{plan.name}: {len(clashes)} rows clash with the centre's: "
                              + "; ".join(clashes[:5]) + (" …" if len(clashes) > 5 else ""))
        if recorded:
            self.centre.execute(insert(self.tables[IDS]), recorded)
        return done

    def _carried(self, plan: TablePlan, values: dict[str, Any]) -> dict[str, Any]:
        """The row as the centre keeps it: the site's id, and keys through the moved ids."""
        if "site_id" in values:
            values["site_id"] = self.site
        for column, target in plan.remapped:
            old = values[column]
            if old is None:
                continue
            new = self.ids.get((target, _key([old])))
            if new is None:
                if plan.table.c[column].nullable and not self.plans[target].moved:
                    values[column] = None  # it pointed at a row of a table not moved
                    continue
                raise MoveRefused(f"{plan.name}.{column} = {old}: the {target} row it points "
                                  "at was not moved")
            values[column] = json.loads(new)[0]
        return values

    def _existing(self, plan: TablePlan, values: dict[str, Any]) -> str | None:
        """The centre's own row to use instead of a new one: a shared row found by its key,
        or a text-keyed row of this site that is there already."""
        table = plan.table
        keys = list(table.primary_key.columns)
        if not plan.renumbered:
            row = self.centre.execute(select(table).where(and_(
                *(c == values[c.name] for c in keys)))).mappings().first()
            if row is None:
                return None
            if "site_id" in table.c and row["site_id"] != self.site:
                return None  # another site's: _clash names it
            return _key([row[c.name] for c in keys])
        if plan.how != "shared":
            return None
        for natural in plan.natural_keys:
            if any(values.get(c) is None for c in natural):
                continue
            hit = self.centre.execute(select(*keys).where(and_(
                *(table.c[c] == values[c] for c in natural)))).first()
            if hit is not None:
                return _key(list(hit))
        return None

    def _clash(self, plan: TablePlan, values: dict[str, Any]) -> str:
        """Why the row cannot be added ("" when it can); a clashing username is renamed."""
        table = plan.table
        keys = list(table.primary_key.columns)
        checks = list(plan.natural_keys)
        if not plan.renumbered:
            checks.append(tuple(c.name for c in keys))
        for natural in checks:
            if any(values.get(c) is None for c in natural):
                continue
            if not self._taken(table, natural, values):
                continue
            if len(natural) == 1 and (plan.name, natural[0]) in RENAMED_ON_CLASH:
                column = natural[0]
                was, new = values[column], f"{values[column]}-{self.site}"
                room = getattr(table.c[column].type, "length", None) or len(new)
                if len(new) <= room and not self._taken(table, natural, {column: new}):
                    values[column] = new
                    self.report.renamed.append(f"{plan.name}.{column} {was} -> {new}")
                    continue
            shown = ", ".join(f"{c} {values[c]!r}" for c in natural)
            return f"{shown} is already used at the centre"
        return ""

    def _taken(self, table: Table, columns: tuple[str, ...], values: dict[str, Any]) -> bool:
        keys = list(table.primary_key.columns)
        return self.centre.execute(select(*keys).where(and_(
            *(table.c[c] == values[c] for c in columns)))).first() is not None

    def record(self, fingerprint: str, now: datetime) -> None:
        imports = self.tables[IMPORTS]
        if self.report.first_run:
            self.centre.execute(insert(imports).values(site_id=self.site, source=fingerprint,
                                                       first_at=now, last_at=now, runs=1))
        else:
            self.centre.execute(update(imports).where(imports.c.site_id == self.site)
                                .values(last_at=now, runs=imports.c.runs + 1))


def move_pi(*, source: Engine, centre: Engine, site: str,
            now: Callable[[], datetime] | None = None) -> MoveReport:
    """Copy every moved table of ``source`` (a Pi's database, at the centre's schema) into
    ``centre`` under ``site``; raises :class:`MoveRefused` leaving the centre unchanged."""
    import server.all_models  # noqa: F401 (every table, for the plan)
    from server.models import Base, utcnow

    plans = plan_tables(Base.metadata)
    check_plans(plans)
    tables = {plan.name: plan.table for plan in plans}
    report = MoveReport(site=site)
    with source.connect() as src, centre.begin() as dst:
        mover = _Mover(src, dst, tables, site, report)
        mover.plans = {plan.name: plan for plan in plans}
        fingerprint = source_fingerprint(src, tables)
        # Text-keyed registers (tanks, nodes, the site's profile) may be there already, from
        # the bridge or the district admin: they are merged, and do not count as another's.
        mover.guard(fingerprint, [p.table for p in plans if p.how == "site" and p.renumbered])
        mover.ensure_site()
        for plan in plans:
            if plan.how == "skipped":
                report.tables.append(TableMoved(plan.name, plan.how, note=plan.reason))
                continue
            report.tables.append(mover.move_table(plan))
        mover.record(fingerprint, (now or utcnow)())
    counts = Counter({t.name: t.moved for t in report.tables if t.moved})
    log.info("district import into %s: %d rows moved (%s)", site, report.moved,
             ", ".join(f"{name} {n}" for name, n in counts.most_common()))
    return report
