"""``POST /api/v1/kiosk/heartbeat``: each kiosk's word every minute that it is alive, and what
its outbox holds (server/services/kiosk_heartbeats.py keeps it; kiosk/heartbeat.py sends it).

Taken only with a kiosk's ``X-Kiosk-Key`` (no key or a wrong one: 401 JSON), which names the
kiosk's site; a body that is not a heartbeat is 422 JSON, as everywhere in the API::

    POST /api/v1/kiosk/heartbeat  {"kiosk_id": "K1", "queued": 0, "oldest_queued_s": null,
                                   "outbox_damaged": false, "version": "0.1.0",
                                   "place": "大厅"}
    200 {"ok": true}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, ConfigDict, Field

from server.api import schemas
from server.api.deps import NowDep, SessionDep, SettingsDep, kiosk_site
from server.errors import NotAuthenticated
from server.services.kiosk_heartbeats import Heartbeat, record_heartbeat

__all__ = ["KioskHeartbeatCreate", "router"]

router = APIRouter(prefix="/api/v1/kiosk", tags=["kiosk"])


class KioskHeartbeatCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kiosk_id: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,3}$")
    queued: int = Field(ge=0, le=1_000_000)
    # Seconds the oldest queued request has waited; null when none waits.
    oldest_queued_s: int | None = Field(default=None, ge=0, le=10 * 365 * 86400)
    outbox_damaged: bool = False
    version: str = Field(default="", max_length=40)
    place: str = Field(default="", max_length=80)


class KioskHeartbeatPublic(BaseModel):
    ok: bool = True


def kiosk_only(db: SessionDep, settings: SettingsDep,
               x_kiosk_key: Annotated[str | None, Header()] = None) -> str:
    """The kiosk's site, its key checked (and ``db`` scoped to the site); staff have no use
    for sending a kiosk's heartbeat."""
    site = kiosk_site(db, settings, x_kiosk_key) if x_kiosk_key else None
    if site is None:
        raise NotAuthenticated("a kiosk's heartbeat needs its X-Kiosk-Key")
    return site


KioskSite = Annotated[str, Depends(kiosk_only)]


@router.post("/heartbeat", response_model=KioskHeartbeatPublic,
             responses={401: {"model": schemas.ErrorPublic}, 422: {"model": schemas.ErrorPublic}})
def kiosk_heartbeat(body: KioskHeartbeatCreate, db: SessionDep, now: NowDep,
                    _site: KioskSite) -> KioskHeartbeatPublic:
    """Keep the kiosk's latest heartbeat (staff see it on the site status; /metrics too)."""
    record_heartbeat(db, Heartbeat(
        kiosk_id=body.kiosk_id, queued=body.queued, oldest_queued_s=body.oldest_queued_s,
        outbox_damaged=body.outbox_damaged, version=body.version.strip(),
        place=body.place.strip()), now=now)
    return KioskHeartbeatPublic()
