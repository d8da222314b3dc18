"""What /healthz checks besides the database: that the server can still write to its disk, and
how much room is left there.

A full disk fails every write (a filed request, a reading, a session) while a plain
``SELECT 1`` still answers, so health writes a small file into the data folder (and the SQLite
database's folder, when that is elsewhere), syncs it and removes it. A failed write, or less
free space than ``MIN_FREE_BYTES``, makes health ``degraded`` (HTTP 503).

    disk = probe_disk([settings.data_dir])
    disk.ok, disk.free_bytes, disk.problem
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MIN_FREE_BYTES", "DiskHealth", "probe_disk", "probe_folders"]

log = logging.getLogger(__name__)

# Below this the next backup, log rotation or busy day of readings may not fit.
MIN_FREE_BYTES = 64 * 1024 * 1024
_PROBE_BYTES = b"\0" * 4096  # one page: on a full file system even that fails


@dataclass(frozen=True)
class DiskHealth:
    write_ok: bool
    free_bytes: int
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.write_ok and self.free_bytes >= MIN_FREE_BYTES


def probe_folders(data_dir: Path, database_url: str) -> list[Path]:
    """The folders the server writes to: its data folder, and a SQLite database's folder."""
    folders = [Path(data_dir)]
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        folder = Path(database_url.removeprefix("sqlite:///")).parent
        if folder not in folders:
            folders.append(folder)
    return folders


def probe_disk(folders: Iterable[Path]) -> DiskHealth:
    """Write, sync and remove a small file in each folder; report the least free space."""
    free: list[int] = []
    for folder in folders:
        probe = folder / f".healthz-{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)  # the server would make it to write there
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, _PROBE_BYTES)
                os.fsync(fd)
            finally:
                os.close(fd)
            free.append(shutil.disk_usage(folder).free)
        except OSError as exc:
            log.error("health: cannot write in %s: %s", folder, exc.strerror or exc)
            with contextlib.suppress(OSError):
                free.append(shutil.disk_usage(folder).free)
            return DiskHealth(write_ok=False, free_bytes=min(free, default=0),
                              problem=f"cannot write in the data folder: {exc.strerror or exc}")
        finally:
            with contextlib.suppress(OSError):
                probe.unlink(missing_ok=True)
    least = min(free, default=0)
    if least < MIN_FREE_BYTES:
        return DiskHealth(write_ok=True, free_bytes=least,
                          problem=f"only {least // 1024} KB free")
    return DiskHealth(write_ok=True, free_bytes=least)

