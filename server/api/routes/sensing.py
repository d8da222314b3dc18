"""Sensor side of the API: alerts, the asset register, tank history and cleanings, dead letters,
and /metrics for Prometheus."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from server.api import schemas
from server.api.deps import DispatcherUser, NowDep, SessionDep, StaffUser
from server.dates import RecordDate
from server.errors import Conflict, NotFound
from server.lifecycle import OPEN_STATUSES, Action
from server.models import Ticket
from server.sensing import services
from server.sensing.models import ExtinguisherBay, Tank
from server.services.tickets import Actor, apply_action
from server.sites.scoping import acting_site, everywhere

router = APIRouter(prefix="/api/v1", tags=["sensors"],
                   responses={401: {"model": schemas.ErrorPublic},
                              403: {"model": schemas.ErrorPublic},
                              404: {"model": schemas.ErrorPublic},
                              422: {"model": schemas.ErrorPublic}})
AssetId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CleaningCreate(_In):
    cleaned_on: RecordDate
    water_test_passed: bool
    turbidity_ntu: float | None = Field(default=None, ge=0, le=1000)
    notes: str = Field(default="", max_length=500)


class TankUpdate(_In):
    name: str = Field(min_length=1, max_length=100)
    building_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$")
    capacity_l: float | None = Field(default=None, gt=0, le=10_000_000)
    cleaning_interval_days: int | None = Field(default=None, ge=90, le=365)


class ExtinguisherUpdate(_In):
    name: str = Field(min_length=1, max_length=100)
    building_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$")
    extinguisher_type: str = Field(pattern="^(water|dry_powder|co2|clean_agent)$")
    manufactured_on: RecordDate
    last_maintained_on: RecordDate | None = None
    last_inspected_on: RecordDate | None = None

    @model_validator(mode="after")
    def _not_before_manufacture(self) -> ExtinguisherUpdate:
        # The register's rules cannot place an inspection before the unit existed; such a row
        # would make every page that reads the register fail, so it is refused here.
        for name in ("last_maintained_on", "last_inspected_on"):
            value = getattr(self, name)
            if value is not None and value < self.manufactured_on:
                raise ValueError(f"{name}: {value} is before manufactured_on "
                                 f"{self.manufactured_on}")
        return self


class InspectionCreate(_In):
    inspected_on: RecordDate
    notes: str = Field(default="", max_length=500)


@router.get("/alerts")
def list_alerts(db: SessionDep, _user: DispatcherUser,
                after_id: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
                limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    return {"alerts": services.alerts_since(db, after_id=after_id, limit=limit)}


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: AlertId, db: SessionDep, now: NowDep, user: DispatcherUser
                ) -> dict[str, Any]:
    alert = services.acknowledge_alert(db, alert_id=alert_id, user=user, now=now)
    return {"id": alert.id, "acknowledged": True}


@router.get("/dead-letters")
def list_dead_letters(db: SessionDep, _user: StaffUser,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    return {"dead_letters": [
        {"id": d.id, "received_at": d.received_at.isoformat(), "topic": d.topic,
         "payload": d.payload, "size": d.size, "reason": d.reason}
        for d in services.dead_letters(db, limit=limit)]}


@router.get("/assets")
def list_assets(request: Request, db: SessionDep, now: NowDep, _user: DispatcherUser
                ) -> dict[str, Any]:
    overview = services.site_overview(db, now=now, rules=request.app.state.rules)
    return {"tanks": overview["tanks"],
            "extinguishers": services.extinguisher_register(db, now=now,
                                                            rules=request.app.state.rules)}


def _unused(db: SessionDep, model: type[Tank] | type[ExtinguisherBay], asset_id: str) -> str:
    """An asset id is the district's (the sensors' topics carry it): one another site has is
    a 409, not a second row (server/sites/)."""
    if db.scalar(everywhere(select(model.asset_id).where(model.asset_id == asset_id))):
        raise Conflict(f"asset id {asset_id} is in use at another site")
    return asset_id


@router.put("/assets/tanks/{asset_id}")
def put_tank(asset_id: AssetId, body: TankUpdate, request: Request, db: SessionDep,
             _user: StaffUser) -> dict[str, Any]:
    home = request.app.state.settings.site.id
    tank = db.get(Tank, asset_id) or Tank(asset_id=_unused(db, Tank, asset_id),
                                          site_id=acting_site(db, home))
    tank.name, tank.building_code = body.name, body.building_code
    tank.capacity_l, tank.cleaning_interval_days = body.capacity_l, body.cleaning_interval_days
    db.add(tank)
    db.commit()
    return {"asset_id": asset_id, "saved": True}


@router.put("/assets/extinguishers/{asset_id}")
def put_extinguisher(asset_id: AssetId, body: ExtinguisherUpdate, request: Request,
                     db: SessionDep, _user: StaffUser) -> dict[str, Any]:
    bay = db.get(ExtinguisherBay, asset_id) or ExtinguisherBay(
        asset_id=_unused(db, ExtinguisherBay, asset_id),
        site_id=acting_site(db, request.app.state.settings.site.id))
    for field, value in body.model_dump().items():
        setattr(bay, field, value)
    db.add(bay)
    db.commit()
    return {"asset_id": asset_id, "saved": True}


@router.post("/assets/extinguishers/{asset_id}/inspections")
def record_inspection(asset_id: AssetId, body: InspectionCreate, db: SessionDep, now: NowDep,
                      user: DispatcherUser) -> dict[str, Any]:
    """The monthly inspection was done: restart its schedule and close its ticket."""
    bay = db.get(ExtinguisherBay, asset_id)
    if bay is None:
        raise NotFound(f"no extinguisher bay {asset_id}")
    bay.last_inspected_on = max(filter(None, [bay.last_inspected_on, body.inspected_on]))
    for ticket in db.scalars(select(Ticket).where(
            Ticket.asset_id == asset_id, Ticket.condition == "inspection_due",
            Ticket.status.in_([s.value for s in OPEN_STATUSES]))):
        if ticket.status != "resolved":
            apply_action(db, ticket=ticket, action=Action.RESOLVE, actor=Actor.of(user), now=now,
                         staff=True, note=f"{body.inspected_on} 已检查 / inspected. {body.notes}")
        apply_action(db, ticket=ticket, action=Action.CLOSE, actor=Actor.of(user), now=now,
                     staff=True)
    db.commit()
    return {"asset_id": asset_id, "last_inspected_on": bay.last_inspected_on.isoformat()}


@router.get("/tanks/{asset_id}/history")
def history(asset_id: AssetId, db: SessionDep, now: NowDep, _user: DispatcherUser,
            days: Annotated[int, Query(ge=1, le=400)] = 7) -> dict[str, Any]:
    points = services.tank_history(db, asset_id=asset_id, since=now - timedelta(days=days),
                                   until=now)
    return {"asset_id": asset_id, "points": [[ts.isoformat(), level] for ts, level in points]}


@router.get("/tanks/{asset_id}/cleanings")
def cleanings(asset_id: AssetId, db: SessionDep, _user: DispatcherUser) -> dict[str, Any]:
    return {"cleanings": [
        {"id": c.id, "cleaned_on": c.cleaned_on.isoformat(),
         "water_test_passed": c.water_test_passed, "turbidity_ntu": c.turbidity_ntu,
         "notes": c.notes, "recorded_at": c.recorded_at.isoformat()}
        for c in services.cleaning_log(db, asset_id=asset_id)]}


@router.post("/tanks/{asset_id}/cleanings", status_code=201)
def add_cleaning(asset_id: AssetId, body: CleaningCreate, request: Request, db: SessionDep,
                 now: NowDep, user: StaffUser) -> dict[str, Any]:
    entry = services.record_cleaning(db, asset_id=asset_id, user=user,
                                     cleaned_on=body.cleaned_on,
                                     water_test_passed=body.water_test_passed,
                                     turbidity_ntu=body.turbidity_ntu, notes=body.notes, now=now,
                                     timezone=request.app.state.settings.site.timezone)
    return {"id": entry.id, "water_test_passed": entry.water_test_passed}


metrics_router = APIRouter(include_in_schema=False)


@metrics_router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    """Every figure in the Prometheus text format (server/sensing/metrics.py; a sync route:
    the outbox depths are read from the database as it is scraped)."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
