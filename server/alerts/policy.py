"""Alert policy, all pure: what to say, to whom, when, and when to try again.

Nothing here sends anything or reads a clock; the outbox worker (server core) calls these and
the :class:`~server.alerts.notifier.Notifier`. The intended wiring::

    subject = AlertSubject.from_change(change, asset_name="1号蓄水池")
    start = release_at(ticket.created_at, urgent=subject.urgent, quiet=config.quiet_hours)
    for level in due_levels(started_at=start, acknowledged=ticket.acknowledged, now=now,
                            ladder=config.ladder(subject.urgent)):
        alert = compose_alert(kind=RAISED if level == 0 else ESCALATED, level=level, ...)
        for recipient in config.recipients(site_id, level=level, urgent=alert.urgent):
            outbox.insert_once(delivery_key(alert, recipient),
                               not_before=release_at(now, urgent=alert.urgent, ...))

- :func:`compose_alert` writes the title and body (zh_CN first, English after).
- :func:`due_levels` is the escalation ladder: level *n* is due ``after_minutes[n]`` after the
  ladder started unless someone acknowledged; acknowledging stops it.
- :func:`in_quiet_hours` / :func:`release_at`: non-urgent alerts wait for the end of quiet
  hours; urgent ones (overflow, extinguisher missing) always go at once.
- :func:`retry_delay` / :func:`next_attempt_at`: exponential backoff with a cap and jitter from
  an injected random source.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.alerts.errors import InvalidPolicy
from server.alerts.model import AlertKind, AlertMessage, Recipient
from server.rules import ConditionChange, DueCondition

__all__ = [
    "AlertSubject",
    "EscalationLadder",
    "QuietHours",
    "RetryPolicy",
    "SiteInfo",
    "compose_alert",
    "delivery_key",
    "due_levels",
    "in_quiet_hours",
    "next_attempt_at",
    "next_escalation_at",
    "recipients_for_level",
    "release_at",
    "retry_delay",
]


@dataclass(frozen=True)
class SiteInfo:
    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class AlertSubject:
    """What an alert is about: a condition on an asset (or any ticket with a title)."""

    title_zh: str
    title_en: str
    urgent: bool
    asset_id: str | None = None
    asset_name: str | None = None
    condition: str | None = None
    since: datetime | None = None
    due_on: date | None = None
    evidence: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def from_change(cls, change: ConditionChange, *, asset_name: str | None = None) -> AlertSubject:
        return cls(
            title_zh=change.title_zh, title_en=change.title_en, urgent=change.urgent,
            asset_id=change.asset_id, asset_name=asset_name, condition=change.condition.value,
            since=change.since, evidence=change.evidence,
        )

    @classmethod
    def from_due(cls, due: DueCondition, *, asset_name: str | None = None) -> AlertSubject:
        return cls(
            title_zh=due.title_zh, title_en=due.title_en, urgent=due.urgent,
            asset_id=due.asset_id, asset_name=asset_name, condition=due.condition.value,
            due_on=due.due_on, evidence=due.evidence,
        )


_PREFIX = {
    AlertKind.RAISED: ("", ""),
    AlertKind.ESCALATED: ("【升级】", "[Escalated] "),
    AlertKind.CLEARED: ("【已恢复】", "[Cleared] "),
}


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def compose_alert(
    *,
    kind: AlertKind,
    subject: AlertSubject,
    site: SiteInfo,
    ticket_id: str | int,
    at: datetime,
    level: int = 0,
    link: str | None = None,
    unacknowledged_for: timedelta | None = None,
    timezone: str,
) -> AlertMessage:
    """The alert for a ticket being raised, escalated or cleared. Chinese first, then English;
    times in the site's ``timezone``."""
    zone = ZoneInfo(timezone)
    urgent_zh, urgent_en = ("【紧急】", "URGENT ") if subject.urgent else ("", "")
    kind_zh, kind_en = _PREFIX[kind]
    title = (f"{urgent_zh}{kind_zh}{site.name_zh}：{subject.title_zh} | "
             f"{urgent_en}{kind_en}{subject.title_en}")
    what = subject.asset_name or subject.asset_id
    lines = [
        f"{subject.title_zh}（{what}）" if what else subject.title_zh,
        f"{subject.title_en} ({subject.asset_id or what})" if what else subject.title_en,
        f"站点 Site：{site.name_zh} {site.name_en}",
        f"时间 Time：{_local(at, zone)}",
    ]
    if subject.since is not None:
        lines.append(f"开始 Since：{_local(subject.since, zone)}")
    if subject.due_on is not None:
        lines.append(f"到期 Due：{subject.due_on.isoformat()}")
    lines.append(f"工单 Ticket：#{ticket_id}")
    shown = {k: v for k, v in subject.evidence.items() if v is not None}
    if shown:
        lines.append("读数 Evidence：" + ", ".join(f"{k}={v}" for k, v in shown.items()))
    if kind is AlertKind.ESCALATED and unacknowledged_for is not None:
        minutes = int(unacknowledged_for.total_seconds() // 60)
        lines.append(f"已{minutes}分钟无人确认 / Not acknowledged for {minutes} min")
    if kind is AlertKind.CLEARED:
        lines.append("情况已恢复，请在工单中确认处理结果 / "
                     "The condition has cleared; record the outcome on the ticket")
    elif link:
        lines.append(f"请确认 Please acknowledge：{link}")
    else:
        lines.append("请在工作台确认 / Please acknowledge on the dashboard")
    return AlertMessage(
        key=f"{site.id}:ticket-{ticket_id}:{kind.value}:{level}",
        kind=kind,
        urgent=subject.urgent,
        level=level,
        site_id=site.id,
        ticket_id=str(ticket_id),
        title=title,
        body="\n".join(lines),
        created_at=at,
        asset_id=subject.asset_id,
        condition=subject.condition,
    )


def delivery_key(alert: AlertMessage, recipient: Recipient) -> str:
    """The outbox's unique key: at most one delivery per recipient per alert."""
    return f"{alert.key}>{recipient.key}"


# --- escalation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationLadder:
    """Minutes after the start at which each level is told; level 0 is normally at 0."""

    after_minutes: tuple[int, ...]

    def __post_init__(self) -> None:
        steps = self.after_minutes
        if not steps or any(b < a for a, b in zip(steps, steps[1:], strict=False)) or steps[0] < 0:
            raise InvalidPolicy("after_minutes must be a non-empty, non-decreasing list from >= 0")

    def due_at(self, started_at: datetime, level: int) -> datetime:
        return started_at + timedelta(minutes=self.after_minutes[level])


def due_levels(
    *, started_at: datetime, acknowledged: bool, now: datetime, ladder: EscalationLadder
) -> tuple[int, ...]:
    """Every level whose time has come, while nobody has acknowledged.

    The caller enqueues the ones not yet enqueued (the outbox key makes repeats harmless).
    ``started_at`` is when the first alert could go out: pass ``release_at(raised_at, ...)`` so
    that a normal alert held over quiet hours does not escalate before anyone could read it.
    """
    if acknowledged:
        return ()
    return tuple(
        level for level in range(len(ladder.after_minutes))
        if ladder.due_at(started_at, level) <= now
    )


def next_escalation_at(
    *, started_at: datetime, acknowledged: bool, now: datetime, ladder: EscalationLadder
) -> datetime | None:
    """When the next level comes due, for the worker's timer; None if none will."""
    if acknowledged:
        return None
    later = [ladder.due_at(started_at, level) for level in range(len(ladder.after_minutes))]
    return min((at for at in later if at > now), default=None)


# --- quiet hours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """Local hours (in the site's ``timezone``) when non-urgent alerts wait. ``start == end``
    means no quiet hours."""

    start: time
    end: time
    timezone: str

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # fail at load, not at 2 am


def in_quiet_hours(now: datetime, quiet: QuietHours) -> bool:
    local = now.astimezone(ZoneInfo(quiet.timezone)).time()
    if quiet.start == quiet.end:
        return False
    if quiet.start < quiet.end:  # e.g. 12:00-14:00, within one day
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # e.g. 22:00-07:00, across midnight


def release_at(now: datetime, *, urgent: bool, quiet: QuietHours) -> datetime:
    """When an alert may go out: now, or for a non-urgent one the end of the quiet hours."""
    if urgent or not in_quiet_hours(now, quiet):
        return now
    zone = ZoneInfo(quiet.timezone)
    local = now.astimezone(zone)
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    return end.astimezone(now.tzinfo)


# --- retries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    first_delay_s: float = 30.0
    factor: float = 2.0
    max_delay_s: float = 1800.0
    max_attempts: int = 8
    jitter: float = 0.2  # each delay is shortened by up to this fraction, at random

    def __post_init__(self) -> None:
        if not (
            self.first_delay_s > 0
            and self.factor >= 1
            and self.max_delay_s >= self.first_delay_s
            and self.max_attempts >= 1
            and 0 <= self.jitter < 1
        ):
            raise InvalidPolicy(f"inconsistent retry policy: {self}")


def retry_delay(
    failed_attempts: int,
    policy: RetryPolicy,
    rand: Callable[[], float] = _random.random,
) -> timedelta | None:
    """How long to wait after the ``failed_attempts``-th failure; None means give up.

    ``first * factor**(n-1)``, capped at ``max_delay_s``, then shortened by up to ``jitter`` so
    that many alerts failing together (the uplink is down) do not retry in lockstep. Jitter only
    shortens, so the cap holds. ``rand`` returns a float in [0, 1): inject one in tests.
    """
    if failed_attempts < 1:
        raise InvalidPolicy("failed_attempts starts at 1")
    if failed_attempts >= policy.max_attempts:
        return None
    exponent = min(failed_attempts - 1, 64)  # beyond this the cap has long been reached
    base = min(policy.max_delay_s, policy.first_delay_s * policy.factor**exponent)
    return timedelta(seconds=base * (1 - policy.jitter * rand()))


def next_attempt_at(
    failed_at: datetime,
    failed_attempts: int,
    policy: RetryPolicy,
    rand: Callable[[], float] = _random.random,
) -> datetime | None:
    delay = retry_delay(failed_attempts, policy, rand)
    return None if delay is None else failed_at + delay


def recipients_for_level(
    recipients: Sequence[Recipient], *, level: int, urgent: bool
) -> tuple[Recipient, ...]:
    """The recipients of one ladder level; ``urgent_only`` staff hear only urgent alerts."""
    return tuple(r for r in recipients if r.level == level and (urgent or not r.urgent_only))
