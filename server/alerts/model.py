"""The values that cross the notifier seam: an alert, who gets it, and how its delivery went.

Two families of message share the seam and the outbox: staff alerts about a ticket raised by a
condition (:class:`AlertKind`, the kinds the MQTT alert topic carries too) and notices to the
people who work a resident's request (:class:`NoticeKind`: the squad, the volunteer, the leader,
the duty staff, the resident), which never go on MQTT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from server.alerts.errors import DeliveryFailed

__all__ = ["AlertKind", "AlertMessage", "Delivery", "NoticeKind", "Recipient"]


class AlertKind(StrEnum):
    RAISED = "raised"  # a condition became a ticket: the first level is told
    ESCALATED = "escalated"  # nobody acknowledged in time: the next level is told
    CLEARED = "cleared"  # the condition went away: everyone told so far hears it


class NoticeKind(StrEnum):
    """What happened to a resident's request, and so who is told (居民点单、分队下单、党员接单)."""

    NEW_REQUEST = "new_request"  # filed (or placed by staff): the squad
    DISPATCHED = "dispatched"  # given to a volunteer: that volunteer, with a one-tap link
    DECLINED = "declined"  # the volunteer gave it back: the squad leader, with the reason
    OVERDUE = "overdue"  # not accepted in time: the leader (level 0), then staff up the ladder
    RESOLVED = "resolved"  # marked done: the resident, asked to confirm (where configured)
    RECEIVED = "received"  # filed for them by staff (代办): the resident, with the status link
    LEDGER = "ledger"  # the month's ledger (台账) is written: the duty staff, with its link
    # A visit by appointment (server/appointments/reminders.py): the evening before and an
    # hour before (levels 1 and 2), to the volunteer (else the squad leader) and the resident;
    # and its slot cancelled by staff (level 0), to the same people.
    APPOINTMENT = "appointment"
    APPOINTMENT_CANCELLED = "appt_cancelled"


@dataclass(frozen=True)
class AlertMessage:
    """One message about one ticket, ready to send on any channel.

    ``key`` is stable for the same (ticket, kind, level), so an outbox row keyed by
    ``(alert.key, recipient.key)`` is at most one delivery per recipient per alert.
    """

    key: str
    kind: AlertKind | NoticeKind
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
