"""Every admin part's router, gathered for ``server/web/pages.py``. A part adds its module to
``PARTS`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from server.web.admin import home

__all__ = ["router"]

PARTS = (home,)

router = APIRouter(include_in_schema=False)
for _part in PARTS:
    router.include_router(_part.router, include_in_schema=False)
