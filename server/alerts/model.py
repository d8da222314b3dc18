"""The values that cross the notifier seam: an alert, who gets it, and how its delivery went."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from server.alerts.errors import DeliveryFailed

__all__ = ["AlertMessage", "AlertKind", "Delivery", "Recipient"]


class AlertKind(StrEnum):
    RAISED = "raised"  # a condition became a ticket: the first level is told
    ESCALATED = "escalated"  # nobody acknowledged in time: the next level is told
    CLEARED = "cleared"  # the condition went away: everyone told so far hears it


@dataclass(frozen=True)
class AlertMessage:
    """One message about one ticket, ready to send on any channel.

    ``key`` is stable for the same (ticket, kind, level), so an outbox row keyed by
    ``(alert.key, recipient.key)`` is at most one delivery per recipient per alert.
    """

    key: str
    kind: AlertKind
    urgent: bool
    level: int
    site_id: str
    ticket_id: str
    title: str
    body: str
    created_at: datetime
    asset_id: str | None = None
    condition: str | None = None


@dataclass(frozen=True)
class Recipient:
    """One channel of one staff member. ``url`` is an Apprise URL holding secrets: never logged."""

    staff_id: str
    name: str
    channel: str
    url: str = field(repr=False)
    level: int = 0
    urgent_only: bool = False

    @property
    def key(self) -> str:
        """Names the recipient without its secret, for outbox rows and logs."""
        return f"{self.staff_id}/{self.channel}"


@dataclass(frozen=True)
class Delivery:
    """How one send went. ``retryable`` is False when trying again cannot help (a bad URL)."""

    ok: bool
    recipient_key: str
    detail: str = ""
    retryable: bool = False

    @classmethod
    def delivered(cls, recipient: Recipient, detail: str = "") -> Delivery:
        return cls(ok=True, recipient_key=recipient.key, detail=detail)

    @classmethod
    def failed(cls, recipient: Recipient, detail: str, *, retryable: bool) -> Delivery:
        return cls(ok=False, recipient_key=recipient.key, detail=detail, retryable=retryable)

    def raise_for_failure(self) -> None:
        if not self.ok:
            raise DeliveryFailed(f"{self.recipient_key}: {self.detail}", retryable=self.retryable)
