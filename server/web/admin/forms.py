"""What every admin form needs: the admin role guard, what was typed kept with an error beside
each field, and the optimistic version check (two people editing the same record: the second
save is refused and shown the other's change, never silently lost).

    form = AdminForm.of(version=version, given_name=given_name, phone=phone)
    if not form.values["given_name"]:
        form.refuse("given_name", N_("请填写称呼"))
    form.check_version(volunteer.version, saved={"given_name": volunteer.given_name, ...})
    if not form.ok:
        return render(request, "admin/volunteer.html", {"form": form}, status=form.status)
    ... change the row ..., then bump(db, volunteer) and audit.record(...)

Error messages are msgids marked with ``N_`` and translated by the template (the macros in
``templates/admin/_form.html``), so each reader sees them in their own language. The rendered
form's hidden ``version`` is the row's version when the page was drawn; after a refused save it
is the saved row's, so a second deliberate save (after reading the other's change) goes through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from server.errors import Conflict
from server.models import Role, User
from server.web.common import _roles
from server.web.words import N_

__all__ = ["AdminForm", "WebAdmin", "bump"]

# Only the 站长 (admin) changes people, places and equipment; the guard is the same kind the
# staff pages use, so tests/access reads it.
WebAdmin = Annotated[User, Depends(_roles(Role.ADMIN))]

STALE = N_("您编辑期间，别人已保存了这条记录。下面标出了对方保存的内容；请核对后再保存。")


class Versioned(Protocol):
    version: int


@dataclass
class AdminForm:
    """One form's state: ``values`` as typed (stripped), ``errors`` per field (msgids), and
    ``stale``: per field, what the other person saved, when the version check failed."""

    values: dict[str, str]
    version: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    stale: dict[str, str] = field(default_factory=dict)
    conflict: bool = False

    @classmethod
    def of(cls, *, version: str = "", **values: str | None) -> AdminForm:
        return cls(values={k: (v or "").strip() for k, v in values.items()}, version=version)

    @classmethod
    def showing(cls, row: Versioned | None, **values: Any) -> AdminForm:
        """A fresh form for a page: the row's values as text, and its version."""
        return cls(values={k: _text(v) for k, v in values.items()},
                   version=str(row.version) if row is not None else "")

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def refuse(self, name: str, message: str) -> None:
        """Answer a mistake beside field ``name`` (the first one said stays)."""
        self.errors.setdefault(name, message)

    def check_version(self, current: int, *, saved: dict[str, Any]) -> bool:
        """False when the row changed since this form was drawn; then ``stale`` holds, for each
        field where what is saved differs from what was typed, the saved value."""
        if self.version == str(current):
            return True
        self.conflict = True
        self.stale = {k: _text(v) for k, v in saved.items() if _text(v) != self.get(k)}
        self.version = str(current)
        return False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.conflict

    @property
    def status(self) -> int:
        """409 for a stale edit, else 422 for a mistake."""
        return 409 if self.conflict else 422

    @property
    def stale_message(self) -> str:
        return STALE


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def bump(db: Session, row: Any) -> None:
    """A save on an admin page: the row's version goes up by one, in the database only if it is
    still the version this request read (two saves racing past :meth:`AdminForm.check_version`
    at once: the second one's UPDATE finds no row and is refused with a 409 page)."""
    model = type(row)
    old = row.version
    moved = db.execute(update(model).where(model.id == row.id, model.version == old)
                       .values(version=old + 1)).rowcount  # type: ignore[attr-defined]
    if moved != 1:
        db.rollback()
        raise Conflict("someone else saved this record at the same moment; reload it")
    set_committed_value(row, "version", old + 1)
