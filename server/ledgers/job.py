"""On the 1st of each month: write last month's ledger (台账) as an ``.xlsx`` under
``<data_dir>/ledgers/`` and tell the duty staff's channels that it is ready, with the link to
download it from the staff pages (a WeCom or DingTalk robot cannot carry a file; the link asks
them to sign in, so the file never travels outside the service point).

The server's scheduler wakes it hourly; the audit log remembers that a month is written, so a
restart or a second replica never writes or announces it twice, and a month missed while the
server was off is written when it comes back::

    run_monthly_ledger(db, settings=settings, rules=rules, now=now, announce=announce)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alerts import load_alerts_config
from server.alerts.model import AlertMessage, NoticeKind
from server.alerts.notifier import Notifier
from server.audit_log import AuditEntry
from server.equipment.ledger import workbook
from server.ledgers.monthly import ledger_tables
from server.rules import RulesConfig
from server.services import audit
from server.settings import ServerSettings
from server.sites.rules import SiteScope
from server.sites.scoping import scope_session

__all__ = ["WRITTEN", "announcer", "ledger_path", "previous_month", "run_monthly_ledger"]

log = logging.getLogger(__name__)
WRITTEN = "ledger.written"
Announce = Callable[[str, str], int]  # (title, body) -> channels reached


def previous_month(now: datetime, timezone: str) -> tuple[int, int]:
    today = now.astimezone(ZoneInfo(timezone)).date()
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def ledger_path(data_dir: Path, year: int, month: int) -> Path:
    return data_dir / "ledgers" / f"ledger-{year}-{month:02d}.xlsx"


def _written(db: Session, key: str) -> bool:
    return db.scalar(select(AuditEntry.id).where(AuditEntry.action == WRITTEN,
                                                 AuditEntry.subject_id == key).limit(1)) is not None


def run_monthly_ledger(db: Session, *, settings: ServerSettings, rules: RulesConfig,
                       now: datetime, announce: Announce | None) -> Path | None:
    """Write last month's ledger unless it is written already; the file's path, or None.

    The home site's only: ``db`` is scoped to it (server/sites/), so on a district's centre the
    job never mixes another site's rows into this file (each site's staff download their own
    at /staff/ledger.xlsx)."""
    scope_session(db, SiteScope(sites=frozenset({settings.site.id}), acting=settings.site.id))
    year, month = previous_month(now, settings.site.timezone)
    key = f"{year}-{month:02d}"
    if _written(db, key):
        return None
    data = workbook(ledger_tables(db, year=year, month=month, timezone=settings.site.timezone,
                                  rules=rules, now=now))
    path = ledger_path(Path(settings.data_dir), year, month)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_bytes(data)
    os.replace(part, path)  # a reader never sees half a file
    audit.record(db, actor=None, action=WRITTEN, subject=("ledger", key), now=now,
                 note=str(path))
    db.commit()
    link = f"{settings.http.public_url}/staff/ledger.xlsx?year={year}&month={month}"
    reached = 0
    if announce is not None:
        reached = announce(f"{settings.site.name_zh} {year}年{month}月台账已生成",
                           f"{year}年{month}月的服务统计、志愿服务时长、维修、图书借阅和设备台账"
                           f"已生成，登录后下载：{link}")
    log.info("ledger %s written to %s (%d bytes), announced on %d channels", key, path,
             len(data), reached)
    return path


def announcer(settings: ServerSettings, notifier: Notifier | None,
              clock: Callable[[], datetime]) -> Announce | None:
    """Send a message to the duty staff's channels (the first level of the alerts' ladder that
    takes ordinary, not only urgent, messages) through the app's notifier. The alerts file is
    read when a message is sent (once a month), not each hour the job wakes."""
    if notifier is None:
        return None
    site = settings.site

    def announce(title: str, body: str) -> int:
        config = load_alerts_config(settings.ingest.alerts_file, timezone=site.timezone,
                                    require_secrets=settings.environment == "production")
        recipients = config.recipients(site.id, level=0, urgent=False)
        message = AlertMessage(key=f"ledger:{site.id}:{title}", kind=NoticeKind.LEDGER,
                               urgent=False, level=0, site_id=site.id, ticket_id="",
                               title=title, body=body, created_at=clock())
        return sum(1 for recipient in recipients if notifier.send(message, recipient).ok)

    return announce
