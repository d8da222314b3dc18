"""A resident the demo plays: files a water-repair request by tapping the kiosk's screen.

    servicepoint kiosk --demo-resident 30     # 30 s after start, the taps begin

Each tap is a touch at the centre of the button a resident would press, sent through Kivy's own
input dispatch (so it goes where a finger's would: the idle timer sees it, a disabled or hidden
button does not take it). The taps come a second and a half apart, so that someone watching the
screen can follow them. The request then goes the way every kiosk request goes: the outbox, the
server, the done screen with its ticket number and QR code.

If a button is not on the screen when its turn comes (the catalog has not arrived, someone is
using the kiosk), the resident waits and looks again, then gives up after a while with a log line;
the kiosk is never disturbed beyond the taps themselves.

With ``report`` (``servicepoint kiosk --demo-resident 30 --demo-report FILE``), once the done
screen shows the receipt the resident writes what it shows to FILE, as JSON: ``{"number":
"K1-0001", "status_url": "http://…/r/<token>", "offline": false}``. That file is how the demo
(servicepoint/story.py) learns what the kiosk filed; the kiosk's own files stay its own.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

from kiosk.flow import Step

__all__ = ["DEMO_PHONE", "DEMO_TAPS", "DemoResident", "tap", "visible_widgets"]

log = logging.getLogger(__name__)

DEMO_PHONE = "13907310001"
# (how to find the button, what): "key" is a BigButton's key on the current screen, "id" one of
# the screen's named buttons. Water and electric repair, a leak, 劳动新村 1栋 1单元, then on the
# review the door number 302 and a phone number.
DEMO_ROOM = "302"
DEMO_TAPS: tuple[tuple[str, str], ...] = (
    ("key", "water_electric"), ("key", "leak"),
    ("key", "C01"), ("key", "C01-B01"), ("key", "C01-B01-U1"),
    ("id", "add_door"), *(("key", digit) for digit in DEMO_ROOM), ("id", "confirm"),
    ("id", "leave_phone"), *(("key", digit) for digit in DEMO_PHONE), ("id", "confirm"),
    ("id", "submit"),
)
TAP_GAP_S = 1.5
GIVE_UP_S = 60.0


class _Finger(MotionEvent):
    """One touch at a point of the window, as the touchscreen's provider would make it."""

    def __init__(self, x: float, y: float) -> None:
        width, height = Window.width, Window.height
        super().__init__("demo-resident", 1, {"x": x / max(width - 1, 1),
                                              "y": y / max(height - 1, 1)},
                         is_touch=True, type_id="touch")
        self.profile = ["pos"]

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


def tap(widget: Widget) -> None:
    """A finger down and up at the centre of ``widget``, through Kivy's input dispatch."""
    x, y = widget.to_window(*widget.center)
    finger = _Finger(x, y)
    EventLoop.post_dispatch_input("begin", finger)
    EventLoop.post_dispatch_input("end", finger)


def visible_widgets(root: Widget) -> Iterator[Widget]:
    """Widgets a person can see: not hidden by zero opacity and not squashed to nothing."""
    if root.opacity <= 0 or root.width <= 0 or root.height <= 0:
        return
    yield root
    # Kivy keeps children last-added first; reversed is reading order.
    for child in reversed(root.children):
        yield from visible_widgets(child)


class DemoResident:
    """Plays ``taps`` on ``app``'s screen, ``gap_s`` apart, starting ``delay_s`` after start."""

    def __init__(self, app: Any, *, delay_s: float, taps: tuple[tuple[str, str], ...] = DEMO_TAPS,
                 gap_s: float = TAP_GAP_S, give_up_s: float = GIVE_UP_S,
                 report: Path | None = None) -> None:
        self.app = app
        self.taps = list(taps)
        self.gap_s = gap_s
        self.give_up_s = give_up_s
        self.report = report
        self.done = False
        self._waited = 0.0
        Clock.schedule_once(self._start, delay_s)

    def _start(self, _dt: float) -> None:
        log.info("demo resident: filing a water-repair request at the kiosk (%d taps)",
                 len(self.taps))
        self.app.go_home()  # whatever was on screen, the resident starts from the services
        Clock.schedule_once(self._next, self.gap_s)

    def _next(self, _dt: float) -> None:
        if not self.taps:
            self.done = True
            log.info("demo resident: sent; the screen shows the ticket number and the QR code")
            if self.report is not None:
                self._waited = 0.0
                Clock.schedule_once(self._write_report, self.gap_s)
            return
        how, what = self.taps[0]
        button = self._find(how, what)
        if button is None:
            self._waited += self.gap_s
            if self._waited >= self.give_up_s:
                log.warning("demo resident: no %s %r on the %s screen after %.0f s; giving up",
                            how, what, self.app.flow.step, self._waited)
                return
            Clock.schedule_once(self._next, self.gap_s)
            return
        self._waited = 0.0
        self.taps.pop(0)
        tap(button)
        if getattr(button, "armed", False):
            tap(button)  # two-touch: the first touch read the tile out, the second chooses it
        Clock.schedule_once(self._next, self.gap_s)

    def _write_report(self, _dt: float) -> None:
        """Once the done screen shows the receipt, write what it shows (atomically) to report."""
        assert self.report is not None
        receipt = self.app.flow.receipt
        if self.app.flow.step != Step.DONE or receipt is None:
            self._waited += 0.5
            if self._waited < self.give_up_s:
                Clock.schedule_once(self._write_report, 0.5)
            else:
                log.warning("demo resident: no receipt on the screen after %.0f s; no report",
                            self._waited)
            return
        shown = {"number": receipt.number, "status_url": receipt.status_url,
                 "offline": receipt.offline}
        partial = self.report.with_name(self.report.name + ".part")
        partial.write_text(json.dumps(shown), encoding="utf-8")
        os.replace(partial, self.report)
        log.info("demo resident: request %s reported in %s", receipt.number, self.report)

    def _find(self, how: str, what: str) -> Widget | None:
        modals = [w for w in Window.children if isinstance(w, ModalView)]
        if modals or self.app.root is None:
            return None  # the idle warning or another layer is up: wait for it to go
        screen = self.app.root.current_screen
        if how == "id":
            found = screen.ids.get(what)
            return found if found is not None and not found.disabled else None
        for widget in visible_widgets(screen):
            if getattr(widget, "key", None) == what and not widget.disabled:
                return widget
        return None
