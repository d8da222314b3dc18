"""Small files the kiosk keeps in ``<data_dir>/kiosk/``: the catalog cache and the draft.

Both are JSON written atomically (a temporary file, fsync, rename, fsync of the folder), so a
power cut leaves either the old file or the new one, never half of one.

    cache = JsonFile(folder / "categories.json")
    cache.save(payload); cache.load()   # None when missing or unreadable
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

__all__ = ["JsonFile", "write_atomic"]

log = logging.getLogger(__name__)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    # The rename itself must reach the disk too, or a power cut can undo it.
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JsonFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> Any | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return None

    def save(self, value: Any) -> None:
        write_atomic(self.path, json.dumps(value, ensure_ascii=False).encode("utf-8"))

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
