"""What the catalogue's admin services share: a refused form with its mistakes by field, and
the optimistic version check (two staff editing one record: the second save is refused with
the other's change, never silently lost).

A record's *version* is a short hash of what the form shows of it (its audit snapshot): the
page sends the version it showed, and the save is refused when the record has changed since.
No version column is needed, so the same check covers tables other parts own (buildings,
grids, Open311 clients). Used by server/services/category_admin.py, place_admin.py,
site_profile.py and open311/admin.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from server.errors import Conflict, Invalid

__all__ = ["FormRefused", "StaleEdit", "check_version", "version_of"]


class FormRefused(Invalid):
    """The form has mistakes: ``problems`` maps a field to a problem code the page words."""

    code = "form_refused"

    def __init__(self, problems: Mapping[str, str], *, detail: Any = None) -> None:
        super().__init__("the form has mistakes: " + ", ".join(sorted(problems)))
        self.problems = dict(problems)
        self.detail = detail  # e.g. the questions' line errors


class StaleEdit(Conflict):
    """Someone saved this record after the page was opened; ``current`` is what they saved."""

    code = "stale_edit"

    def __init__(self, current: Mapping[str, Any]) -> None:
        super().__init__("this record was changed by someone else since the page was opened")
        self.current = dict(current)


def version_of(snapshot: Mapping[str, Any]) -> str:
    text = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_version(snapshot: Mapping[str, Any], seen: str) -> None:
    """Refuse the save when the record is no longer what the page showed."""
    if version_of(snapshot) != seen:
        raise StaleEdit(snapshot)
