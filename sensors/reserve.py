"""A file of reserved space beside the outbox, given back when the disk is full.

On a full file system SQLite cannot even delete: a delete is written to the WAL first, and the
WAL cannot grow; nor can a checkpoint copy the WAL into the database file. So the outbox's
full-disk policy (periodic readings give way to events) could not act on a real full disk. The
reserve is an ordinary file of ``size`` bytes the outbox keeps while there is room; when SQLite
says the disk is full, the outbox removes it, which leaves room to checkpoint and to thin, and
makes it again once the disk has room to spare. Pure ``os`` calls; used by
:class:`sensors.outbox.Outbox`::

    reserve = SpaceReserve(Path("sensors-pump-room.reserve"), size=256 * 1024)
    reserve.ensure()          # made if missing and the disk has room for it and more
    if reserve.release(): ... # there is room again, for a moment
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["SpaceReserve"]

log = logging.getLogger(__name__)


class SpaceReserve:
    def __init__(self, path: Path, *, size: int) -> None:
        self.path = path
        self.size = size

    @property
    def held(self) -> bool:
        return self.path.exists()

    def ensure(self) -> bool:
        """Make the reserve if it is missing and the disk has at least twice its size free
        (so making it does not fill the disk itself). True if it is held afterwards."""
        if self.size <= 0:
            return False
        if self.held:
            return True
        try:
            stats = os.statvfs(self.path.parent)
            if stats.f_bavail * stats.f_frsize < 2 * self.size:
                return False
            part = self.path.with_name(self.path.name + ".new")
            with open(part, "wb") as handle:
                # Written, not only sized: a sparse file would reserve nothing.
                handle.write(b"\0" * self.size)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(part, self.path)
        except OSError as exc:
            log.info("could not reserve %d bytes at %s: %s", self.size, self.path, exc)
            return False
        return True

    def release(self) -> bool:
        """Give the reserved space back to the file system. True if there was any."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.warning("could not remove the space reserve %s: %s", self.path, exc)
            return False
        log.warning("the disk is full: released the %d bytes reserved at %s so the outbox can "
                    "make room", self.size, self.path)
        return True
