"""Two service points on one centre: nobody of one site reaches the other's rows, through any
route of the app, enumerated from the app itself (as test_api_access.py does) so a route added
tomorrow is checked without anyone remembering to.

Site A is the home site with the demo data; site B is added as the district admin adds one, with
its register and people (tests/district/site-02-people.toml) and, made through its own kiosk,
its own people and the services that make them: a request dispatched to and accepted by its
volunteer, with a photo and an alert; a book lent to its reader and held; a tank cleaning with
its lab report; an activity; an appointment slot with a booking. Then for every route, its path
filled with site B's ids and its body built from the route's own schema (so it passes
validation and the route's own lookup is what answers):

- site A's staff, squad leader and volunteer are refused wherever the path names a row of B
  (403, or 404 where the scoped session does not find B's row: docs/API.md, "Sites"; 409 for a
  district-unique id B holds), and B's residents (names and phones) appear in no answer to them,
  whatever the route;
- the street office reads both sites on its page, and every signed-in write refuses it;
- afterwards site B's rows are exactly as they were.

A path parameter the test cannot fill with a row of B fails the test unless it is listed in
``NOT_B_ROWS`` with the reason.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.alerts.rows import AlertRow
from server.api.deps import get_current_user, kiosk_or_staff
from server.app import create_app
from server.appointments.booking import take_place
from server.appointments.service import publish_slots
from server.attachments import attachment_store
from server.db import session_factory
from server.equipment.service import CleaningDetails, record_cleaning
from server.equipment.water import WaterSample
from server.library.models import Copy, Patron
from server.library.rules import LendingPolicy
from server.library.services import catalogue, lending, patrons
from server.models import Category, Resident, Role, Ticket, User, Volunteer
from server.photo_records import PhotoKind
from server.records.activities import create_activity
from server.security import hash_password
from server.services.photos import PhotoLimits, attach_photos, prepare_photo
from server.services.site_data import apply_site_data, load_site_data
from server.services.sites import new_kiosk_key
from server.settings import load_server_settings
from server.sites.models import Site
from server.sites.rules import SIGN_OUT_PATHS, SiteScope
from server.sites.scoping import scope_session
from server.web.common import web_user
from tests.access.test_api_access import _api_routes
from tests.server.conftest import CONFIG, PASSWORDS, FakeClock
from tests.web.conftest import CSRF

REPO = Path(__file__).resolve().parents[2]
SITE_A, SITE_B = "site-01", "site-02"
STREET = "劳动路街道"
B_NAME, B_PHONE = "谭秋菊的母亲", "13912340002"
B_READER, B_READER_PHONE = "湘江读者", "13912340003"
PASSWORD_B = {"s02-staff": "s02-staff-demo", "s02-admin": "s02-admin-demo",
              "s02-leader": "s02-leader-demo", "s02-volunteer": "s02-volunteer-demo"}
STREET_OFFICE = ("street1", "street-office-demo")
B_COPY = "S02-LB-0001"
BOOK_CSV = f"copy_id,title,author,isbn,category,shelf\n{B_COPY},湘江边的故事,二号站,,文学,B-1\n"

# Routes that end the caller's own sign-in (and so the rest of the walk): they touch nothing
# but the caller's own sessions.
OWN_SESSION_ONLY = SIGN_OUT_PATHS | {"/account/sign-out-all"}

# Public by design, for anyone (a city platform reads every request of the district through
# Open311, with no contact details): a row of B found there is no leak; its body is still
# checked for B's resident.
PUBLIC = ("/open311/",)

# Path parameters that do not name a row of a site, each with why.
NOT_B_ROWS = {
    "lang": "the page language (zh/en), no one's row",
    "fmt": "Open311's answer format (json/xml), no one's row",
    "kind": "a kind of place or sheet (compounds, volunteers...), no one's row",
    "token": "a capability link (status page, task link, activity sign-in): the secret token is "
             "the access, whatever the site, and site A's people do not hold B's tokens; a "
             "made-up one must find nothing",
    "client_id": "on /requests/{client_id}/recording the kiosk's own filing id, held only by the "
                 "kiosk that filed (checked with its key); on /admin/open311/{client_id} an "
                 "Open311 client of the district, no site's",
    "service_code": "Open311's service codes are the district's categories",
    "action": "what to do to the ticket in the path (filled with one the route takes)",
    "move": "signing in or out of an activity (in/out) found by its token",
    "outcome": "what became of a booking (done/no_show), found by the booking's id",
    "book_id": "a title of the district's shared catalogue (each site holds its own copies): "
               "filled with the title B holds, whose page must show none of B's copies",
}


@dataclass
class SiteB:
    ids: dict[str, str] = field(default_factory=dict)
    ticket_number: str = ""


def _copy_db(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "district.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def centre(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    settings = load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": _copy_db(sqlite_template, tmp_path),
        "SERVICEPOINT_DATA_DIR": str(tmp_path / "data"),
        "SERVICEPOINT_ENVIRONMENT": "test",
    })
    app = create_app(settings, clock=FakeClock(), background=False)
    with TestClient(app) as client:
        yield client, app
    app.state.engine.dispose()


def _sessions(app: Any) -> Any:
    return session_factory(app.state.engine)


def _as_site(db: Session, site: str) -> Session:
    scope_session(db, SiteScope(sites=frozenset({site}), acting=site))
    return db


def _add_site_b(client: TestClient, app: Any) -> SiteB:
    now = app.state.clock()
    sessions = _sessions(app)
    with sessions() as db:
        db.get(Site, SITE_A).street = STREET
        db.add(Site(id=SITE_B, name_zh="湘江社区服务站", name_en="Xiangjiang", street=STREET,
                    timezone="Asia/Shanghai"))
        db.flush()
        kiosk_key = new_kiosk_key(db, site=db.get(Site, SITE_B), now=now)
        db.add(User(username=STREET_OFFICE[0], password_hash=hash_password(STREET_OFFICE[1]),
                    role=Role.STREET_OFFICE.value, display_name="街道办", street=STREET,
                    active=True, created_at=now))
        db.commit()
    with _as_site(sessions(), SITE_B) as db:
        for register in (REPO / "config" / "district" / "site-02.toml",
                         REPO / "tests" / "district" / "site-02-people.toml"):
            apply_site_data(db, data=load_site_data(register))
        db.commit()

    b = SiteB()
    # A resident's request through B's kiosk, dispatched by B's leader, accepted by B's
    # volunteer: the ticket has a squad, an assignee and a history.
    filed = client.post("/api/v1/requests", headers={"X-Kiosk-Key": kiosk_key}, json={
        "client_id": uuid.uuid4().hex, "category": "water_electric",
        "unit_code": "S02-C01-B01-U1", "answers": {"problem": "leak"},
        "contact_name": B_NAME, "contact_phone": B_PHONE, "channel": "kiosk"})
    assert filed.status_code in (200, 201), filed.text
    b.ticket_number = filed.json()["number"]
    leader, volunteer = _bearer(client, "s02-leader"), _bearer(client, "s02-volunteer")
    with _as_site(sessions(), SITE_B) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.number == b.ticket_number)).one()
        helper = db.scalars(select(Volunteer).where(Volunteer.code == "s02-v01")).one()
        b.ids.update(ticket_id=str(ticket.id), volunteer_id=str(helper.id),
                     number=b.ticket_number, request_id=b.ticket_number)
    dispatched = client.post(f"/api/v1/tickets/{b.ids['ticket_id']}/dispatch", headers=leader,
                             json={"volunteer_id": int(b.ids["volunteer_id"]), "note": "请尽快"})
    assert dispatched.status_code == 200, dispatched.text
    accepted = client.post(f"/api/v1/tickets/{b.ids['ticket_id']}/accept", headers=volunteer)
    assert accepted.status_code == 200, accepted.text

    with _as_site(sessions(), SITE_B) as db:
        # A book, its copy lent to B's reader.
        report = catalogue.import_catalog(db, text=BOOK_CSV, now=now)
        assert report.ok, report.rejected
        reader = Resident(address_as=B_READER, phone=B_READER_PHONE)
        db.add(reader)
        db.flush()
        patron = patrons.enrol_patron(db, resident_id=reader.id, now=now, pin="2468")[0]
        lending.borrow(db, patron=patron, copy_id=B_COPY, now=now, policy=LendingPolicy())
        copy = db.scalars(select(Copy).where(Copy.label == B_COPY)).one()
        admin_b = db.scalars(select(User).where(User.username == "s02-admin")).one()
        activity = create_activity(db, title="湘江义诊", place="二号站活动室",
                                   starts_at=now + timedelta(days=2),
                                   ends_at=now + timedelta(days=2, hours=2), site_id=SITE_B,
                                   user=admin_b, now=now)
        staff_b = db.scalars(select(User).where(User.username == "s02-staff")).one()
        resident_b = db.scalars(select(Resident).where(Resident.phone == B_PHONE)).first()
        b.ids.update(resident_id=str(resident_b.id if resident_b else reader.id),
                     patron_id=str(patron.id), card_id=str(patron.card_id),
                     book_id=str(copy.book_id), copy_id=str(copy.id), label=B_COPY,
                     activity_id=str(activity.id),
                     user_id=str(staff_b.id), asset_id="s02-tank-1")
        db.commit()
    _more_of_site_b(app, b)
    return b


def _more_of_site_b(app: Any, b: SiteB) -> None:
    """The rest of what a site keeps, each made by the service that makes it: a hold on B's
    title, a photo of B's request, a tank cleaning with its lab report, an alert about B's
    request, and an appointment slot with a booking (the service made bookable for it:
    categories are the district's)."""
    now = app.state.clock()
    store = attachment_store(app.state.settings)
    with _as_site(_sessions(app)(), SITE_B) as db:
        staff_b = db.scalars(select(User).where(User.username == "s02-staff")).one()
        ticket = db.get(Ticket, int(b.ids["ticket_id"]))
        patron = db.get(Patron, int(b.ids["patron_id"]))
        hold = lending.place_hold(db, patron=patron, book_id=int(b.ids["book_id"]), now=now)
        picture = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 80, 40)).save(picture, format="JPEG")
        [photo] = attach_photos(db, store, ticket=ticket, kind=PhotoKind.RESIDENT,
                                added_by="resident", now=now, photos=[prepare_photo(
                                    picture.getvalue(), limits=PhotoLimits())])
        test = record_cleaning(
            db, asset_id="s02-tank-1", store=store, user=staff_b, now=now,
            timezone="Asia/Shanghai",
            details=CleaningDetails(cleaned_on=now.date(), company="湘江清洗公司",
                                    certificate_no="XJ-001", disinfectant="次氯酸钠",
                                    tested_on=now.date(), lab="长沙检测中心"),
            sample=WaterSample(turbidity_ntu=0.3, free_chlorine_mg_l=0.5,
                               coliforms_detected=False, colony_cfu_ml=10, colour=5,
                               odour_none=True),
            report=(b"%PDF-1.4\n% site B's lab report\n", "application/pdf"))
        alert = AlertRow(ticket_id=ticket.id, kind="request", urgent=False, site_id=SITE_B,
                         title=f"新工单 {b.ticket_number}", body="湘江小区 漏水",
                         created_at=now)
        db.add(alert)
        category = db.get(Category, "policy")
        category.by_appointment = True
        db.flush()
        [slot] = publish_slots(db, category_code="policy", day=(now + timedelta(days=3)).date(),
                               start=time(9), end=time(10), capacity=2, weeks=1, user=staff_b,
                               now=now, timezone="Asia/Shanghai", site_id=SITE_B)
        booking = take_place(db, slot=slot, ticket=ticket, now=now)
        db.commit()
        b.ids.update(hold_id=str(hold.id), photo_id=str(photo.id), test_id=str(test.id),
                     alert_id=str(alert.id), slot_id=str(slot.id), booking_id=str(booking.id),
                     site_id=SITE_B)


def _bearer(client: TestClient, username: str) -> dict[str, str]:
    password = PASSWORD_B.get(username) or PASSWORDS.get(username) or STREET_OFFICE[1]
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


class Person:
    """One signed-in person, by bearer token (the API) and by cookie with its CSRF token (the
    pages): each route is called the way its own callers call it."""

    def __init__(self, client: TestClient, username: str) -> None:
        self.username = username
        self.headers = _bearer(client, username)
        self.web = TestClient(client.app)
        self.web.__enter__()
        page = self.web.get("/login")
        password = PASSWORD_B.get(username) or PASSWORDS.get(username) or STREET_OFFICE[1]
        found = CSRF.search(page.text)
        assert found
        signed = self.web.post("/login", data={"username": username, "password": password,
                                               "csrf_token": found.group(1)},
                               follow_redirects=False)
        assert signed.status_code == 303, signed.text
        # One CSRF token serves every form of a sign-in (it is bound to the session cookie):
        # the pages' forms send it, so the refusals below are the site's, not the CSRF check's.
        token = CSRF.search(self.web.get(signed.headers["location"]).text)
        assert token, f"{username}'s home page has no form"
        self.csrf = token.group(1)

    def call(self, method: str, path: str, *, web: bool, body: Any) -> Any:
        if web:
            data = {**(body or {}), "csrf_token": self.csrf} if method != "GET" else None
            return self.web.request(method, path, data=data, follow_redirects=False)
        return self.web.request(method, path, headers=self.headers,
                                json=None if method in ("GET", "DELETE") else (body or {}),
                                follow_redirects=False, cookies={})

    def close(self) -> None:
        self.web.__exit__(None, None, None)


# --- the routes -----------------------------------------------------------------------------

def _is_web(path: str) -> bool:
    return not path.startswith(("/api/", "/open311/"))


def _fill(path: str, ids: dict[str, str]) -> tuple[str, list[str]]:
    """The path with B's ids, and which of its parameters name a row of B."""
    rows: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "token":
            rows.append(name)  # a made-up capability finds nothing
        if name in NOT_B_ROWS:
            return {"lang": "en", "fmt": "json", "kind": "compounds", "token": "x" * 43,
                    "client_id": uuid.uuid4().hex, "service_code": "water_electric",
                    "book_id": ids["book_id"], "move": "in", "outcome": "done",
                    "action": "close" if path.startswith("/staff") else "start"}[name]
        if name == "asset_id" and "extinguisher" in path:
            rows.append(name)
            return "s02-ext-1"
        if name == "label":
            rows.append(name)
            return ids["label"]
        if name == "code":
            rows.append(name)
            return "S02-C01" if path.startswith("/admin/places") else "s02-squad-1"
        if name in ids:
            rows.append(name)
            return ids[name]
        raise LookupError(name)

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path), rows


def _example(schema: dict[str, Any], defs: dict[str, Any], ids: dict[str, str]) -> Any:
    """A value the schema accepts (the body must pass validation, or the route's own check
    of the row never runs and a 422 would prove nothing)."""
    if "$ref" in schema:
        return _example(defs[schema["$ref"].rsplit("/", 1)[1]], defs, ids)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return _example(options[0], defs, ids)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    kind = schema.get("type", "string")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _field(name, sub, defs, ids) for name, sub in props.items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    return _text(schema)


def _field(name: str, schema: dict[str, Any], defs: dict[str, Any], ids: dict[str, str]) -> Any:
    if name in ids and schema.get("type") in ("integer", None, "string"):
        return int(ids[name]) if schema.get("type") == "integer" else ids[name]
    return _example(schema, defs, ids)


def _text(schema: dict[str, Any]) -> str:
    fmt, pattern = schema.get("format"), schema.get("pattern", "")
    if fmt == "date":
        return "2026-11-01"  # before the test clock's day: a date of manufacture or a test
    if fmt == "date-time":
        return "2026-12-10T09:00:00+08:00"
    choices = re.fullmatch(r"\^\(([\w|]+)\)\$", pattern)
    if choices:
        return choices.group(1).split("|")[0]
    if r"1\d{10}" in pattern:
        return "13800009999"
    if pattern.startswith(r"^\d"):
        return "1234"
    if "A-Za-z0-9" in pattern or "a-z0-9" in pattern:
        return "x1"
    return "测试" * max(1, schema.get("minLength", 1))


def _json_body(dependant: Any, ids: dict[str, str]) -> Any:
    for param in dependant.body_params:
        annotation = param.field_info.annotation
        if hasattr(annotation, "model_json_schema"):
            schema = annotation.model_json_schema()
            return _example(schema, schema.get("$defs", {}), ids)
    return {}


def _form_body(dependant: Any, ids: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(d: Any) -> None:
        for param in d.body_params:
            if "UploadFile" in repr(param.field_info.annotation):
                continue  # a photo is optional on every form; "1" is no file
            found[param.alias] = ids.get(param.alias, "1")
        for sub in d.dependencies:
            walk(sub)

    walk(dependant)
    found.pop("csrf_token", None)
    return found


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    found = {}
    for path, methods, dependant in _api_routes(app.routes):
        for method in methods - {"HEAD", "OPTIONS"}:
            found[(method, path)] = dependant
    return [(method, path, found[(method, path)]) for method, path in sorted(found)]


def _body(method: str, path: str, dependant: Any, ids: dict[str, str]) -> Any:
    if method == "GET":
        return None
    return _form_body(dependant, ids) if _is_web(path) else _json_body(dependant, ids)


def _needs_sign_in(dependant: Any) -> bool:
    """Whether a route acts as the signed-in caller (the API's or the pages' sign-in). The
    others are the public's (filing, lookup, the phone form, Open311, signing in), open to
    anyone as anyone."""
    return any(sub.call in (get_current_user, web_user, kiosk_or_staff)
               or _needs_sign_in(sub) for sub in dependant.dependencies)


def _site_b_state(app: Any) -> str:
    """A digest of every row of site B (every table with a site_id), and of B's ticket's
    history: what must not change."""
    digest = hashlib.sha256()
    with app.state.engine.connect() as conn:
        tables = [name for name in conn.dialect.get_table_names(conn)
                  if "site_id" in {c["name"] for c in conn.dialect.get_columns(conn, name)}]
        for name in sorted(tables):
            if "audit" in name:
                continue  # reads are logged (who looked at what): a log line is not a change
            rows = conn.execute(text(f'SELECT * FROM "{name}" WHERE site_id = :s ORDER BY 1'),
                                {"s": SITE_B}).fetchall()
            digest.update(json.dumps([name, [list(map(str, r)) for r in rows]]).encode())
        events = conn.execute(text(
            "SELECT e.* FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
            "WHERE t.site_id = :s ORDER BY e.id"), {"s": SITE_B}).fetchall()
        digest.update(json.dumps([list(map(str, r)) for r in events]).encode())
    return digest.hexdigest()


# 403: a write to another site's row, or a role's refusal; 404: the scoped session does not
# find another site's row (docs/API.md, "Sites"); 409: a put by a district-unique id (an asset
# id) that another site holds is refused as taken, never made a second time.
REFUSED = {403, 404, 409}


def test_site_a_reaches_nothing_of_site_b_on_any_route(centre) -> None:  # type: ignore[no-untyped-def]
    client, app = centre
    b = _add_site_b(client, app)
    before = _site_b_state(app)
    people = [Person(client, name) for name in ("staff", "leader1", "lijianguo")]
    failures: list[str] = []
    unfilled: set[str] = set()
    of_b = 0
    try:
        for method, path, dependant in _routes(app):
            if path in OWN_SESSION_ONLY:
                continue
            try:
                url, rows = _fill(path, b.ids)
            except LookupError as missing:
                unfilled.add(f"{path}: {missing}")
                continue
            body = _body(method, path, dependant, b.ids)
            public = path.startswith(PUBLIC)
            of_b += bool(rows and not public)
            for person in people:
                reply = person.call(method, url, web=_is_web(path), body=body)
                if reply.status_code in (307, 308):  # an old address of the same page
                    moved = reply.headers["location"]
                    reply = person.call(method, moved, web=_is_web(moved), body=body)
                if rows and not public and reply.status_code not in REFUSED:
                    failures.append(f"{person.username} {method} {url} -> "
                                    f"{reply.status_code} {reply.headers.get('location', '')}")
                if "{book_id}" in path and method == "GET" and B_COPY in reply.text:
                    failures.append(f"{person.username} {method} {url} lists B's copy")
                for secret in (B_NAME, B_PHONE, B_READER, B_READER_PHONE):
                    if secret in reply.text:
                        failures.append(f"{person.username} {method} {url} shows {secret}")
    finally:
        for person in people:
            person.close()
    print("\n".join(sorted(unfilled) + failures))  # noqa: T201  (the whole list, on failure)
    assert sorted(unfilled) == [], "path parameters with no row of B to fill them"
    assert of_b >= 80, f"only {of_b} routes named a row of B: the enumeration lost routes"
    assert failures == []
    assert _site_b_state(app) == before, "site B's rows changed"


def test_the_street_office_reads_both_sites_and_changes_nothing(centre) -> None:  # type: ignore[no-untyped-def]
    client, app = centre
    b = _add_site_b(client, app)
    before = _site_b_state(app)
    office = Person(client, STREET_OFFICE[0])
    failures = []
    writes = 0
    try:
        for method, path, dependant in _routes(app):
            if method == "GET" or path in OWN_SESSION_ONLY or not _needs_sign_in(dependant):
                continue
            try:
                url, _rows = _fill(path, b.ids)
            except LookupError:
                url = re.sub(r"\{(\w+)(?::\w+)?\}", "1", path)
            reply = office.call(method, url, web=_is_web(path),
                                body=_body(method, path, dependant, b.ids))
            writes += 1
            if reply.status_code not in REFUSED:
                failures.append(f"{method} {url} -> {reply.status_code} "
                                f"{reply.headers.get('location', '')}")
        # Its own page: every site of its street side by side with this month's figures.
        overview = office.call("GET", "/street", web=True, body=None)
        assert overview.status_code == 200, overview.text
        assert "劳动路社区服务站" in overview.text and "湘江社区服务站" in overview.text
        for secret in (B_NAME, B_PHONE, B_READER, B_READER_PHONE):
            assert secret not in overview.text  # figures, not people
        # A site's staff read their own site's figures, not the street's.
        staff = Person(client, "staff")
        try:
            assert staff.call("GET", "/street", web=True, body=None).status_code in REFUSED
        finally:
            staff.close()
    finally:
        office.close()
    print("\n".join(failures))  # noqa: T201  (the whole list, on failure)
    assert writes >= 60, f"only {writes} writes tried: the enumeration lost routes"
    assert failures == []
    assert _site_b_state(app) == before
