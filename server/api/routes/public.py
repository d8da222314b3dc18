"""What the kiosk and residents' phones use: no sign-in, only the phone token as a key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from foundation.reach import links_reachable
from server.api import schemas
from server.api.deps import KioskIfAny, NowDep, SessionDep, SettingsDep
from server.api.facility import FacilityDeskDep, link_facility_report
from server.api.filing import FilingCaller
from server.api.health import probe_disk, probe_folders
from server.api.ratelimit import TrackLimit
from server.api.views import category_public, request_public
from server.models import Building, Category, Compound
from server.services.requests import (
    NewRequest,
    cancel_by_resident,
    confirm_done,
    file_request,
    request_by_token,
)
from server.services.site_profile import site_facts
from server.sites.models import Site

router = APIRouter()
TokenPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


@router.get("/healthz", response_model=schemas.HealthPublic, tags=["health"],
            responses={503: {"model": schemas.HealthPublic}})
def healthz(db: SessionDep, settings: SettingsDep, response: Response
            ) -> schemas.HealthPublic:
    """The database answers, a file can be written in the data folder, and there is room
    left on its disk; 503 (``degraded``) when a write fails or space runs low."""
    db.execute(text("SELECT 1"))
    disk = probe_disk(probe_folders(settings.data_dir, settings.database_url))
    if not disk.ok:
        response.status_code = 503
    return schemas.HealthPublic(status="ok" if disk.ok else "degraded", database="ok",
                                disk_write="ok" if disk.write_ok else "failed",
                                disk_free_bytes=disk.free_bytes, problem=disk.problem)


@router.get("/api/v1/site", response_model=schemas.SitePublic, tags=["public"])
def site(settings: SettingsDep, request: Request, db: SessionDep, kiosk: KioskIfAny
         ) -> schemas.SitePublic:
    """The site's public facts: its names and phone (a kiosk sending another site's key is
    answered that site's; no key, the home site's)."""
    s = settings.site
    if kiosk is not None and kiosk != s.id:
        # Another site's kiosk on a district centre: that site's row and the phone its staff
        # set (never the home site's [site] phone, which is another community's).
        other = db.get(Site, kiosk)
        return schemas.SitePublic(
            id=kiosk, name_zh=other.name_zh if other else kiosk,
            name_en=(other.name_en or other.name_zh) if other else kiosk,
            phone=site_facts(db, site_id=kiosk, file_phone="").phone,
            public_url=settings.http.public_url,
            links_reachable=links_reachable(settings.http.public_url))
    # The phone staff set in the browser, over the file's (server/services/site_profile.py).
    facts = getattr(request.app.state, "site_facts", None)
    phone = facts.get().phone if facts is not None else s.phone
    return schemas.SitePublic(id=s.id, name_zh=s.name_zh, name_en=s.name_en, phone=phone,
                              public_url=settings.http.public_url,
                              links_reachable=links_reachable(settings.http.public_url))


@router.get("/api/v1/categories", response_model=schemas.CategoriesPublic, tags=["public"])
def categories(db: SessionDep) -> schemas.CategoriesPublic:
    rows = db.scalars(select(Category).where(Category.active.is_(True))
                      .order_by(Category.sort_order))
    return schemas.CategoriesPublic(categories=[category_public(c) for c in rows])


@router.get("/api/v1/places", response_model=schemas.PlacesPublic, tags=["public"])
def places(db: SessionDep, _kiosk: KioskIfAny) -> schemas.PlacesPublic:
    """Every compound, building and unit; a kiosk sending its X-Kiosk-Key gets its own
    site's (server/sites/)."""
    compounds = db.scalars(
        select(Compound).order_by(Compound.code)
        .options(selectinload(Compound.buildings).selectinload(Building.units))
    )
    return schemas.PlacesPublic(compounds=[
        schemas.CompoundPublic(
            code=c.code, name_zh=c.name_zh, name_en=c.name_en,
            buildings=[schemas.BuildingPublic(
                code=b.code, name=b.name, floors=b.floors,
                units=[schemas.UnitPublic(code=u.code, name=u.name) for u in b.units],
            ) for b in c.buildings],
        ) for c in compounds
    ])


@router.post("/api/v1/requests", response_model=schemas.RequestPublic, status_code=201,
             tags=["public"],
             responses={200: {"model": schemas.RequestPublic,
                              "description": "filed before with this client_id"},
                        403: {"model": schemas.ErrorPublic},
                        409: {"model": schemas.ErrorPublic},
                        422: {"model": schemas.ErrorPublic},
                        429: {"model": schemas.ErrorPublic}})
def create_request(body: schemas.RequestCreate, db: SessionDep, now: NowDep,
                   settings: SettingsDep, response: Response, caller: FilingCaller,
                   desk: FacilityDeskDep) -> schemas.RequestPublic:
    """File a request. Filing again with the same ``client_id`` and the same body answers with
    the first filing (200); with a different body, 409. Without signing in, filings are
    limited per address (and per kiosk, for a caller that sends X-Kiosk-Key): 429 with
    Retry-After past the limit. The channel is the caller's: ``staff`` only for signed-in
    staff."""
    request, created = file_request(db, new=NewRequest(
        client_id=body.client_id, category=body.category, place_code=body.unit_code,
        answers=dict(body.answers), description=body.description,
        contact_name=body.contact_name, contact_phone=body.contact_phone,
        channel=caller.channel(body.channel),
        number=body.number, phone_token=body.phone_token, floor=body.floor, room=body.room,
        filed_by=caller.user, slot_id=body.slot_id,
    ), now=now, site_id=settings.site.id)
    # About the water or a shared facility: onto the asset's maintenance ticket, staff alerted.
    link_facility_report(desk, db, request=request, now=now)
    # A same-body retry answers with the first filing (200), and with its phone token only to
    # a caller who shows it already has it: the token in the body (the kiosk's outbox sends
    # the one it printed), the kiosk key, or signed-in staff. Anyone else who only knows the
    # client id and the body learns nothing that would let them follow or cancel it.
    shown = created or body.phone_token is not None or caller.kind in ("kiosk", "staff")
    if not created:
        response.status_code = 200
    return request_public(request.ticket, now, token=request.phone_token if shown else None,
                          public_url=settings.http.public_url)


@router.get("/api/v1/track/{token}", response_model=schemas.RequestPublic, tags=["public"],
            responses={404: {"model": schemas.ErrorPublic}, 429: {"model": schemas.ErrorPublic}})
def track(token: TokenPath, db: SessionDep, now: NowDep, _limit: TrackLimit
          ) -> schemas.RequestPublic:
    return request_public(request_by_token(db, token=token).ticket, now)


@router.post("/api/v1/track/{token}/confirm", response_model=schemas.RequestPublic,
             tags=["public"], responses={404: {"model": schemas.ErrorPublic},
                                         409: {"model": schemas.ErrorPublic}})
def confirm(token: TokenPath, body: schemas.ConfirmCreate, db: SessionDep, now: NowDep,
            _limit: TrackLimit) -> schemas.RequestPublic:
    request = confirm_done(db, token=token, rating=body.rating, comment=body.comment, now=now)
    return request_public(request.ticket, now)


@router.post("/api/v1/track/{token}/cancel", response_model=schemas.RequestPublic,
             tags=["public"], responses={404: {"model": schemas.ErrorPublic},
                                         409: {"model": schemas.ErrorPublic}})
def cancel(token: TokenPath, db: SessionDep, now: NowDep, _limit: TrackLimit,
           body: schemas.CancelCreate | None = None) -> schemas.RequestPublic:
    request = cancel_by_resident(db, token=token, now=now, reason=body.reason if body else "")
    return request_public(request.ticket, now)
