"""The ticket lifecycle refuses every move a volunteer, leader or resident should not make."""

import pytest

from server.errors import IllegalTransition
from server.lifecycle import OPEN_STATUSES, Action, Status, allowed_actions, transition


def test_the_happy_path_of_a_request() -> None:
    status = Status.NEW
    for action, expected in [(Action.DISPATCH, "dispatched"), (Action.ACCEPT, "accepted"),
                             (Action.START, "in_progress"), (Action.RESOLVE, "resolved"),
                             (Action.CLOSE, "closed")]:
        status = transition(status, action)
        assert status == expected


@pytest.mark.parametrize(("status", "action"), [
    ("new", "accept"), ("new", "resolve"), ("new", "close"), ("dispatched", "close"),
    ("accepted", "cancel"), ("closed", "dispatch"), ("cancelled", "accept"),
    ("resolved", "accept"), ("duplicate", "reopen"), ("in_progress", "start"),
])
def test_illegal_moves_are_refused_with_a_reason(status: str, action: str) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot {action}"):
        transition(status, action)


def test_a_declined_ticket_goes_back_to_the_squad() -> None:
    assert transition("dispatched", "decline") == Status.NEW


def test_staff_may_resolve_and_cancel_from_any_open_status() -> None:
    for status in OPEN_STATUSES - {Status.RESOLVED}:
        assert transition(status, "resolve", staff=True) == Status.RESOLVED
    assert transition("in_progress", "cancel", staff=True) == Status.CANCELLED
    with pytest.raises(IllegalTransition):
        transition("in_progress", "cancel")


def test_unknown_words_are_refused_not_crashed() -> None:
    with pytest.raises(IllegalTransition):
        transition("new", "teleport")
    with pytest.raises(IllegalTransition):
        transition("lost", "dispatch")


def test_allowed_actions_lists_what_buttons_to_show() -> None:
    assert allowed_actions("new") == [Action.DISPATCH, Action.CANCEL, Action.DUPLICATE]
    assert allowed_actions("closed") == []
