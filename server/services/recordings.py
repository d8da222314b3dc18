"""A request's spoken description: the resident's voice, recorded on the kiosk, kept and played.

The kiosk files the request first (its outbox, JSON, small), then sends the recording in a second
call its recording spool retries (``POST /api/v1/requests/<client id>/recording``), so a server
that is down loses neither. Here the WAV is checked (a real mono or stereo PCM WAV, at most
:data:`MAX_SECONDS`), stored through the attachment store (server/attachments.py) and linked to
the request's ticket (:class:`~server.resident_reports.SpokenDescription`, one per request: a
retry answers with the first).

The voice is personal data (PIPL): it is played only to the staff who may see the ticket and to
the volunteer who has the task while it is open, never on the resident's public status page, and
every play is written to the audit log (``recording.play``)::

    spoken, created = keep_spoken_description(db, store, client_id=cid, data=wav, now=now)
    audio = play_spoken_description(db, store, ticket=ticket, actor=user, via="page", now=now)
"""

from __future__ import annotations

import io
import logging
import wave
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.attachments import AttachmentStore, StoredFile, StoredTogether
from server.errors import Invalid, NotFound
from server.models import ServiceRequest, Ticket, User
from server.resident_reports import SpokenDescription
from server.services import audit

__all__ = ["MAX_BYTES", "MAX_SECONDS", "keep_spoken_description", "play_spoken_description",
           "wav_seconds"]

log = logging.getLogger(__name__)
MAX_SECONDS = 60.0
# A second of grace: the kiosk stops at 60 s, and a recorder may overrun by a buffer.
_GRACE_S = 1.0
# 60 s of 48 kHz 16-bit stereo and its header: the most a kiosk microphone sends.
MAX_BYTES = int((MAX_SECONDS + _GRACE_S) * 48_000 * 2 * 2) + 1024
MEDIA_TYPE = "audio/wav"


def wav_seconds(data: bytes) -> float:
    """The length of a PCM WAV in seconds; Invalid if it is not one the staff could play."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"recording: larger than {MAX_BYTES} bytes")
    try:
        with wave.open(io.BytesIO(data), "rb") as audio:
            channels, width, rate = (audio.getnchannels(), audio.getsampwidth(),
                                     audio.getframerate())
            frames = audio.getnframes()
    except (wave.Error, EOFError) as exc:
        raise Invalid(f"recording: not a WAV file ({exc})") from None
    if channels not in (1, 2) or width not in (1, 2) or not 8_000 <= rate <= 48_000:
        raise Invalid("recording: a WAV of 1 or 2 channels, 8 or 16 bit, 8-48 kHz")
    seconds = frames / rate
    if seconds <= 0:
        raise Invalid("recording: it is empty")
    if seconds > MAX_SECONDS + _GRACE_S:
        raise Invalid(f"recording: longer than {MAX_SECONDS:.0f} s")
    return round(seconds, 2)


def keep_spoken_description(db: Session, store: AttachmentStore, *, client_id: str, data: bytes,
                            now: datetime) -> tuple[SpokenDescription, bool]:
    """Store the recording of the request filed under ``client_id``; returns it and whether it
    is new. NotFound while the request has not arrived (the kiosk tries again later)."""
    request = db.scalar(select(ServiceRequest).where(ServiceRequest.client_id == client_id))
    if request is None:
        raise NotFound("no request with this client_id yet")
    kept = db.scalar(select(SpokenDescription).where(
        SpokenDescription.ticket_id == request.ticket_id))
    if kept is not None:
        return kept, False
    seconds = wav_seconds(data)
    with StoredTogether(store) as batch:
        key = batch.put(data, media_type=MEDIA_TYPE)
        spoken = SpokenDescription(ticket_id=request.ticket_id, attachment_key=key,
                                   media_type=MEDIA_TYPE, size=len(data), duration_s=seconds,
                                   created_at=now)
        db.add(spoken)
        try:
            db.commit()
        except IntegrityError:  # the same recording delivered twice at once: the other won
            db.rollback()
            batch.undo()
            kept = db.scalar(select(SpokenDescription).where(
                SpokenDescription.ticket_id == request.ticket_id))
            if kept is None:
                raise
            return kept, False
    log.info("spoken description of request %s kept (%.1f s, %d bytes)",
             request.ticket.number, seconds, len(data))
    return spoken, True


def play_spoken_description(db: Session, store: AttachmentStore, *, ticket: Ticket,
                            actor: User | str, via: str, now: datetime) -> StoredFile:
    """The recording's bytes, for someone the caller has already found allowed; the play is
    written to the audit log (committed). NotFound if the request has none."""
    spoken = db.scalar(select(SpokenDescription).where(SpokenDescription.ticket_id == ticket.id))
    if spoken is None:
        raise NotFound("this request has no spoken description")
    audio = store.get(spoken.attachment_key)
    audit.record(db, actor=actor, action="recording.play", subject=("ticket", ticket.id),
                 now=now, note=f"{ticket.number} via {via}")
    db.commit()
    return audio
