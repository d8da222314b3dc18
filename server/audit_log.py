"""The audit log's table: one row per change made on the admin pages and per sensitive read (a
full phone number shown, a resident's data exported or erased).

Beside server/models.py like server/task_access.py, registered in server/all_models.py, created
by migration 0704, which also installs a trigger on SQLite and PostgreSQL that refuses UPDATE and
DELETE: the log is append-only in the database itself, not only by convention. Rows are written
only through :func:`server.services.audit.record`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, SiteScoped, utcnow

__all__ = ["AuditEntry"]


class AuditEntry(SiteScoped, Base):
    """Who did what to which record, when, and the record before and after (JSON).

    ``action`` is ``<kind>.<verb>`` (``volunteer.deactivate``, ``resident.export``,
    ``phone.reveal``); ``subject_kind`` and ``subject_id`` name the record (its table's word and
    its key as text, so a code or a number fit alike).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_subject", "subject_kind", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject_kind: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    note: Mapped[str] = mapped_column(Text, default="")
    # The site whose record it is (server/sites/: an admin reads only their site's log); NULL
    # for the district admin's own changes to sites.
    site_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("sites.id"), index=True)
