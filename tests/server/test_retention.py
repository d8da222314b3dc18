"""Retention (issue 16, PIPL): with the injectable clock, a closed request's contact phone is
erased on day 181 (not on day 180), its photos with their files, the resident's own phone a year
on; the monthly figures are the same before and after; each daily run is one audit entry."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.app import _retention
from server.attachments import MemoryAttachmentStore
from server.audit_log import AuditEntry
from server.models import Resident, ServiceRequest
from server.photo_records import Photo
from server.services.figures import monthly_figures
from server.services.requests import confirm_done
from tests.server.conftest import FakeClock, file_request, sign_in


def _closed_request(client: TestClient, clock: FakeClock, **fields: object
                    ) -> dict[str, object]:
    filed = file_request(client, **fields)
    staff = sign_in(client, "staff")
    rows = client.get("/api/v1/tickets?limit=500", headers=staff).json()["tickets"]
    ticket_id = next(t["id"] for t in rows if t["number"] == filed["number"])
    proposals = client.get(f"/api/v1/tickets/{ticket_id}/proposals", headers=staff).json()
    vid = next(p["volunteer_id"] for p in proposals["proposals"] if p["given_name"] == "建国")
    assert client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=staff,
                       json={"volunteer_id": vid}).status_code == 200
    jianguo = sign_in(client, "lijianguo")
    for step in ("accept", "resolve"):
        assert client.post(f"/api/v1/tickets/{ticket_id}/{step}", headers=jianguo,
                           json={"note": "好了"}).status_code == 200
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        confirm_done(db, token=str(filed["phone_token"]), rating=5, comment="谢谢",
                     now=clock())
    return {**filed, "ticket_id": ticket_id}


def _request(client: TestClient, number: object) -> ServiceRequest:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        found = db.scalar(select(ServiceRequest).join(ServiceRequest.ticket)
                          .where(ServiceRequest.ticket.has(number=number)))
        assert found is not None
        db.expunge_all()
        return found


def _run_daily_job(client: TestClient) -> None:
    app = client.app
    with app.state.sessions() as db:  # type: ignore[attr-defined]
        _retention(app, db)  # type: ignore[arg-type]


def _figures(client: TestClient) -> list[object]:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return list(monthly_figures(db, year=2026, timezone="Asia/Shanghai"))


def test_a_closed_requests_phone_is_erased_on_day_181_and_the_figures_stay(
        client: TestClient, clock: FakeClock) -> None:
    store = MemoryAttachmentStore()
    client.app.state.attachments = store  # type: ignore[attr-defined]
    closed = _closed_request(client, clock, contact_phone="13800001234", room="502")
    still_open = file_request(client, contact_phone="13900005678", unit_code="C01-B01-U2")
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        keys = [store.put(b"jpeg", media_type="image/jpeg") for _ in range(2)]
        db.add(Photo(ticket_id=closed["ticket_id"], kind="resident", key=keys[0],
                     thumb_key=keys[1], width=10, height=10, size_bytes=4,
                     added_by="resident", created_at=clock()))
        db.commit()
    figures = _figures(client)

    clock.advance(days=180)
    _run_daily_job(client)
    assert _request(client, closed["number"]).contact_phone == "13800001234"
    assert len(store.files) == 2

    clock.advance(days=1)  # day 181
    _run_daily_job(client)
    erased = _request(client, closed["number"])
    assert (erased.contact_phone, erased.contact_name, erased.room) == (None, "", "")
    assert store.files == {}
    assert _request(client, still_open["number"]).contact_phone == "13900005678"
    assert _figures(client) == figures
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalar(select(func.count()).select_from(Photo)) == 0
        runs = db.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")
                          .order_by(AuditEntry.id)).all()
        assert [r.after["contacts"] for r in runs if r.after] == [0, 1]
        assert runs[-1].after and runs[-1].after["photos"] == 1
    # The hourly wake-up runs it once a day.
    clock.advance(hours=1)
    _run_daily_job(client)
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalar(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action == "retention.run")) == 2


def test_a_residents_own_phone_goes_a_year_after_their_last_request_closed(
        client: TestClient, clock: FakeClock) -> None:
    closed = _closed_request(client, clock, contact_phone="13700007777",
                             contact_name="李奶奶")
    resident_id = _request(client, closed["number"]).resident_id
    clock.advance(days=300)
    _run_daily_job(client)
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        resident = db.get(Resident, resident_id)
        assert resident is not None and resident.phone == "13700007777"
    clock.advance(days=66)
    _run_daily_job(client)
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        resident = db.get(Resident, resident_id)
        assert resident is not None and (resident.phone, resident.address_as) == (None, "")
