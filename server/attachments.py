"""Stored files (a resident's photo, a spoken description, a lab's PDF report): one seam.

Whatever stores a file hands its bytes and media type to an :class:`AttachmentStore` and keeps
the key it gets back in its own table; whatever serves it reads it back by that key, after
checking who may see it. The store knows nothing of tickets or people.

    store = attachment_store(settings)               # FileAttachmentStore under the data folder
    key = store.put(jpeg_bytes, media_type="image/jpeg")
    stored = store.get(key)                          # StoredFile(data=..., media_type="image/jpeg")
    store.delete(key)

On one service point the files live under ``[attachments] dir`` (default
``<data_dir>/attachments``), one file per key in a folder per first two characters. A file is
written to a temporary name, flushed to disk and renamed into place, so a power cut leaves either
the whole file or none: a reader never finds half a photo. A district with several server
replicas would keep them in an object store (MinIO, S3): that is another class behind this same
protocol, chosen by a setting, and is not built yet. Tests use :class:`MemoryAttachmentStore`.

Several files that belong together (the three photos of one filing) are stored with
:class:`StoredTogether`, which deletes the ones already stored when a later one or the database
commit fails, so nothing is left half-stored.

Errors::

    ServicepointError
    └── AttachmentError
        ├── UnknownAttachment(AttachmentError, LookupError)   no file under that key
        └── BadAttachmentKey(AttachmentError, ValueError)      not a key this store makes
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from foundation.errors import ServicepointError

if TYPE_CHECKING:
    from server.settings import ServerSettings

__all__ = [
    "MEDIA_SUFFIXES",
    "AttachmentError",
    "AttachmentStore",
    "BadAttachmentKey",
    "FileAttachmentStore",
    "MemoryAttachmentStore",
    "StoredFile",
    "StoredTogether",
    "UnknownAttachment",
    "attachment_folder",
    "attachment_store",
    "check_key",
    "media_type_of",
    "new_key",
]

log = logging.getLogger(__name__)

# The media types stored, by the suffix their keys carry; the suffix is how a file store knows a
# file's type again without a side file. Anything else is kept as application/octet-stream.
MEDIA_SUFFIXES: dict[str, str] = {
    "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
    "audio/ogg": "ogg", "audio/webm": "weba", "audio/wav": "wav", "audio/mpeg": "mp3",
    "audio/mp4": "m4a", "application/pdf": "pdf", "application/octet-stream": "bin",
}
_TYPES = {suffix: media for media, suffix in MEDIA_SUFFIXES.items()}
# A key is a random hex name and a known suffix: nothing a caller sends can point outside the
# store's folder.
KEY_PATTERN = re.compile(r"^[0-9a-f]{32}\.(" + "|".join(_TYPES) + r")$")


class AttachmentError(ServicepointError):
    """A stored file could not be written, found or read."""


class UnknownAttachment(AttachmentError, LookupError):
    """No file is stored under this key (never stored, or deleted)."""


class BadAttachmentKey(AttachmentError, ValueError):
    """The key is not one this store makes."""


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    media_type: str


class AttachmentStore(Protocol):
    """Where stored files live. Keys are made by the store and safe to put in a URL."""

    def put(self, data: bytes, *, media_type: str) -> str:
        """Store ``data`` whole and return its new key."""
        ...

    def get(self, key: str) -> StoredFile:
        """The file under ``key``; UnknownAttachment if there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file; a key with no file is not an error (deleting twice is fine)."""
        ...

    def keys(self) -> Iterator[str]:
        """Every stored key (backups walk these)."""
        ...


def new_key(media_type: str) -> str:
    return f"{uuid.uuid4().hex}.{MEDIA_SUFFIXES.get(media_type, 'bin')}"


def media_type_of(key: str) -> str:
    return _TYPES[check_key(key).rsplit(".", 1)[1]]


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise BadAttachmentKey(f"not an attachment key: {str(key)[:60]!r}")
    return key


class FileAttachmentStore:
    """Files in a folder on this machine (the Pi's data folder), written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key

    def put(self, data: bytes, *, media_type: str) -> str:
        key = new_key(media_type)
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name in the same folder (so the rename is atomic), a name no reader asks
        # for; it becomes the real name only once the bytes are on the disk.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_folder(target.parent)
        log.info("stored attachment %s (%s, %d bytes)", key, media_type, len(data))
        return key

    def get(self, key: str) -> StoredFile:
        try:
            data = self.path_of(key).read_bytes()
        except FileNotFoundError:
            raise UnknownAttachment(f"no attachment {key}") from None
        return StoredFile(data=data, media_type=media_type_of(key))

    def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)
        log.info("deleted attachment %s", key)

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir():
                for path in sorted(folder.iterdir()):
                    if KEY_PATTERN.match(path.name):
                        yield path.name


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (the folder's entry), where the OS allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class MemoryAttachmentStore:
    """The fake: files in a dict. ``fail_after`` makes the n-th next ``put`` fail, as a full
    disk would, so tests can show that nothing is left half-stored."""

    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self.fail_after: int | None = None
        self._lock = threading.Lock()

    def put(self, data: bytes, *, media_type: str) -> str:
        with self._lock:
            if self.fail_after is not None:
                if self.fail_after <= 0:
                    raise OSError(28, "No space left on device (fake)")
                self.fail_after -= 1
            key = new_key(media_type)
            self.files[key] = StoredFile(data=bytes(data), media_type=media_type_of(key))
            return key

    def get(self, key: str) -> StoredFile:
        check_key(key)
        try:
            return self.files[key]
        except KeyError:
            raise UnknownAttachment(f"no attachment {key}") from None

    def delete(self, key: str) -> None:
        check_key(key)
        with self._lock:
            self.files.pop(key, None)

    def keys(self) -> Iterator[str]:
        yield from sorted(self.files)


class StoredTogether:
    """Files that belong together: stored all, or none.

        with StoredTogether(store) as batch:
            keys = [batch.put(p, media_type="image/jpeg") for p in photos]
            db.commit()          # if this raises, every file put in the block is deleted
        # after a clean exit the files stay

    ``batch.undo()`` removes them by hand (a commit that failed after the block).
    """

    def __init__(self, store: AttachmentStore) -> None:
        self.store = store
        self.keys: list[str] = []

    def put(self, data: bytes, *, media_type: str) -> str:
        key = self.store.put(data, media_type=media_type)
        self.keys.append(key)
        return key

    def undo(self) -> None:
        for key in self.keys:
            try:
                self.store.delete(key)
            except (OSError, AttachmentError):
                log.exception("could not delete attachment %s while undoing a batch", key)
        if self.keys:
            log.info("undid %d stored attachment(s)", len(self.keys))
        self.keys = []

    def __enter__(self) -> StoredTogether:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None:
            self.undo()


def attachment_folder(settings: ServerSettings) -> Path:
    return settings.attachments.dir or settings.data_dir / "attachments"


def attachment_store(settings: ServerSettings) -> FileAttachmentStore:
    """The store the settings name: today always the data folder's."""
    return FileAttachmentStore(attachment_folder(settings))
