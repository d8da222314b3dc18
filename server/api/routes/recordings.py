"""The kiosk sends a request's spoken description: ``POST /api/v1/requests/<client id>/recording``
with the WAV as the body (``Content-Type: audio/wav``) and the kiosk key.

A second call after the filing, retried by the kiosk's recording spool, so the filing itself stays
small JSON. 201 when kept, 200 when it was kept before (a retry), 404 while the request has not
arrived yet (the spool tries again), 422 for a body that is not a WAV or is too long; the body's
size is bounded as it streams (server/app.py gives this path :data:`RECORDING_PATHS`' limit).
Only the kiosk sends these: a phone or a stranger gets a 401.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from server.api import schemas
from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep, SettingsDep, kiosk_site
from server.errors import Invalid, NotAuthenticated
from server.services.recordings import MAX_BYTES, keep_spoken_description

__all__ = ["RECORDING_PATHS", "recording_limit", "router"]

router = APIRouter()
ClientId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
# The uploads server/app.py lets through with a larger body limit than the JSON API's.
RECORDING_PATHS = (re.compile(r"^/api/v1/requests/[A-Za-z0-9_-]{8,64}/recording$"),)


def recording_limit() -> int:
    return MAX_BYTES


@router.post("/api/v1/requests/{client_id}/recording", status_code=201, tags=["public"],
             responses={200: {"description": "kept before (a retry)"},
                        401: {"model": schemas.ErrorPublic},
                        404: {"model": schemas.ErrorPublic},
                        413: {"model": schemas.ErrorPublic},
                        422: {"model": schemas.ErrorPublic}})
async def upload_recording(request: Request, client_id: ClientId, db: SessionDep, now: NowDep,
                           settings: SettingsDep, store: AttachmentsDep, response: Response,
                           x_kiosk_key: Annotated[str | None, Header()] = None
                           ) -> dict[str, object]:
    """Keep the spoken description of the request filed under ``client_id`` (kiosk only)."""
    if x_kiosk_key is None or await run_in_threadpool(kiosk_site, db, settings,
                                                      x_kiosk_key) is None:
        raise NotAuthenticated("only the kiosk sends recordings")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("audio/wav", "audio/x-wav", "audio/wave"):
        raise Invalid("recording: send it as audio/wav")
    data = await request.body()
    spoken, created = await run_in_threadpool(
        keep_spoken_description, db, store, client_id=client_id, data=data, now=now)
    if not created:
        response.status_code = 200
    return {"duration_s": spoken.duration_s, "size": spoken.size}
