"""The server-rendered web pages, gathered into one router for the app factory.

Mobile first, Simplified Chinese by default with English a tap away on every page (the toggle
keeps the choice in a cookie; ``?lang=en`` works on any link). Pages call the same services as
the JSON API, so the rights and the lifecycle are decided in one place.

    app.include_router(pages.router)
    pages.mount_static(app)

Who sees what:
- ``/r/<token>``: the resident's phone page (server/web/phone.py), no sign-in;
- ``/l/<token>``: a reader's library loans, with renewal (server/web/loans.py), no sign-in;
- ``/login``, ``/logout``, ``/lang/<zh|en>``: server/web/auth.py;
- ``/v``: a volunteer's tasks (server/web/volunteer.py); ``/v/t/<token>``: one task by the
  volunteer's one-tap link, no password (server/web/task_link.py);
- ``/account``: change my password, sign out everywhere (server/web/auth.py);
- ``/staff``…: the queue, tickets, figures (server/web/staff.py) and the site's sensors and
  alerts (server/web/site.py) for staff and squad leaders.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from server.web import (
    activities,
    appointments,
    auth,
    ledgers,
    loans,
    lookup,
    new_request,
    phone,
    records,
    site,
    staff,
    staff_filing,
    street,
    task_link,
    volunteer,
)
from server.web.admin import routes as admin_routes
from server.web.common import HERE
from server.web.photos import router as photos_router
from server.web.recordings import router as recordings_router

__all__ = ["mount_static", "router"]

router = APIRouter(include_in_schema=False)
for _part in (auth, phone, loans, task_link, volunteer, staff, site):
    router.include_router(_part.router, include_in_schema=False)
router.include_router(photos_router, include_in_schema=False)  # /photos, …/photos/<id>
router.include_router(recordings_router, include_in_schema=False)  # …/recording: spoken
router.include_router(admin_routes.router, include_in_schema=False)  # /admin: admin/routes.py
router.include_router(new_request.router, include_in_schema=False)  # /new: the phone form
router.include_router(lookup.router, include_in_schema=False)  # /lookup: by number + phone
router.include_router(staff_filing.router, include_in_schema=False)  # /staff/new: 代办
router.include_router(records.router, include_in_schema=False)  # service records, /c/<token>
router.include_router(activities.router, include_in_schema=False)  # /staff/activities, /a/<token>
router.include_router(ledgers.router, include_in_schema=False)  # /staff/ledger.xlsx: 台账
router.include_router(appointments.router, include_in_schema=False)  # /staff/appointments
router.include_router(street.router, include_in_schema=False)  # /street: the street office


def mount_static(app: FastAPI) -> None:
    """Serve the pages' CSS and JavaScript under /static."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
