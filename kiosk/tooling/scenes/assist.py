"""The scenes of the kiosk's help (kiosk/assist.py): 查进度 (both keypads, each answer), the
呼叫工作人员 window in its three states over a half-filed request, and the 打印凭条 button with
each thing a printer can answer. Answers are handed to the flow as the server would give them;
the printer is a stand-in that prints nothing (the print notes are set as its answers would)."""

from __future__ import annotations

from typing import Any

from kiosk.flow import Step
from kiosk.flow.lookup import LookupResult
from kiosk.presenters.slip import Slip
from kiosk.tooling.scenes.base import DEMO_TOKEN, ManualClock, Scene, reset, type_digits
from kiosk.tooling.scenes.library import _lib_receipt
from kiosk.tooling.scenes.request import _done, _to

__all__ = ["ASSIST_SCENES"]


class _NoPaper:
    """A printer that is there but prints nothing: the button shows, nothing is written."""

    def print_slip(self, slip: Slip) -> None:
        pass


def _lookup(app: Any, clock: ManualClock) -> None:
    reset(app)
    app.flow.open_lookup()
    type_digits(app.flow, "42")
    app.sync()


def _lookup_empty(app: Any, clock: ManualClock) -> None:
    reset(app)
    app.flow.open_lookup()
    app.flow.confirm_lookup_number()
    app.sync()


def _lookup_phone(app: Any, clock: ManualClock) -> None:
    _lookup(app, clock)
    app.flow.confirm_lookup_number()
    type_digits(app.flow, "12")
    app.sync()


def _asked(app: Any, clock: ManualClock) -> Any:
    _lookup_phone(app, clock)
    type_digits(app.flow, "34")
    query = app.flow.confirm_lookup_phone()
    app.sync()
    return query


def _lookup_searching(app: Any, clock: ManualClock) -> None:
    _asked(app, clock)


def _lookup_found(app: Any, clock: ManualClock, *, volunteer: str | None = "建国") -> None:
    query = _asked(app, clock)
    app.flow.lookup_found(query, LookupResult(
        number="K1-0042", status="accepted", status_zh="志愿者已接单", status_en="Accepted",
        category_zh="水电维修", category_en="Water & electrical repair", volunteer=volunteer,
        filed_on="2026-11-24", status_url=f"{app.settings.http.public_url}/r/{DEMO_TOKEN}"))
    app.sync()


def _lookup_found_waiting(app: Any, clock: ManualClock) -> None:
    _lookup_found(app, clock, volunteer=None)


def _lookup_not_found(app: Any, clock: ManualClock) -> None:
    app.flow.lookup_missed(_asked(app, clock))
    app.sync()


def _lookup_unreachable(app: Any, clock: ManualClock) -> None:
    app.flow.lookup_unreachable(_asked(app, clock))
    app.sync()


def _help(state: str) -> Scene:
    def scene(app: Any, clock: ManualClock) -> None:
        _to(app, Step.REVIEW)
        app.show_help(state)

    return scene


def _printable(app: Any, state: str) -> None:
    app.use_printer(_NoPaper())
    app.print_state = state


def _done_print(state: str) -> Scene:
    def scene(app: Any, clock: ManualClock) -> None:
        _done(app, clock)
        _printable(app, state)

    return scene


def _lib_receipt_print(state: str) -> Scene:
    def scene(app: Any, clock: ManualClock) -> None:
        _lib_receipt(app, clock)
        _printable(app, state)

    return scene


def _lookup_found_print(app: Any, clock: ManualClock) -> None:
    _lookup_found(app, clock)
    _printable(app, "printed")


ASSIST_SCENES: dict[str, Scene] = {
    "lookup": _lookup,
    "lookup_empty": _lookup_empty,
    "lookup_phone": _lookup_phone,
    "lookup_searching": _lookup_searching,
    "lookup_found": _lookup_found,
    "lookup_found_waiting": _lookup_found_waiting,
    "lookup_not_found": _lookup_not_found,
    "lookup_unreachable": _lookup_unreachable,
    "help_calling": _help("calling"),
    "help_called": _help("called"),
    "help_failed": _help("failed"),
    "done_print": _done_print(""),
    "done_printing": _done_print("printing"),
    "done_printed": _done_print("printed"),
    "done_paper_out": _done_print("paper_out"),
    "done_printer_offline": _done_print("offline"),
    "lookup_found_print": _lookup_found_print,
    "lib_receipt_print": _lib_receipt_print(""),
    "lib_receipt_paper_out": _lib_receipt_print("paper_out"),
}
