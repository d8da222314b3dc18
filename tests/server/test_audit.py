"""The audit log (issue 16): one entry per change and per sensitive read, with who, when, what,
before and after; append-only in the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from server.audit_log import AuditEntry
from server.models import User
from server.services import audit
from tests.server.conftest import FakeClock, file_request, sign_in


def _entries(client: TestClient, action: str) -> list[AuditEntry]:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        rows = db.scalars(select(AuditEntry).where(AuditEntry.action == action)
                          .order_by(AuditEntry.id)).all()
        db.expunge_all()
        return list(rows)


def test_an_entry_keeps_who_when_what_before_and_after(client: TestClient,
                                                        clock: FakeClock) -> None:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        admin = db.scalar(select(User).where(User.username == "admin"))
        before = audit.snapshot(admin, "display_name", "active", "created_at")
        audit.record(db, actor=admin, action="user.edit", subject=("user", admin.id),
                     before=before, after={**before, "display_name": "站长 王"}, now=clock())
        db.commit()
    [entry] = _entries(client, "user.edit")
    assert entry.actor_label and entry.actor_user_id is not None
    assert entry.at == clock() and entry.subject_kind == "user"
    assert entry.after is not None and entry.after["display_name"] == "站长 王"
    assert isinstance(entry.before and entry.before["created_at"], str)  # dates as ISO text


def test_the_database_refuses_to_change_or_delete_an_entry(client: TestClient,
                                                           clock: FakeClock) -> None:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        audit.record(db, actor=None, action="retention.run", subject=("site", "site-01"),
                     now=clock(), after={"erased": 0})
        db.commit()
        entry_id = db.scalar(select(AuditEntry.id).where(AuditEntry.action == "retention.run"))
        for statement in (update(AuditEntry).where(AuditEntry.id == entry_id)
                          .values(note="tampered"),
                          delete(AuditEntry).where(AuditEntry.id == entry_id)):
            with pytest.raises(DatabaseError, match="append-only"):
                db.execute(statement)
                db.commit()
            db.rollback()
        # Not even in raw SQL.
        with pytest.raises(DatabaseError, match="append-only"):
            db.execute(text("DELETE FROM audit_entries"))
        db.rollback()
    [entry] = _entries(client, "retention.run")
    assert entry.note == "" and entry.actor_label == audit.SYSTEM


def test_a_full_phone_number_shown_is_in_the_audit_log(client: TestClient) -> None:
    filed = file_request(client)
    staff = sign_in(client, "staff")
    rows = client.get("/api/v1/tickets?limit=500", headers=staff).json()["tickets"]
    ticket_id = next(t["id"] for t in rows if t["number"] == filed["number"])
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=staff).json()[
        "contact_phone"] == "13800001234"
    [entry] = _entries(client, "phone.reveal")
    assert (entry.subject_kind, entry.subject_id) == ("ticket", filed["number"])
    assert entry.actor_user_id is not None and "api" in entry.note
    # The number itself is not copied into the log.
    assert "13800001234" not in repr((entry.before, entry.after, entry.note))


def test_the_log_reads_back_filtered_and_paged(client: TestClient, clock: FakeClock) -> None:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        admin = db.scalar(select(User).where(User.username == "admin"))
        for i in range(7):
            audit.record(db, actor=admin, action="volunteer.edit", subject=("volunteer", i),
                         now=clock.advance(minutes=1))
        audit.record(db, actor="建国", action="phone.reveal", subject=("ticket", "R1"),
                     now=clock.advance(minutes=1))
        db.commit()
        first = audit.entries(db, what="volunteer", page=1, size=5)
        assert (first.total, first.pages, len(first.rows)) == (7, 2, 5)
        assert first.rows[0].subject_id == "6"  # newest first
        assert [e.action for e in audit.entries(db, reads=True).rows] == ["phone.reveal"]
        assert audit.entries(db, who="建国").total == 1
        assert audit.entries(db, since=clock() + timedelta(minutes=1)).total == 0
