"""The slots residents pick from for a service by appointment (预约上门): public like the category
list (times and free places, nothing about who booked), read by the kiosk and the phone form.

A kiosk sends its X-Kiosk-Key and is answered its own site's slots (a district centre serves
many sites: server/sites/); without a key, every site's.

Booking a slot is part of filing the request (``slot_id`` in ``POST /api/v1/requests``,
server/api/routes/public.py), so the place and the request are one transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.api import schemas
from server.api.deps import KioskIfAny, NowDep, SessionDep
from server.appointments.booking import open_slots

router = APIRouter()


@router.get("/api/v1/slots", response_model=schemas.SlotsPublic, tags=["public"],
            responses={404: {"model": schemas.ErrorPublic},
                       422: {"model": schemas.ErrorPublic}})
def slots(db: SessionDep, now: NowDep, _kiosk: KioskIfAny,
          category: Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]
          ) -> schemas.SlotsPublic:
    """The next 14 days' published slots of ``category`` that have not started, in time order,
    full ones included (``remaining`` 0), of the asking kiosk's site (its X-Kiosk-Key). A
    category not by appointment has none; an unknown category is a 404."""
    return schemas.SlotsPublic(slots=[
        schemas.SlotPublic(id=s.id, starts_at=s.starts_at, ends_at=s.ends_at,
                           capacity=s.capacity, remaining=s.remaining)
        for s in open_slots(db, category_code=category, now=now)])
