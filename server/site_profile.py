"""What staff changed in the browser over the files' defaults: the site's own profile, and the
service categories they took over from config/categories.toml.

- :class:`SiteProfile`: one row per site. The phone number residents call, the opening hours
  (both languages) and the alerts' quiet hours, as a worker set them on the settings page
  (server/web/admin_site.py). A NULL column means "as the file says": the site file's
  ``[site] phone`` and alerts.toml's ``[quiet_hours]`` stay the defaults an installer sets.
- :class:`CategoryEdit`: a category staff edited, added or retired in the browser. From then on
  the database is the truth for it and the file no longer overrides it at start
  (``server.services.categories.sync_categories``); the file still seeds categories it names
  that the database does not have yet (an installer's bulk load, a new release's categories).

Registered in server/all_models.py; created by migration 0706. Read by server/services/
site_profile.py and server/services/category_admin.py; the alert book reads the quiet hours
through :func:`quiet_hours_override` (no import of the services layer).
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.models import Base, utcnow

__all__ = ["CategoryEdit", "SiteProfile", "quiet_hours_override"]


class SiteProfile(Base):
    """The site's settings a worker may change; NULL: the file's value."""

    __tablename__ = "site_profiles"
    site_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    opening_hours_zh: Mapped[str | None] = mapped_column(String(200))
    opening_hours_en: Mapped[str | None] = mapped_column(String(200))
    # "HH:MM" in the site's time zone; equal start and end: no quiet hours.
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CategoryEdit(Base):
    """A category staff took over in the browser: the file no longer overrides it."""

    __tablename__ = "category_edits"
    code: Mapped[str] = mapped_column(ForeignKey("categories.code"), primary_key=True)
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


def quiet_hours_override(db: Session, site_id: str) -> tuple[time, time] | None:
    """The quiet hours staff set for ``site_id``, or None for the alerts file's."""
    row = db.execute(select(SiteProfile.quiet_start, SiteProfile.quiet_end)
                     .where(SiteProfile.site_id == site_id)).first()
    if row is None or row.quiet_start is None or row.quiet_end is None:
        return None
    return time.fromisoformat(row.quiet_start), time.fromisoformat(row.quiet_end)
