"""Photos of a request: checked, cleaned and stored all together, or refused with nothing kept.

A resident may send up to :data:`MAX_RESIDENT_PHOTOS` photos when filing (the phone form, the
staff's 代办 form); the volunteer may add one "after" photo when marking the job done. Every
photo is decoded and encoded again with Pillow before anything is stored:

- the file must be a picture Pillow reads (JPEG, PNG, WebP, GIF, BMP), within the size limit
  (``[attachments] photo_max_bytes``), and no bigger than :data:`MAX_PIXELS` when decoded (a
  decompression bomb, a tiny file that unpacks to gigabytes, is refused before it is decoded);
- it is turned upright from its EXIF orientation, then every EXIF field (the phone's GPS
  position, its model, the time) is dropped: what is stored is a fresh JPEG with no metadata;
- it is shrunk to ``photo_max_side_px`` on its longest side, and a thumbnail is made.

:func:`prepare_photos` does that in memory and refuses the whole filing on the first bad file,
so a refused photo stores nothing; :func:`attach_photos` then puts every picture in the
attachment store (server/attachments.py) and adds the rows in one commit, undoing the stored
files if anything fails. Who may see a photo is decided by the routes that serve it
(server/web/photos.py) from who may see its request.

    prepared = prepare_photos([upload_bytes], limits=PhotoLimits.of(settings))
    attach_photos(db, store, ticket=ticket, photos=prepared, kind=PhotoKind.RESIDENT,
                  added_by="resident", now=now)
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.attachments import AttachmentStore, StoredFile, StoredTogether
from server.errors import Invalid, NotFound
from server.models import Ticket
from server.photo_records import Photo, PhotoKind

if TYPE_CHECKING:
    from server.settings import ServerSettings

__all__ = ["MAX_PIXELS", "MAX_RESIDENT_PHOTOS", "PhotoLimits", "PhotoRefused", "PreparedPhoto",
           "attach_photos", "photo_of_ticket", "photos_of", "prepare_photo", "prepare_photos",
           "read_photo"]

log = logging.getLogger(__name__)

MAX_RESIDENT_PHOTOS = 3
# A 48-megapixel phone photo decodes to about 150 MB; more than this is refused as a bomb.
MAX_PIXELS = 50_000_000
THUMB_SIDE_PX = 360
JPEG_QUALITY = 85
# The formats a phone's camera or gallery sends (a JPEG with a second frame, MPO, opens as JPEG).
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")


class PhotoRefused(Invalid):
    """A photo that is not stored; ``code`` says why: not_image, too_large, too_many_pixels,
    too_many."""

    code = "photo_refused"

    def __init__(self, message: str, *, code: str, index: int = 0) -> None:
        super().__init__(message, code=code)
        self.index = index  # which file of the filing (0 for the first)


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_side_px: int = 1600

    @classmethod
    def of(cls, settings: ServerSettings) -> PhotoLimits:
        return cls(max_bytes=settings.attachments.photo_max_bytes,
                   max_side_px=settings.attachments.photo_max_side_px)


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to store: a clean JPEG and its thumbnail, no metadata in either."""

    jpeg: bytes
    thumb: bytes
    width: int
    height: int


def _open(data: bytes, index: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; a warning is a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("the picture is far too large when unpacked",
                           code="too_many_pixels", index=index) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoRefused("the file is not a picture", code="not_image", index=index) from None


def _flatten(picture: Image.Image) -> Image.Image:
    """RGB for JPEG; a transparent background becomes white, as it looked on the phone."""
    if picture.mode in ("RGBA", "LA") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return picture.convert("RGB")


def _jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif=, no icc_profile=: the new file carries none of the original's metadata.
    picture.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def prepare_photo(data: bytes, *, limits: PhotoLimits, index: int = 0) -> PreparedPhoto:
    """Check one photo and make its clean copy and thumbnail; PhotoRefused if it cannot be."""
    if len(data) > limits.max_bytes:
        raise PhotoRefused(f"the photo is larger than {limits.max_bytes // (1024 * 1024)} MB",
                           code="too_large", index=index)
    if not data:
        raise PhotoRefused("the file is empty", code="not_image", index=index)
    picture = _open(data, index)
    if picture.width * picture.height > MAX_PIXELS:
        raise PhotoRefused("the picture is far too large when unpacked", code="too_many_pixels",
                           index=index)
    try:
        # JPEG decodes at a reduced scale straight away (cheap on a Pi); others ignore it.
        picture.draft("RGB", (limits.max_side_px, limits.max_side_px))
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture.load()
            upright = ImageOps.exif_transpose(picture)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("the picture is far too large when unpacked", code="too_many_pixels",
                           index=index) from None
    except (OSError, SyntaxError, ValueError):  # a truncated or damaged file
        raise PhotoRefused("the file is not a picture", code="not_image", index=index) from None
    clean = _flatten(upright)
    clean.thumbnail((limits.max_side_px, limits.max_side_px), Image.Resampling.LANCZOS)
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE_PX, THUMB_SIDE_PX), Image.Resampling.LANCZOS)
    return PreparedPhoto(jpeg=_jpeg(clean), thumb=_jpeg(thumb), width=clean.width,
                         height=clean.height)


def prepare_photos(files: Sequence[bytes], *, limits: PhotoLimits,
                   most: int = MAX_RESIDENT_PHOTOS) -> list[PreparedPhoto]:
    """Every photo of one filing, or PhotoRefused for the first bad one (nothing is stored)."""
    if len(files) > most:
        raise PhotoRefused(f"at most {most} photos", code="too_many", index=most)
    return [prepare_photo(data, limits=limits, index=i) for i, data in enumerate(files)]


def attach_photos(db: Session, store: AttachmentStore, *, ticket: Ticket,
                  photos: Sequence[PreparedPhoto], kind: PhotoKind, added_by: str,
                  now: datetime, volunteer_id: int | None = None) -> list[Photo]:
    """Store the pictures and add their rows in one commit; on any failure none is kept."""
    if not photos:
        return []
    rows = []
    with StoredTogether(store) as batch:
        for photo in photos:
            rows.append(Photo(
                ticket_id=ticket.id, kind=kind.value, added_by=added_by,
                volunteer_id=volunteer_id, created_at=now,
                key=batch.put(photo.jpeg, media_type="image/jpeg"),
                thumb_key=batch.put(photo.thumb, media_type="image/jpeg"),
                width=photo.width, height=photo.height, size_bytes=len(photo.jpeg)))
        db.add_all(rows)
        try:
            db.commit()
        except Exception:
            db.rollback()
            raise
    log.info("ticket %s: %d %s photo(s) stored", ticket.number, len(rows), kind.value)
    return rows


def photos_of(db: Session, *, ticket_id: int,
              kinds: Sequence[PhotoKind] = tuple(PhotoKind)) -> list[Photo]:
    """A request's photos of those kinds, oldest first."""
    return list(db.scalars(select(Photo).where(
        Photo.ticket_id == ticket_id, Photo.kind.in_([k.value for k in kinds])
    ).order_by(Photo.id)))


def photo_of_ticket(db: Session, *, photo_id: int, ticket_id: int,
                    kinds: Sequence[PhotoKind] = tuple(PhotoKind)) -> Photo:
    """The photo if it belongs to that request (and is of those kinds); NotFound otherwise,
    the same answer whether it does not exist or is another request's."""
    photo = db.get(Photo, photo_id)
    if photo is None or photo.ticket_id != ticket_id or photo.kind not in {k.value for k in kinds}:
        raise NotFound("no such photo")
    return photo


def read_photo(store: AttachmentStore, photo: Photo, *, thumb: bool = False) -> StoredFile:
    return store.get(photo.thumb_key if thumb else photo.key)
