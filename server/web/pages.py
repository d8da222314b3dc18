"""Pages for people: the resident's phone page at /r/<token>.

Mobile-first, Simplified Chinese by default and English with ?lang=en. The page shows one request
and nothing else; the token in the link is the only key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path as PathParam, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.api.ratelimit import TrackLimit
from server.api.views import request_public
from server.lifecycle import status_zh
from server.services.requests import request_by_token

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

STEPS = ["new", "dispatched", "accepted", "in_progress", "resolved", "closed"]
STATUS_EN = {"new": "Received", "dispatched": "Passed to a volunteer", "accepted": "Accepted",
             "in_progress": "On the way / in progress", "resolved": "Done — please confirm",
             "closed": "Closed", "cancelled": "Cancelled", "duplicate": "Duplicate"}


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")


@router.get("/r/{token}", response_class=HTMLResponse)
def phone_page(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
               _limit: TrackLimit,
               token: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{16,64}$")],
               lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> HTMLResponse:
    view = request_public(request_by_token(db, token=token).ticket, now)
    reached = STEPS.index(view.status) if view.status in STEPS else -1
    return templates.TemplateResponse(request, "track.html", {
        "r": view, "lang": lang, "site": settings.site, "steps": STEPS, "reached": reached,
        "status_zh": status_zh, "status_en": STATUS_EN, "token": token,
    })
