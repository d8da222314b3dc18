"""Every admin part's router, gathered for ``server/web/pages.py``. A part adds its module to
``PARTS`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from server.web.admin import (
    audit_page,
    catalogue,
    equipment,
    equipment_records,
    home,
    imports,
    library,
    places,
    residents,
    site_settings,
    sites,
    users,
    volunteers,
)

__all__ = ["router"]

PARTS = (home, volunteers, users, residents, audit_page)
PARTS += (catalogue, places, site_settings, library)  # A3: catalogue, settings, library
PARTS += (equipment, equipment_records)  # A2: equipment, inspections, cleanings
PARTS += (imports,)  # bulk import of volunteers, places and books
PARTS += (sites,)  # the district admin's sites (server/sites/, issue 19)

router = APIRouter(include_in_schema=False)
for _part in PARTS:
    router.include_router(_part.router, include_in_schema=False)
