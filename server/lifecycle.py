"""The ticket lifecycle: which action may move a ticket from which status to which.

Pure: no database, no framework. One lifecycle serves resident requests and maintenance
tickets raised by sensor conditions::

    new ──dispatch──▶ dispatched ──accept──▶ accepted ──start──▶ in_progress
     ▲                   │                      │                    │
     └──────decline──────┘                      └──────resolve───────┴──▶ resolved ──close──▶ closed
    new/dispatched ──cancel / duplicate──▶ cancelled / duplicate
    resolved ──reopen──▶ in_progress      (the resident says it is not done)

Staff may also resolve a maintenance ticket directly from any open status (a sensor condition
that staff dealt with themselves), and cancel any open ticket.

    plan = transition("new", "dispatch")   # -> "dispatched"
    transition("new", "accept")            # raises IllegalTransition

A ticket's history rows name what happened with one :class:`HistoryAction`: every lifecycle
:class:`Action`, plus the entries that change no status (a sensor raised or cleared the
condition, fresh evidence, an overdue flag, an acknowledged alert, a recorded cleaning).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from server.errors import IllegalTransition

__all__ = [
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "Action",
    "HistoryAction",
    "Status",
    "allowed_actions",
    "transition",
]


class Status(StrEnum):
    NEW = "new"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"


class Action(StrEnum):
    FILE = "file"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    DECLINE = "decline"
    START = "start"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    CANCEL = "cancel"
    DUPLICATE = "duplicate"
    # Not a status change: a note by a person (a staff member's acknowledgement).
    NOTE = "note"


class HistoryAction(StrEnum):
    """What a ticket history row records: each lifecycle action, or an entry beside them.

    The values are what the rows hold, so rows written before this enum existed read as
    members too (``raise`` and ``condition_cleared`` are the spellings the sensor side has
    always written; the API's history shows them as they are).
    """

    FILE = "file"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    DECLINE = "decline"
    START = "start"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    CANCEL = "cancel"
    DUPLICATE = "duplicate"
    NOTE = "note"
    # Entries that change no status.
    RAISED = "raise"  # a sensor condition or a due date raised the ticket
    CLEARED = "condition_cleared"  # the sensor condition went away
    EVIDENCE = "evidence"  # the condition is still there: fresh readings
    OVERDUE = "overdue"  # not accepted within the category's target time
    ACKNOWLEDGED = "acknowledge"  # a staff member acknowledged the ticket's alert
    CLEANING_RECORDED = "cleaning_recorded"  # a tank cleaning and its water test were logged
    RESIDENT_REPORT = "resident_report"  # a resident reported a problem with this asset

    @classmethod
    def of(cls, action: Action) -> HistoryAction:
        """The history entry of a lifecycle action."""
        return cls(action.value)


TERMINAL_STATUSES: Final = frozenset({Status.CLOSED, Status.CANCELLED, Status.DUPLICATE})
OPEN_STATUSES: Final = frozenset(set(Status) - TERMINAL_STATUSES)

_S = Status
_TRANSITIONS: Final[dict[Action, tuple[frozenset[Status], Status]]] = {
    Action.DISPATCH: (frozenset({_S.NEW, _S.DISPATCHED}), _S.DISPATCHED),
    Action.ACCEPT: (frozenset({_S.DISPATCHED}), _S.ACCEPTED),
    Action.DECLINE: (frozenset({_S.DISPATCHED, _S.ACCEPTED}), _S.NEW),
    Action.START: (frozenset({_S.ACCEPTED}), _S.IN_PROGRESS),
    Action.RESOLVE: (frozenset({_S.ACCEPTED, _S.IN_PROGRESS}), _S.RESOLVED),
    Action.REOPEN: (frozenset({_S.RESOLVED}), _S.IN_PROGRESS),
    Action.CLOSE: (frozenset({_S.RESOLVED}), _S.CLOSED),
    Action.CANCEL: (frozenset({_S.NEW, _S.DISPATCHED}), _S.CANCELLED),
    Action.DUPLICATE: (frozenset({_S.NEW, _S.DISPATCHED}), _S.DUPLICATE),
}
# Wider rights for staff acting on maintenance tickets and for cancelling.
_STAFF_EXTRA: Final[dict[Action, frozenset[Status]]] = {
    Action.RESOLVE: frozenset({_S.NEW, _S.DISPATCHED, _S.ACCEPTED, _S.IN_PROGRESS}),
    Action.CANCEL: frozenset(OPEN_STATUSES),
}

_STATUS_ZH: Final = {
    _S.NEW: "新建", _S.DISPATCHED: "已派单", _S.ACCEPTED: "已接单", _S.IN_PROGRESS: "处理中",
    _S.RESOLVED: "已完成", _S.CLOSED: "已关闭", _S.CANCELLED: "已取消", _S.DUPLICATE: "重复",
}


def transition(status: str, action: str, *, staff: bool = False) -> Status:
    """The status a ticket moves to when ``action`` is taken; IllegalTransition when refused."""
    try:
        current = Status(status)
        verb = Action(action)
    except ValueError:
        raise IllegalTransition(f"unknown status or action: {status!r}, {action!r}") from None
    if verb is Action.NOTE:
        return current
    if verb not in _TRANSITIONS:
        raise IllegalTransition(f"{verb} is not an action on an existing ticket")
    sources, target = _TRANSITIONS[verb]
    if staff and verb in _STAFF_EXTRA:
        sources = sources | _STAFF_EXTRA[verb]
    if current not in sources:
        raise IllegalTransition(
            f"cannot {verb} a ticket that is {current} ({_STATUS_ZH[current]})"
        )
    return target


def allowed_actions(status: str, *, staff: bool = False) -> list[Action]:
    """Actions that would be accepted now, in a stable order (for buttons on pages)."""
    result = []
    for verb in _TRANSITIONS:
        try:
            transition(status, verb, staff=staff)
        except IllegalTransition:
            continue
        result.append(verb)
    return result


def status_zh(status: str) -> str:
    return _STATUS_ZH[Status(status)]
