"""Moving a single-site Pi's SQLite into a district's centre on a real PostgreSQL (issue 19).

Each Pi is the demo site after some real use through the server's own API and services: three
requests filed at its kiosk (each with its history), the library's catalog, two readers and
their loans. The centre is a new one: migrated, its categories loaded, no places yet. What a
district notices: every request, history row and loan is at the centre under the site, with its
place, person and book; a second run changes nothing; a second Pi goes into a site of its own
beside the first; a site holding another Pi's data is refused.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, select, text

from server.app import create_app
from server.db import make_engine, session_factory, upgrade
from server.district_move.cli import main as district_main
from server.district_move.move import MoveRefused, move_pi
from server.district_move.plan import PlanError, check_plans, plan_tables
from server.library import services as library
from server.library.rules import LendingPolicy
from server.models import Base, Resident
from server.services.categories import load_category_specs, sync_categories
from server.settings import load_server_settings
from tests.server.conftest import CONFIG, FakeClock, file_request, sqlite_template  # noqa: F401

pytestmark = pytest.mark.postgres

KIOSK = {"X-Kiosk-Key": "development-kiosk-key"}


# ------------------------------------------------------------------------------ the plan


def test_every_table_is_moved_or_skipped_with_a_reason() -> None:
    import server.all_models  # noqa: F401

    plans = plan_tables(Base.metadata)
    check_plans(plans)  # no table left unplaced
    assert {p.name for p in plans} == set(Base.metadata.tables)
    skipped = {p.name: p.reason for p in plans if p.how == "skipped"}
    assert all(len(reason) > 20 for reason in skipped.values()), skipped
    moved = {p.name for p in plans if p.moved}
    assert {"tickets", "service_requests", "ticket_events", "library_loans", "residents",
            "users", "photos", "units", "library_copies", "audit_entries"} <= moved
    assert {"user_sessions", "readings", "login_failures"} <= set(skipped)


def test_a_table_added_later_with_no_site_and_no_key_stops_the_move() -> None:
    import server.all_models  # noqa: F401

    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table("street_notes", metadata, Column("id", Integer, primary_key=True),
          Column("text", String(200)))
    with pytest.raises(PlanError, match="street_notes: neither moved nor skipped"):
        check_plans(plan_tables(metadata))


# ---------------------------------------------------------------------- the Pis, the centre


def make_pi(folder: Path, template: Path, *, residents: tuple[str, ...],
            asset_prefix: str = "", labels: str = "LB-") -> Path:
    """A Pi's database after some use: requests filed at the kiosk, books lent. Its tanks' and
    bays' ids start with ``asset_prefix``: a district's asset ids are unique across it, as its
    nodes publish them (config/district/site-02.toml); so are its books' barcode ``labels``."""
    folder.mkdir(parents=True)
    path = folder / "servicepoint.db"
    copy_sqlite(template, path)
    if asset_prefix:
        import server.all_models  # noqa: F401

        with closing(sqlite3.connect(path)) as connection, connection:
            connection.execute("PRAGMA foreign_keys=OFF")
            for table in Base.metadata.sorted_tables:
                if "asset_id" in table.c:
                    connection.execute(f"UPDATE {table.name} SET asset_id = ? || asset_id "
                                       "WHERE asset_id IS NOT NULL", (asset_prefix,))
    settings = load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": f"sqlite:///{path}", "SERVICEPOINT_ENVIRONMENT": "test",
        "SERVICEPOINT_DATA_DIR": str(folder / "data")})
    clock = FakeClock()
    app = create_app(settings, clock=clock, background=False)
    with TestClient(app) as client:
        for n, unit in enumerate(("C01-B01-U1", "C01-B02-U1", "C02-B01-U1")):
            client.headers.update(KIOSK)
            file_request(client, unit_code=unit, contact_phone=f"1380000{n:04d}",
                         description=f"漏水 {n}")
    app.state.engine.dispose()
    engine = make_engine(f"sqlite:///{path}")
    with session_factory(engine)() as db:
        report = library.import_catalog(
            db, text=(CONFIG / "library-demo.csv").read_text(encoding="utf-8")
            .replace("LB-", labels), now=clock())
        assert report.ok, report.rejected
        copies = _labels(db)
        for n, name in enumerate(residents):
            resident = Resident(address_as=name, phone=f"1390000{n:04d}")
            db.add(resident)
            db.commit()
            patron, _ = library.enrol_patron(db, resident_id=resident.id, now=clock())
            library.borrow(db, patron=patron, copy_id=copies[n], now=clock(),
                           policy=LendingPolicy(), client_id=uuid.uuid4().hex)
    engine.dispose()
    return path


def _labels(db: Any) -> list[str]:
    from server.library.models import Copy

    return [label for label in db.scalars(select(Copy.label).order_by(Copy.id))][:3]


@pytest.fixture(scope="module")
def pis(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path  # noqa: F811
        ) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pis")
    return {"a": make_pi(root / "a", sqlite_template, residents=("王阿姨", "李爷爷")),
            "b": make_pi(root / "b", sqlite_template, residents=("周奶奶",),
                         asset_prefix="s08-", labels="LC-"),
            "a-again": make_pi(root / "a-again", sqlite_template, residents=("吴大爷",))}


@pytest.fixture
def centre(postgres_cluster: Any) -> Iterator[Engine]:  # noqa: ANN401
    name = f"centre_{uuid.uuid4().hex[:10]}"
    postgres_cluster.execute_autocommit(f"CREATE DATABASE {name}")
    engine = make_engine(postgres_cluster.url(name))
    upgrade(engine)
    with session_factory(engine)() as db:
        sync_categories(db, specs=load_category_specs(CONFIG / "categories.toml"))
    yield engine
    engine.dispose()
    postgres_cluster.execute_autocommit(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a WAL-mode database, what is still in its -wal file included (a
    plain file copy can miss the last committed writes: seen in CI as a Pi's unrenamed bays)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def pi_engine(path: Path, tmp_path: Path) -> Engine:
    """A migrated copy of a Pi's file, as the command reads it."""
    copy = tmp_path / f"copy-{uuid.uuid4().hex[:6]}.db"
    copy_sqlite(path, copy)
    engine = make_engine(f"sqlite:///{copy}")
    upgrade(engine)
    return engine


REQUESTS = text("""
    SELECT t.number, t.category_code, t.status, u.code AS unit, r.client_id, r.phone_token,
           r.contact_phone, r.description, t.site_id
    FROM tickets t JOIN service_requests r ON r.ticket_id = t.id
    LEFT JOIN units u ON u.id = t.unit_id {where} ORDER BY r.client_id""")
HISTORY = text("""
    SELECT r.client_id, e.action, e.note FROM ticket_events e
    JOIN service_requests r ON r.ticket_id = e.ticket_id
    JOIN tickets t ON t.id = e.ticket_id {where} ORDER BY r.client_id, e.id""")
LOANS = text("""
    SELECT c.label, b.isbn, p.card_id, res.address_as, l.due_on, l.open_key = c.id AS open,
           l.site_id
    FROM library_loans l JOIN library_copies c ON c.id = l.copy_id
    JOIN library_books b ON b.id = c.book_id JOIN library_patrons p ON p.id = l.patron_id
    JOIN residents res ON res.id = p.resident_id {where} ORDER BY p.card_id""")


def rows(engine: Engine, query: Any, site: str | None = None) -> list[tuple[Any, ...]]:
    where = "WHERE t.site_id = :site" if site and "tickets t" in str(query) else \
        "WHERE l.site_id = :site" if site else ""
    with engine.connect() as connection:
        found = connection.execute(text(str(query).replace("{where}", where)),
                                   {"site": site} if site else {})
        return [tuple(_plain(value) for value in row) for row in found]


def _plain(value: Any) -> Any:  # noqa: ANN401
    """Values as both databases' raw SQL compares them (SQLite answers text and 0/1)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, date | datetime):
        return str(value)
    return value


def counts(engine: Engine) -> dict[str, int]:
    import server.all_models  # noqa: F401

    with engine.connect() as connection:
        return {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


def without_site(found: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [row[:-1] for row in found]


# ------------------------------------------------------------------------------ the moves


def test_every_request_history_row_and_loan_arrives_with_its_relations(
        pis: dict[str, Path], centre: Engine, tmp_path: Path) -> None:
    pi = pi_engine(pis["a"], tmp_path)
    report = move_pi(source=pi, centre=centre, site="site-07")

    at_pi, at_centre = rows(pi, REQUESTS), rows(centre, REQUESTS, "site-07")
    assert len(at_pi) == 3 and without_site(at_centre) == without_site(at_pi)
    assert {row[-1] for row in at_centre} == {"site-07"}
    assert rows(centre, HISTORY, "site-07") == rows(pi, HISTORY)
    assert len(rows(pi, HISTORY)) >= 3
    loans = rows(centre, LOANS, "site-07")
    assert without_site(loans) == without_site(rows(pi, LOANS)) and len(loans) == 2
    assert all(row[5] for row in loans)  # each still the open loan of its copy
    assert report.count("tickets").moved == 3 and report.count("library_loans").moved == 2
    assert report.count("readings").how == "skipped"
    with centre.connect() as connection:
        site = connection.execute(text("SELECT name_zh, provisional FROM sites "
                                       "WHERE id = 'site-07'")).one()
        owned = connection.execute(text(
            "SELECT count(*) FROM units u JOIN buildings b ON b.id = u.building_id "
            "WHERE u.site_id = 'site-07' AND b.site_id = 'site-07'")).scalar_one()
    assert site.name_zh and site.provisional is False
    assert owned == 64  # every unit of the demo, under its own building, at the site


def test_moving_the_same_pi_again_changes_nothing(pis: dict[str, Path], centre: Engine,
                                                  tmp_path: Path) -> None:
    pi = pi_engine(pis["a"], tmp_path)
    first = move_pi(source=pi, centre=centre, site="site-07")
    before = counts(centre)
    again = move_pi(source=pi, centre=centre, site="site-07")
    assert counts(centre) == before
    assert again.moved == 0 and not again.first_run
    assert again.count("tickets").already == 3
    assert sum(t.already for t in again.tables) == first.moved + sum(
        t.shared for t in first.tables)


def test_requests_the_pi_took_after_the_first_run_follow_on_the_next(
        pis: dict[str, Path], centre: Engine, tmp_path: Path) -> None:
    """The Pi kept working between the first run and the switch-over: only the new rows move."""
    later = tmp_path / "later.db"
    copy_sqlite(pis["a"], later)
    move_pi(source=pi_engine(later, tmp_path), centre=centre, site="site-07")
    settings = load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": f"sqlite:///{later}", "SERVICEPOINT_ENVIRONMENT": "test",
        "SERVICEPOINT_DATA_DIR": str(tmp_path / "data")})
    app = create_app(settings, clock=FakeClock(), background=False)
    with TestClient(app) as client:
        client.headers.update(KIOSK)
        file_request(client, unit_code="C03-B01-U1", description="停水")
    app.state.engine.dispose()
    pi = pi_engine(later, tmp_path)
    report = move_pi(source=pi, centre=centre, site="site-07")
    assert (report.count("tickets").moved, report.count("tickets").already) == (1, 3)
    assert without_site(rows(centre, REQUESTS, "site-07")) == without_site(rows(pi, REQUESTS))
    assert rows(centre, HISTORY, "site-07") == rows(pi, HISTORY)


def test_a_second_pi_goes_into_its_own_site_beside_the_first(pis: dict[str, Path],
                                                             centre: Engine,
                                                             tmp_path: Path) -> None:
    move_pi(source=pi_engine(pis["a"], tmp_path), centre=centre, site="site-07")
    first = rows(centre, REQUESTS, "site-07"), rows(centre, LOANS, "site-07")
    b = pi_engine(pis["b"], tmp_path)
    report = move_pi(source=b, centre=centre, site="site-08")

    assert (rows(centre, REQUESTS, "site-07"), rows(centre, LOANS, "site-07")) == first
    moved = rows(centre, REQUESTS, "site-08")
    at_pi = rows(b, REQUESTS)
    assert len(moved) == 3
    # The same demo at both Pis: a number or code the centre had already carries the site.
    for kept, was in zip(moved, at_pi, strict=True):
        assert kept[0] in (was[0], f"{was[0]}-site-08")
        assert kept[3] in (was[3], f"{was[3]}-site-08")
        assert kept[4:8] == was[4:8]
    assert all(line.endswith("-site-08") for line in report.renamed)
    loans = rows(centre, LOANS, "site-08")
    assert [row[3] for row in loans] == ["周奶奶"]
    with centre.connect() as connection:
        crossed = connection.execute(text(
            "SELECT count(*) FROM tickets t JOIN units u ON u.id = t.unit_id "
            "WHERE t.site_id <> u.site_id")).scalar_one()
    assert crossed == 0  # no ticket points at another site's place


def test_a_site_holding_another_pis_data_is_refused(pis: dict[str, Path], centre: Engine,
                                                   tmp_path: Path) -> None:
    move_pi(source=pi_engine(pis["a"], tmp_path), centre=centre, site="site-07")
    before = counts(centre)
    with pytest.raises(MoveRefused, match="site-07 already holds the data of another Pi"):
        move_pi(source=pi_engine(pis["b"], tmp_path), centre=centre, site="site-07")
    assert counts(centre) == before


def test_what_the_bridge_registered_before_the_move_does_not_stop_it(
        pis: dict[str, Path], centre: Engine, tmp_path: Path) -> None:
    """The Pi's node reported through the bridge first: the centre knows it under the site."""
    with centre.begin() as connection:
        connection.execute(text("INSERT INTO sites (id, name_zh, name_en, street, timezone, "
                                "provisional, created_at, version) VALUES ('site-07', '七号站', "
                                "'Site 7', '', 'Asia/Shanghai', false, now(), 1)"))
        connection.execute(text("INSERT INTO sensor_nodes (node_id, site_id, epoch, last_seq, "
                                "report_interval_s) VALUES ('pump-room', 'site-07', 1, 5, 60)"))
    report = move_pi(source=pi_engine(pis["a"], tmp_path), centre=centre, site="site-07")
    assert report.count("tickets").moved == 3
    with centre.connect() as connection:
        name = connection.execute(text("SELECT name_zh FROM sites WHERE id = 'site-07'")
                                  ).scalar_one()
    assert name == "七号站"  # the district admin's names are kept


def test_a_pi_whose_asset_ids_the_centre_has_is_refused(pis: dict[str, Path], centre: Engine,
                                                        tmp_path: Path) -> None:
    """A tank's id is what its sensor node publishes: it cannot be renamed on the way in."""
    move_pi(source=pi_engine(pis["a"], tmp_path), centre=centre, site="site-07")
    before = counts(centre)
    with pytest.raises(MoveRefused, match="asset_id '(ext|tank)-1' is already used at the centre"):
        move_pi(source=pi_engine(pis["a-again"], tmp_path), centre=centre, site="site-09")
    assert counts(centre) == before


def test_the_command_prints_what_was_moved_per_table(pis: dict[str, Path], centre: Engine,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    url = centre.url.render_as_string(hide_password=False)
    assert district_main(["import", str(pis["a"]), "--site", "site-07", "--database", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("district import into site-07: first run")
    tickets = next(line for line in out.splitlines() if line.startswith("tickets "))
    assert tickets.split() == ["tickets", "3", "0", "0"]
    assert "readings: the bridge carries" in out and "attachments" in out
    assert district_main(["import", str(pis["a"]), "--site", "site-07", "--database", url]) == 0
    again = capsys.readouterr().out
    assert "again (rows already moved are kept)" in again
    assert next(line for line in again.splitlines() if line.startswith("total")).split()[1] == "0"
    assert district_main(["import", str(pis["b"]), "--site", "site-07", "--database", url]) == 1
    assert "refused, nothing changed" in capsys.readouterr().err


def test_export_copies_the_pis_database(pis: dict[str, Path], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICEPOINT_DATABASE_URL", f"sqlite:///{pis['a']}")
    monkeypatch.setenv("SERVICEPOINT_ENVIRONMENT", "test")
    out = tmp_path / "pi-export.db"
    assert district_main(["export", "--out", str(out)]) == 0
    copy = make_engine(f"sqlite:///{out}")
    try:
        assert rows(copy, REQUESTS) == rows(make_engine(f"sqlite:///{pis['a']}"), REQUESTS)
    finally:
        copy.dispose()


def test_when_the_move_ran_is_recorded(pis: dict[str, Path], centre: Engine,
                                       tmp_path: Path) -> None:
    at = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
    move_pi(source=pi_engine(pis["a"], tmp_path), centre=centre, site="site-07",
            now=lambda: at)
    with centre.connect() as connection:
        runs = connection.execute(text("SELECT runs, first_at FROM district_imports "
                                       "WHERE site_id = 'site-07'")).one()
    assert runs.runs == 1 and runs.first_at.replace(tzinfo=UTC) == at
