"""Open311 clients in the browser: list the outside systems allowed to file requests, add one
(its key is shown once and only its hash kept, as ``servicepoint open311 key`` does), give one
a new key, revoke one. Every change is in the audit log; a key never is.

Pages: server/web/admin_site.py. The keys themselves: server/open311/service.py ``issue_key``.
Here, not in server/services/, because server/open311/ already imports the services (no circle).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.errors import NotFound
from server.models import User
from server.open311.models import Open311Client, Open311Filing
from server.open311.service import issue_key
from server.services import audit
from server.services.admin_forms import FormRefused, check_version, version_of

__all__ = ["ClientRow", "add_client", "client_rows", "client_version", "new_key",
           "revoke_client"]

log = logging.getLogger(__name__)
NAME = re.compile(r"^[A-Za-z0-9._-]{1,60}$")
FIELDS = ("name", "created_at", "revoked_at")


@dataclass(frozen=True)
class ClientRow:
    client: Open311Client
    filed: int  # requests it has filed
    version: str


def _snapshot(client: Open311Client) -> dict[str, Any]:
    return audit.snapshot(client, *FIELDS)


def client_version(client: Open311Client) -> str:
    return version_of(_snapshot(client))


def client_rows(db: Session) -> list[ClientRow]:
    filed = dict(db.execute(select(Open311Filing.client_id, func.count())
                            .group_by(Open311Filing.client_id)).tuples().all())
    order = (Open311Client.revoked_at.is_not(None), Open311Client.name)  # working ones first
    return [ClientRow(c, filed.get(c.id, 0), client_version(c))
            for c in db.scalars(select(Open311Client).order_by(*order))]


def _get(db: Session, client_id: int) -> Open311Client:
    client = db.get(Open311Client, client_id)
    if client is None:
        raise NotFound("no such Open311 client")
    return client


def add_client(db: Session, *, form: Mapping[str, str], actor: User, now: datetime
               ) -> tuple[Open311Client, str]:
    """A new client and its key (to show once). FormRefused for a bad or taken name."""
    name = form.get("name", "").strip()
    if not name:
        raise FormRefused({"name": "required"})
    if not NAME.match(name):
        raise FormRefused({"name": "bad_client_name"})
    if db.scalar(select(Open311Client.id).where(Open311Client.name == name)) is not None:
        raise FormRefused({"name": "taken"})
    key = issue_key(db, name=name, now=now, commit=False)  # one commit with the audit
    client = db.scalar(select(Open311Client).where(Open311Client.name == name))
    assert client is not None
    audit.record(db, actor=actor, action="open311_client.add", subject=("open311_client",
                                                                       client.id),
                 after=_snapshot(client), now=now)
    db.commit()
    return client, key


def new_key(db: Session, *, client_id: int, seen: str, actor: User, now: datetime
            ) -> tuple[Open311Client, str]:
    """A new key for the client (its old one stops working; a revoked client is let in again)."""
    client = _get(db, client_id)
    before = _snapshot(client)
    check_version(before, seen)
    key = issue_key(db, name=client.name, now=now, commit=False)
    audit.record(db, actor=actor, action="open311_client.new_key",
                 subject=("open311_client", client.id), before=before,
                 after=_snapshot(client), now=now)
    db.commit()
    return client, key


def revoke_client(db: Session, *, client_id: int, seen: str, actor: User, now: datetime
                  ) -> Open311Client:
    """The client's key stops working at once; what it filed stays."""
    client = _get(db, client_id)
    before = _snapshot(client)
    check_version(before, seen)
    client.revoked_at = now
    audit.record(db, actor=actor, action="open311_client.revoke",
                 subject=("open311_client", client.id), before=before,
                 after=_snapshot(client), now=now)
    db.commit()
    log.info("open311 client %s (id %s) revoked by user %s", client.name, client.id, actor.id)
    return client
