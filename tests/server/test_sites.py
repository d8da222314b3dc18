"""Sites everywhere (issue 19): one site's rows are invisible and unchangeable to another
site's people, through the scoped session and through the routes; new rows take their site;
the migration places an installed Pi's rows under its site."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from server.audit_log import AuditEntry
from server.errors import Forbidden
from server.models import Building, Compound, Squad, Ticket, Unit, User
from server.security import hash_password
from server.sensing.models import Tank
from server.services.sites import new_kiosk_key
from server.sites.models import Site
from server.sites.rules import SiteScope
from server.sites.scoping import SiteRefused, scope_session
from tests.server.conftest import file_request, sign_in

STREET = "劳动路街道"
PASSWORD = "site-two-demo"


@pytest.fixture
def two_sites(client: TestClient) -> Iterator[TestClient]:
    """The demo site (site-01) and a second, site-02, with a compound, a building, a unit and
    a staff member, both on one street with a street-office user."""
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        db.get(Site, "site-01").street = STREET
        db.add(Site(id="site-02", name_zh="二号服务站", name_en="Site Two", street=STREET))
        db.flush()  # no relationship tells the flush that sites go first
        compound = Compound(code="S2-C01", name_zh="二号小区", site_id="site-02")
        building = Building(code="S2-B01", name="1栋", compound=compound)  # site from compound
        db.add_all([compound, building, Unit(code="S2-B01-U1", name="1单元", building=building)])
        db.add_all([
            User(username="staff2", password_hash=hash_password(PASSWORD), role="staff",
                 display_name="二号站工作人员", site_id="site-02"),
            User(username="jiedao", password_hash=hash_password(PASSWORD),
                 role="street_office", display_name="街道办", street=STREET),
        ])
        db.commit()
    yield client


def _sign_in(client: TestClient, username: str) -> dict[str, str]:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def _ticket_id(client: TestClient, number: str) -> int:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return db.scalars(select(Ticket.id).where(Ticket.number == number)).one()


def test_a_request_filed_for_a_site_b_building_belongs_to_site_b(two_sites: TestClient) -> None:
    filed = file_request(two_sites, unit_code="S2-B01-U1")
    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.scalars(select(Ticket).where(Ticket.number == filed["number"])).one()
        assert ticket.site_id == "site-02"
        assert ticket.request is not None and ticket.request.resident is not None
        assert ticket.request.resident.site_id == "site-02"
        assert db.scalars(select(Unit.site_id).where(Unit.code == "S2-B01-U1")).one() \
            == "site-02"  # a unit takes its building's site, a building its compound's


def test_site_a_staff_neither_see_nor_change_a_site_b_request(two_sites: TestClient) -> None:
    theirs = _ticket_id(two_sites, str(file_request(two_sites, unit_code="S2-B01-U1")["number"]))
    ours = _ticket_id(two_sites, str(file_request(two_sites)["number"]))
    staff = sign_in(two_sites, "staff")
    listed = {t["id"] for t in two_sites.get("/api/v1/tickets", headers=staff).json()["tickets"]}
    assert ours in listed and theirs not in listed
    assert two_sites.get(f"/api/v1/tickets/{theirs}", headers=staff).status_code == 404
    dispatch = two_sites.post(f"/api/v1/tickets/{theirs}/dispatch", headers=staff,
                              json={"volunteer_id": 1})
    assert dispatch.status_code == 404
    assert dispatch.json()  # a JSON body, not a bare error
    # and the other way round: site B's staff see theirs and not ours
    other = _sign_in(two_sites, "staff2")
    assert two_sites.get(f"/api/v1/tickets/{theirs}", headers=other).status_code == 200
    assert two_sites.get(f"/api/v1/tickets/{ours}", headers=other).status_code == 404


def test_the_street_office_reads_and_changes_nothing(two_sites: TestClient) -> None:
    theirs = _ticket_id(two_sites, str(file_request(two_sites, unit_code="S2-B01-U1")["number"]))
    office = _sign_in(two_sites, "jiedao")
    reply = two_sites.post(f"/api/v1/tickets/{theirs}/dispatch", headers=office,
                           json={"volunteer_id": 1})
    assert reply.status_code == 403
    assert two_sites.post("/api/v1/requests", headers=office, json={
        "client_id": "street-office-try", "category": "water_electric",
        "unit_code": "C01-B01-U1", "answers": {"problem": "leak"}}).status_code == 403
    # it reads both sites' figures, side by side and in total
    file_request(two_sites)
    figures = two_sites.get("/api/v1/street/figures?year=2026", headers=office)
    assert figures.status_code == 200, figures.text
    by_site = {s["site"]: sum(f["requests"] for f in s["figures"])
               for s in figures.json()["sites"]}
    assert by_site == {"site-01": 1, "site-02": 1}
    assert sum(m["requests"] for m in figures.json()["total"]) == 2
    overview = two_sites.get("/api/v1/street/overview", headers=office).json()
    assert [line["site"] for line in overview["sites"]] == ["site-01", "site-02"]
    assert overview["total"]["open_requests"] == 2
    # a site's staff read their own figures only, and not the street's
    staff = sign_in(two_sites, "staff")
    assert two_sites.get("/api/v1/street/figures?year=2026", headers=staff).status_code == 403
    mine = two_sites.get("/api/v1/figures/monthly?year=2026", headers=staff).json()["figures"]
    assert sum(f["requests"] for f in mine) == 1
    assert two_sites.post("/api/v1/auth/logout", headers=office).status_code == 204


def test_a_kiosk_number_another_site_used_gets_a_new_one(two_sites: TestClient) -> None:
    """Request numbers are the district's: site B's kiosk numbering like site A's gets a
    server number for its request (never a refusal), and the request is site B's."""
    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        key = new_kiosk_key(db, site=db.get(Site, "site-02"),  # type: ignore[arg-type]
                            now=two_sites.app.state.clock())  # type: ignore[attr-defined]
        db.commit()
    home_key = two_sites.app.state.settings.security.kiosk_key  # type: ignore[attr-defined]
    body = {"category": "water_electric", "answers": {"problem": "leak"}, "number": "K1-0001"}
    first = two_sites.post("/api/v1/requests", headers={"X-Kiosk-Key": home_key},
                           json={**body, "client_id": "site-a-0001", "unit_code": "C01-B01-U1"})
    assert first.status_code == 201, first.text
    second = two_sites.post("/api/v1/requests", headers={"X-Kiosk-Key": key},
                            json={**body, "client_id": "site-b-0001", "unit_code": "S2-B01-U1"})
    assert second.status_code == 201, second.text
    assert second.json()["number"] != "K1-0001"
    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalars(select(Ticket.site_id).where(
            Ticket.number == second.json()["number"])).one() == "site-02"
    # and a site-B kiosk cannot file for a site-A place: not in its site
    wrong = two_sites.post("/api/v1/requests", headers={"X-Kiosk-Key": key},
                           json={**body, "client_id": "site-b-0002", "unit_code": "C01-B01-U1"})
    assert wrong.status_code in (404, 422), wrong.text


def test_a_kiosk_sees_its_own_sites_places_and_looks_up_there(two_sites: TestClient) -> None:
    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        key = new_kiosk_key(db, site=db.get(Site, "site-02"),  # type: ignore[arg-type]
                            now=two_sites.app.state.clock())  # type: ignore[attr-defined]
        db.commit()
    theirs = file_request(two_sites, unit_code="S2-B01-U1", contact_phone="13900002222")
    ours = file_request(two_sites, contact_phone="13900001111")
    places = two_sites.get("/api/v1/places", headers={"X-Kiosk-Key": key}).json()
    assert [c["code"] for c in places["compounds"]] == ["S2-C01"]
    everyone = two_sites.get("/api/v1/places").json()  # a phone: the public list, as before
    assert "S2-C01" in [c["code"] for c in everyone["compounds"]]
    found = two_sites.post("/api/v1/requests/lookup", headers={"X-Kiosk-Key": key},
                           json={"number": theirs["number"], "phone_last4": "2222"})
    assert found.status_code == 200, found.text
    other = two_sites.post("/api/v1/requests/lookup", headers={"X-Kiosk-Key": key},
                           json={"number": ours["number"], "phone_last4": "1111"})
    assert other.status_code == 404  # site A's request is not found at site B's kiosk


def test_another_sites_tank_log_is_not_found(two_sites: TestClient) -> None:
    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        db.add(Tank(asset_id="s2-tank-1", site_id="site-02", name="二号站水箱",
                    last_cleaned_on=date(2026, 6, 1)))
        db.commit()
    staff, other = sign_in(two_sites, "staff"), _sign_in(two_sites, "staff2")
    assert two_sites.get("/api/v1/tanks/s2-tank-1/cleanings", headers=staff).status_code == 404
    assert two_sites.get("/api/v1/tanks/s2-tank-1/cleanings", headers=other).status_code == 200


def _scoped(client: TestClient, scope: SiteScope) -> Session:
    db: Session = client.app.state.sessions()  # type: ignore[attr-defined]
    scope_session(db, scope)
    return db


def test_the_scoped_session_hides_and_guards_another_sites_rows(two_sites: TestClient) -> None:
    site_a = SiteScope(sites=frozenset({"site-01"}), acting="site-01")
    with _scoped(two_sites, site_a) as db:
        assert db.scalars(select(Building.code).where(Building.code == "S2-B01")).all() == []
        joined = select(func.count()).select_from(Unit).join(Building) \
            .where(Building.code.like("S2-%"))
        assert db.scalar(joined) == 0
        assert db.get(Compound, _id_of(two_sites, "S2-C01")) is None
        changed = db.execute(update(Building).where(Building.code == "S2-B01")
                             .values(name="改了")).rowcount  # type: ignore[attr-defined]
        assert changed == 0
        squad = Squad(code="A-NEW", name="新分队")  # no site given: the acting site's
        db.add(squad)
        db.flush()
        assert squad.site_id == "site-01"
        db.add(Squad(code="B-NEW", name="别站的分队", site_id="site-02"))
        with pytest.raises(SiteRefused):
            db.flush()
        db.rollback()
    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalars(select(Building.name).where(Building.code == "S2-B01")).one() == "1栋"


def test_a_read_only_scope_refuses_every_change(two_sites: TestClient) -> None:
    street = SiteScope(sites=frozenset({"site-01", "site-02"}), acting=None, read_only=True)
    with _scoped(two_sites, street) as db:
        building = db.scalars(select(Building).where(Building.code == "S2-B01")).one()
        building.name = "改了"
        with pytest.raises(SiteRefused) as refused:
            db.flush()
        assert isinstance(refused.value, Forbidden)


def _id_of(client: TestClient, code: str) -> int:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return db.scalars(select(Compound.id).where(Compound.code == code)).one()


def test_the_migration_places_an_installed_pis_rows_under_its_site(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A Pi's database from before sites: every row is backfilled with the site its tickets
    name (provisional), and the server's start renames it to the settings' id once."""
    from alembic import command

    from server.db import alembic_config, make_engine, session_factory, upgrade
    from server.services.sites import HomeSite, ensure_home_site

    url = f"sqlite:///{tmp_path / 'pi.db'}"
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0708")
    with engine.begin() as connection:
        for sql in (
            "INSERT INTO squads (id, code, name) VALUES (1, 'SQ1', '一分队')",
            "INSERT INTO compounds (id, code, name_zh, name_en) VALUES (1, 'C01', '老小区', '')",
            "INSERT INTO buildings (id, code, name, compound_id) VALUES (1, 'C01-B01', '1栋', 1)",
            "INSERT INTO units (id, code, name, building_id) VALUES (1, 'C01-B01-U1', '1单元', 1)",
            "INSERT INTO users (id, username, password_hash, role, display_name, active, "
            "created_at, version) VALUES (1, 'staff', 'x', 'staff', '', 1, '2026-01-01', 1)",
            "INSERT INTO categories (code, name_zh, name_en, skill, target_hours, priority, kiosk,"
            " public, group_zh, group_en, active, sort_order, questions, by_appointment) VALUES"
            " ('pipe', '管道疏通', 'Pipes', 'plumbing', 24, 'normal', 1, 1, '', '', 1, 0, '[]', 0)",
            "INSERT INTO tickets (id, number, kind, category_code, title, status, priority, "
            "site_id, unit_id, created_at, updated_at) VALUES (1, 'R-1', 'request', 'pipe', '', "
            "'new', 'normal', 'laodong-01', 1, '2026-01-01', '2026-01-01')",
            "INSERT INTO audit_entries (id, at, actor_label, action, subject_kind, subject_id, "
            "note) VALUES (1, '2026-01-01', '系统', 'user.add', 'user', '1', '')",
        ):
            connection.exec_driver_sql(sql)
    upgrade(engine)
    with session_factory(engine)() as db:
        site = db.get(Site, "laodong-01")
        assert site is not None and site.provisional
        assert db.scalars(select(Unit.site_id)).one() == "laodong-01"
        assert db.scalars(select(User.site_id)).one() == "laodong-01"
        # the settings say otherwise: the start renames the guess, on every row, once
        ensure_home_site(db, home=HomeSite(id="site-09", name_zh="九号站", name_en="Nine",
                                           timezone="Asia/Shanghai"))
    with session_factory(engine)() as db:
        assert [s.id for s in db.scalars(select(Site))] == ["site-09"]
        assert db.scalars(select(Ticket.site_id)).one() == "site-09"
        assert db.scalars(select(Squad.site_id)).one() == "site-09"
        assert db.scalars(select(User.site_id)).one() == "site-09"
        assert db.scalars(select(AuditEntry.site_id)).one() == "site-09"
        assert not db.get(Site, "site-09").provisional  # type: ignore[union-attr]
    with engine.begin() as connection, pytest.raises(DatabaseError, match="append-only"):
        connection.exec_driver_sql("UPDATE audit_entries SET note = 'tampered'")  # still guarded
    engine.dispose()


def test_a_site_file_naming_a_known_site_loads_into_that_site(two_sites: TestClient) -> None:
    from server.services.site_data import SiteData, SquadSpec, apply_site_data

    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        apply_site_data(db, data=SiteData(site_id="site-02", squad=[
            SquadSpec(code="S2-SQ1", name="二号站第一小分队")]))
        db.commit()
    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalars(select(Squad.site_id).where(Squad.code == "S2-SQ1")).one() \
            == "site-02"
