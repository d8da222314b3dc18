"""Serving a request's photos to the people who may see the request, and reading uploads.

    GET /photos/<id>[?size=thumb]              signed in: staff, the squad leader of its grid,
                                               the volunteer on it (the ticket's own check)
    GET /v/t/<token>/photos/<id>[?size=thumb]  the volunteer's one-tap task link, that task only
    GET /r/<token>/photos/<id>[?size=thumb]    the resident's phone link: their own photos and
                                               the volunteer's "after" photo

A photo of another request answers 404, as an unknown one does, so an id reveals nothing. The
pictures go out with ``Cache-Control: private`` (a shared cache never keeps them) and the same
no-sniff and no-referrer headers as the pages. Staff, leaders and volunteers opening a photo at
full size is a sensitive read, one entry each in the audit log (server/services/audit.py); the
resident looking at their own request's photos is not.

The forms that take photos (the phone form, the staff's 代办 form, a volunteer's "done") read
them with :func:`read_uploads`; the paths they post to are in :data:`UPLOAD_PATHS`, which
server/app.py gives a larger body limit than the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as FormFile

from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep
from server.api.ratelimit import TrackLimit
from server.attachments import AttachmentError, AttachmentStore, UnknownAttachment
from server.errors import NotFound
from server.models import Ticket, User
from server.photo_records import Photo, PhotoKind
from server.services import audit
from server.services.photos import (
    PhotoLimits,
    PhotoRefused,
    PreparedPhoto,
    attach_photos,
    photo_of_ticket,
    photos_of,
    prepare_photos,
    read_photo,
)
from server.services.requests import request_by_token
from server.services.task_links import open_task_link
from server.services.tickets import require_view
from server.settings import ServerSettings
from server.web.common import WebRoute, WebUser
from server.web.words import N_

__all__ = ["PHOTO_ERROR_WORDS", "PHOTO_FIELD", "UPLOAD_PATHS", "after_photo", "form_photos",
           "keep_after_photo", "keep_request_photos", "photo_links", "photo_lister",
           "read_uploads", "router", "upload_limit"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
PhotoId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Size = Annotated[str, Query(pattern="^(thumb|full)$")]
LinkToken = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
PhoneToken = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]

# The forms that carry photos: the phone form and the staff's 代办 form (server/web/
# new_request.py), and a volunteer's "done" on the task pages.
UPLOAD_PATHS = (re.compile(r"^/new$"), re.compile(r"^/staff/new$"),
                re.compile(r"^/v/t/[A-Za-z0-9_-]+/resolve$"),
                re.compile(r"^/v/tasks/\d+/resolve$"),
                re.compile(r"^/staff/equipment/tanks/[a-z0-9-]+/cleaning$"),  # a lab report
                re.compile(r"^/admin/import$"))  # a spreadsheet to import


# The request forms' photo field, and its errors in words (server/web/request_form.py shows
# them beside the field; the task pages say the same in templates/_photo_error.html).
PHOTO_FIELD = "photos"
PHOTO_ERROR_WORDS = {
    "photo_not_image": N_("选的文件不是照片。请拍一张，或从相册里选一张照片。"),
    "photo_too_large": N_("照片太大了，请换一张，或用手机拍一张新的。"),
    "photo_too_many_pixels": N_("这张照片太大，打不开。请换一张，或用手机拍一张新的。"),
    "photo_too_many": N_("最多只能附 3 张照片。"),
    # The page came back for another field: a browser cannot keep the files it had chosen.
    "photo_again": N_("照片没有保存，请重新选择。"),
}


def upload_limit(settings: ServerSettings, *, photos: int = 3) -> int:
    """The body limit of an upload form: its photos at their limit, and room for the fields."""
    return photos * settings.attachments.photo_max_bytes + 256 * 1024


def read_uploads(files: list[FormFile] | list[UploadFile] | None, *,
                 limits: PhotoLimits) -> list[bytes]:
    """The bytes of the files a form sent, skipping the empty part a browser sends when no file
    was chosen; a file over the limit is read only to one byte past it (prepare_photo refuses
    it by its length)."""
    found = []
    for upload in files or []:
        if not upload.filename and not upload.size:
            continue
        data = upload.file.read(limits.max_bytes + 1)
        if data or upload.filename:
            found.append(data)
    return found


def after_photo(upload: UploadFile | None, settings: ServerSettings) -> list[PreparedPhoto]:
    """The volunteer's one "after" photo from a "done" form, checked (PhotoRefused if bad);
    none if no file was chosen."""
    limits = PhotoLimits.of(settings)
    return prepare_photos(read_uploads([upload] if upload else [], limits=limits),
                          limits=limits, most=1)


def keep_after_photo(db: Session, store: AttachmentStore, *, ticket: Ticket,
                     photos: list[PreparedPhoto], volunteer_id: int | None,
                     now: datetime) -> None:
    """Store it once the job is marked done. The move already stands: if the store fails
    (a full disk), the job stays done and the failure is logged for staff to see."""
    if not photos:
        return
    try:
        attach_photos(db, store, ticket=ticket, photos=photos, kind=PhotoKind.AFTER,
                      added_by="volunteer", volunteer_id=volunteer_id, now=now)
    except (OSError, AttachmentError, SQLAlchemyError):
        log.exception("ticket %s: the volunteer's after photo could not be stored",
                      ticket.number)


def form_photos(form: FormData, settings: ServerSettings, *,
                others_wrong: bool) -> tuple[list[PreparedPhoto], str]:
    """The photos of a request form (field ``photos``, up to 3), checked; and the field's
    error code (a key of PHOTO_ERROR_WORDS), "" if none. When other fields are wrong the page
    comes back, and a browser cannot keep chosen files: the field then asks for them again."""
    uploads = [v for v in form.getlist(PHOTO_FIELD) if isinstance(v, FormFile)]
    limits = PhotoLimits.of(settings)
    try:
        photos = prepare_photos(read_uploads(uploads, limits=limits), limits=limits)
    except PhotoRefused as refused:
        return [], f"photo_{refused.code}"
    return photos, "photo_again" if photos and others_wrong else ""


def keep_request_photos(db: Session, store: AttachmentStore, *, ticket: Ticket,
                        photos: list[PreparedPhoto], added_by: str, now: datetime) -> bool:
    """Store a new filing's photos (all or none). The request already stands: if the store
    fails (a full disk) it stays filed without them, and the failure is logged."""
    if not photos:
        return True
    try:
        attach_photos(db, store, ticket=ticket, photos=photos, kind=PhotoKind.RESIDENT,
                      added_by=added_by, now=now)
    except (OSError, AttachmentError, SQLAlchemyError):
        log.exception("request %s: its %d photo(s) could not be stored", ticket.number,
                      len(photos))
        return False
    return True


def _picture(store: AttachmentStore, photo: Photo, size: str) -> Response:
    try:
        stored = read_photo(store, photo, thumb=size == "thumb")
    except UnknownAttachment:
        log.error("photo %s of ticket %s: its file is missing from the store", photo.id,
                  photo.ticket_id)
        raise NotFound("no such photo") from None
    return Response(stored.data, media_type=stored.media_type, headers={
        "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Content-Disposition": "inline"})


def photo_links(db: Session, *, ticket_id: int, base: str,
                kinds: tuple[PhotoKind, ...] = tuple(PhotoKind)) -> list[dict[str, object]]:
    """What templates/_photos.html shows: each photo's thumbnail and full-size addresses."""
    return [{"id": p.id, "kind": p.kind, "full": f"{base}/{p.id}",
             "thumb": f"{base}/{p.id}?size=thumb", "width": p.width, "height": p.height}
            for p in photos_of(db, ticket_id=ticket_id, kinds=kinds)]


def photo_lister(db: Session, base: str) -> Callable[[int], list[dict[str, object]]]:
    """photo_links for a page that lists several tasks (templates call it per task)."""
    return lambda ticket_id: photo_links(db, ticket_id=ticket_id, base=base)


def _viewed(db: Session, photo: Photo, *, actor: User | str, now: datetime,
            actor_user_id: int | None = None) -> None:
    """A full-size look inside a resident's home is a sensitive read: one audit entry each
    (thumbnails, shown on every page view, are not)."""
    audit.record(db, actor=actor, action="photo.view", subject=("photo", photo.id), now=now,
                 note=f"{photo.ticket.number} {photo.kind}", actor_user_id=actor_user_id)
    db.commit()


@router.get("/photos/{photo_id}")
def signed_in_photo(db: SessionDep, now: NowDep, user: WebUser, store: AttachmentsDep,
                    photo_id: PhotoId, size: Size = "full") -> Response:
    photo = db.get(Photo, photo_id)
    # Another site's request is not in the signed-in session (server/sites/): no such photo.
    if photo is None or photo.ticket is None:
        raise NotFound("no such photo")
    require_view(user, photo.ticket)
    picture = _picture(store, photo, size)
    if size == "full":
        _viewed(db, photo, actor=user, now=now)
    return picture


@router.get("/v/t/{token}/photos/{photo_id}")
def task_link_photo(db: SessionDep, now: NowDep, store: AttachmentsDep, token: LinkToken,
                    photo_id: PhotoId, size: Size = "full") -> Response:
    link = open_task_link(db, token=token, now=now)
    photo = photo_of_ticket(db, photo_id=photo_id, ticket_id=link.ticket_id)
    picture = _picture(store, photo, size)
    if size == "full":
        _viewed(db, photo, actor=link.volunteer.given_name, now=now,
                actor_user_id=link.volunteer.user_id)
    return picture


@router.get("/r/{token}/photos/{photo_id}")
def resident_photo(request: Request, db: SessionDep, _limit: TrackLimit, store: AttachmentsDep,
                   token: PhoneToken, photo_id: PhotoId, size: Size = "full") -> Response:
    filed = request_by_token(db, token=token)
    return _picture(store, photo_of_ticket(db, photo_id=photo_id, ticket_id=filed.ticket_id),
                    size)
