"""The alert book: staff alerts kept in the database (:mod:`server.alerts.rows`), created in the
same transaction as the ticket change, then delivered through the notifier seam by a worker,
retried with backoff, escalated while nobody acknowledges, and sent at most once per recipient —
across restarts too.

Request notices (:meth:`AlertBook.notice`: a new request to its squad, a dispatch to its
volunteer…) are rows of the same book with a :class:`~server.alerts.model.NoticeKind`; the
request side (``server.services.notices``) writes them and they go out through the same outbox,
retries and quiet hours. Their recipients are squads and people, found again at sending time by
:class:`~server.alerts.contacts.ContactBook`.

The sensing side (``server.sensing``) writes in it as conditions become tickets and runs its
escalation and delivery; the book knows no sensor table: an asset's name comes from the
``asset_names`` lookup its owner passes in, and counters go to any ``metrics`` with ``inc``.

At most once: a delivery row is claimed (``pending`` → ``sending`` in one conditional update, so
two workers or replicas never both claim it) and committed *before* the notifier is called. If
the process dies mid-send the row stays ``sending`` and is never sent again; the alert still
shows on the dashboard and the MQTT alert topic, so nobody is left unaware.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from server.alerts.config import AlertsConfig, load_alerts_config
from server.alerts.contacts import ContactBook
from server.alerts.model import AlertKind, AlertMessage, NoticeKind, Recipient
from server.alerts.notices import notice_key
from server.alerts.notifier import Notifier
from server.alerts.policy import (
    AlertSubject,
    QuietHours,
    SiteInfo,
    compose_alert,
    delivery_key,
    due_levels,
    next_attempt_at,
    release_at,
)
from server.alerts.rows import AlertDelivery, AlertRow
from server.lifecycle import OPEN_STATUSES
from server.models import Ticket
from server.rules import Condition, ConditionChange, DueCondition, title_of
from server.settings import ServerSettings
from server.site_profile import quiet_hours_override

__all__ = ["AlertBook", "AssetNames", "Counters"]

log = logging.getLogger(__name__)

_NOTICE_KINDS = frozenset(kind.value for kind in NoticeKind)

# An asset's name for the alert's wording (None: unknown, its id is shown instead).
AssetNames = Callable[[Session, str], str | None]


class Counters(Protocol):
    """Where the book counts what it did (``server.sensing.metrics.Metrics`` in the server)."""

    def inc(self, name: str, amount: float = 1, **labels: str) -> None: ...


class AlertBook:
    """One site's alerts: written with the ticket change, escalated, delivered."""

    def __init__(self, *, config: AlertsConfig, site: SiteInfo, timezone: str,
                 public_url: str, metrics: Counters,
                 asset_names: AssetNames | None = None) -> None:
        self.config = config
        self.site = site
        self.timezone = timezone
        self.public_url = public_url
        self.metrics = metrics
        self.asset_names = asset_names
        self.contacts = ContactBook(config=config, site_id=site.id)

    @classmethod
    def from_settings(cls, settings: ServerSettings, *, metrics: Counters,
                      asset_names: AssetNames | None = None) -> AlertBook:
        """The server's own site's book, from ``config/alerts.toml`` (the channels' secrets from
        the environment, required in production) and the site's settings."""
        site = settings.site
        config = load_alerts_config(settings.ingest.alerts_file, timezone=site.timezone,
                                    require_secrets=settings.environment == "production")
        return cls(config=config,
                   site=SiteInfo(id=site.id, name_zh=site.name_zh, name_en=site.name_en),
                   timezone=site.timezone, public_url=settings.http.public_url,
                   metrics=metrics, asset_names=asset_names)

    def for_site(self, site: SiteInfo) -> AlertBook:
        """The same book for another site of a district (its recipients, its id on alerts)."""
        return AlertBook(config=self.config, site=site, timezone=self.timezone,
                         public_url=self.public_url, metrics=self.metrics,
                         asset_names=self.asset_names)

    # --- creating alerts (inside the caller's transaction) -----------------------------------

    def _asset_name(self, db: Session, asset_id: str | None) -> str | None:
        if asset_id is None or self.asset_names is None:
            return None
        return self.asset_names(db, asset_id)

    def _create(self, db: Session, *, ticket: Ticket, kind: AlertKind, subject: AlertSubject,
                now: datetime, level: int = 0, levels: tuple[int, ...] = (0,)) -> AlertRow:
        message = compose_alert(kind=kind, subject=subject, site=self.site, ticket_id=ticket.id,
                                at=now, level=level, timezone=self.timezone,
                                link=f"{self.public_url}/staff/tickets/{ticket.id}")
        row = AlertRow(ticket_id=ticket.id, kind=kind.value, level=level, urgent=subject.urgent,
                    site_id=self.site.id, asset_id=subject.asset_id, condition=subject.condition,
                    title=message.title[:300], body=message.body, created_at=now)
        db.add(row)
        db.flush()
        self.metrics.inc("servicepoint_alerts_created_total", kind=kind.value)
        not_before = release_at(now, urgent=subject.urgent, quiet=self.quiet_hours(db))
        for each in levels:
            for recipient in self.config.recipients(self.site.id, level=each,
                                                    urgent=subject.urgent):
                self._enqueue(db, row, message, recipient, not_before)
        log.info("alert %s (%s, ticket %s): %s", row.id, kind.value, ticket.id, row.title)
        return row

    def _enqueue(self, db: Session, row: AlertRow, message: AlertMessage, recipient: Recipient,
                 not_before: datetime) -> None:
        key = delivery_key(message, recipient)[:200]
        if db.scalar(select(AlertDelivery.id).where(AlertDelivery.key == key)) is not None:
            return
        db.add(AlertDelivery(key=key, alert_id=row.id, level=recipient.level,
                             staff_id=recipient.staff_id, channel=recipient.channel,
                             status="pending", attempts=0, next_attempt_at=not_before))

    def raised(self, db: Session, *, ticket: Ticket, change: ConditionChange, now: datetime
               ) -> AlertRow:
        subject = AlertSubject.from_change(change,
                                           asset_name=self._asset_name(db, change.asset_id))
        return self._create(db, ticket=ticket, kind=AlertKind.RAISED, subject=subject, now=now)

    def due(self, db: Session, *, ticket: Ticket, due: DueCondition, now: datetime) -> AlertRow:
        subject = AlertSubject.from_due(due, asset_name=self._asset_name(db, due.asset_id))
        return self._create(db, ticket=ticket, kind=AlertKind.RAISED, subject=subject, now=now)

    def reported(self, db: Session, *, ticket: Ticket, subject: AlertSubject, now: datetime
                 ) -> AlertRow:
        """A resident reported a problem with a shared asset (server.services.facility_reports):
        the same raised alert as a sensor's, with no condition of the rules."""
        return self._create(db, ticket=ticket, kind=AlertKind.RAISED, subject=subject, now=now)

    def cleared(self, db: Session, *, ticket: Ticket, change: ConditionChange, now: datetime
                ) -> AlertRow | None:
        told = sorted(set(db.scalars(
            select(AlertDelivery.level).join(AlertRow).where(AlertRow.ticket_id == ticket.id))))
        if db.scalar(select(AlertRow.id).where(AlertRow.ticket_id == ticket.id,
                                               AlertRow.kind == AlertKind.CLEARED.value)):
            return None
        subject = AlertSubject.from_change(change,
                                           asset_name=self._asset_name(db, change.asset_id))
        return self._create(db, ticket=ticket, kind=AlertKind.CLEARED, subject=subject, now=now,
                            levels=tuple(told) or (0,))

    def quiet_hours(self, db: Session) -> QuietHours:
        """The alerts file's quiet hours, or those staff set in the browser (the site's
        settings page: server/site_profile.py)."""
        override = quiet_hours_override(db, self.site.id)
        if override is None:
            return self.config.quiet_hours
        return QuietHours(*override, self.config.quiet_hours.timezone)

    # --- request notices (inside the caller's transaction) ----------------------------------

    def notice(self, db: Session, *, ticket: Ticket, message: AlertMessage,
               recipients: tuple[Recipient, ...], now: datetime, event_id: int | None = None
               ) -> AlertRow:
        """Keep a request notice and queue it for each recipient. ``message.key`` must be
        :func:`~server.alerts.notices.notice_key`'s. Non-urgent notices wait out the quiet hours.
        Request notices never go on the MQTT alert topic (they are not the contract's kinds,
        and they name a resident's place), so they are born published."""
        row = AlertRow(ticket_id=ticket.id, kind=message.kind.value, level=message.level,
                       urgent=message.urgent, site_id=self.site.id, title=message.title[:300],
                       body=message.body, created_at=now, published=True, event_id=event_id)
        db.add(row)
        db.flush()
        self.metrics.inc("servicepoint_alerts_created_total", kind=message.kind.value)
        not_before = release_at(now, urgent=message.urgent, quiet=self.quiet_hours(db))
        for recipient in recipients:
            self._enqueue(db, row, message, recipient, not_before)
        log.info("notice %s (%s, ticket %s) to %s: %s", row.id, message.kind.value, ticket.id,
                 ", ".join(r.key for r in recipients) or "nobody", row.title)
        return row

    # --- escalation -------------------------------------------------------------------------

    def escalate(self, db: Session, *, now: datetime) -> int:
        """Tell the next level about raised alerts nobody acknowledged in time."""
        added = 0
        pending = db.scalars(select(AlertRow).join(Ticket).where(
            AlertRow.kind == AlertKind.RAISED.value, AlertRow.acknowledged_at.is_(None),
            Ticket.status.in_([s.value for s in OPEN_STATUSES]))).all()
        for first in pending:
            started = release_at(first.created_at, urgent=first.urgent,
                                 quiet=self.quiet_hours(db))
            levels = due_levels(started_at=started, acknowledged=False, now=now,
                                ladder=self.config.ladder(first.urgent))
            done = set(db.scalars(select(AlertRow.level).where(
                AlertRow.ticket_id == first.ticket_id,
                AlertRow.kind == AlertKind.ESCALATED.value)))
            for level in levels:
                if level == 0 or level in done:
                    continue
                subject = _subject_of(first, self._asset_name(db, first.asset_id))
                self._create(db, ticket=first.ticket, kind=AlertKind.ESCALATED,
                             subject=subject, now=now, level=level, levels=(level,))
                added += 1
        db.commit()
        return added

    # --- delivery ---------------------------------------------------------------------------

    def deliver_due(self, sessions: Callable[[], Session], notifier: Notifier, *,
                    now: datetime, rand: Callable[[], float] = random.random,
                    limit: int = 50) -> int:
        """Send what is due. Each row is claimed (``sending``) and committed before sending."""
        staff = {r.key: r for site in self.config.sites.values() for r in site}
        sent = 0
        with sessions() as db:
            due = db.scalars(select(AlertDelivery).where(
                AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now)
                .order_by(AlertDelivery.id).limit(limit)).all()
            for row in due:
                recipient = staff.get(f"{row.staff_id}/{row.channel}") or \
                    self.contacts.resolve(db, row.staff_id, row.channel)
                if recipient is None:
                    row.status, row.last_error = "failed", "recipient no longer configured"
                    db.commit()
                    continue
                claimed: CursorResult[Any] = db.execute(  # type: ignore[assignment]
                    update(AlertDelivery)
                    .where(AlertDelivery.id == row.id, AlertDelivery.status == "pending")
                    .values(status="sending", attempts=AlertDelivery.attempts + 1)
                    .execution_options(synchronize_session=False))
                db.commit()
                if not claimed.rowcount:  # another worker took it between our read and our claim
                    continue
                db.refresh(row)
                result = notifier.send(_message_of(row.alert), recipient)
                if result.ok:
                    row.status, row.sent_at = "sent", now
                    sent += 1
                    self.metrics.inc("servicepoint_alert_deliveries_total", outcome="sent")
                else:
                    retry_at = next_attempt_at(now, row.attempts, self.config.retry, rand) \
                        if result.retryable else None
                    row.last_error = result.detail[:500]
                    row.status = "pending" if retry_at else "failed"
                    row.next_attempt_at = retry_at or row.next_attempt_at
                    self.metrics.inc("servicepoint_alert_deliveries_total", outcome="failed")
                    log.warning("alert %s to %s failed (attempt %s): %s", row.alert_id,
                                recipient.key, row.attempts, result.detail[:200])
                db.commit()
        return sent


def _subject_of(alert: AlertRow, asset_name: str | None) -> AlertSubject:
    zh, en = (title_of(Condition(alert.condition)) if alert.condition
              else (alert.title, alert.title))
    return AlertSubject(title_zh=zh, title_en=en, urgent=alert.urgent, asset_id=alert.asset_id,
                        asset_name=asset_name, condition=alert.condition)


def _message_of(row: AlertRow) -> AlertMessage:
    if row.kind in _NOTICE_KINDS:
        notice = NoticeKind(row.kind)
        return AlertMessage(key=notice_key(row.site_id, ticket_id=row.ticket_id, kind=notice,
                                           level=row.level, event_id=row.event_id),
                            kind=notice, urgent=row.urgent, level=row.level,
                            site_id=row.site_id, ticket_id=str(row.ticket_id), title=row.title,
                            body=row.body, created_at=row.created_at)
    return AlertMessage(key=f"{row.site_id}:ticket-{row.ticket_id}:{row.kind}:{row.level}",
                        kind=AlertKind(row.kind), urgent=row.urgent, level=row.level,
                        site_id=row.site_id, ticket_id=str(row.ticket_id), title=row.title,
                        body=row.body, created_at=row.created_at, asset_id=row.asset_id,
                        condition=row.condition)
