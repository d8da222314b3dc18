"""The kiosk's screens, one room per journey, each module with its layout in a .kv beside it.

- ``widgets`` (+ widgets.kv): text, big buttons, panels, the navigation bar, the idle warning,
  the base screen and the keypad screen every journey types on;
- ``request`` (+ request.kv): home, the choices, contact, review, sending, done, failed;
- ``staff`` (+ staff.kv): the site's status behind the PIN;
- ``library`` (+ library.kv): the 图书借阅 screens;
- ``assist`` (+ assist.kv): 呼叫工作人员 and its window, 打印凭条, and the 查进度 screens.
- ``recorder`` (+ recorder.kv): the 说一说 window over the review (kiosk/recorder.py).

:func:`build_screens` loads the layouts (once per process: Kivy's rules are global) and returns
the screen manager with one screen per :class:`~kiosk.flow.Step`, named after it; the app
switches to ``flow.step`` and calls the screen's ``refresh(app)``.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.screens import assist, library, request, staff

__all__ = ["build_screens", "load_layouts"]

_HERE = Path(__file__).parent
# Shared rules first: a widget matched by several rules gets them in load order, and the
# journeys' rules (a ChoiceButton's colours, a screen's background) build on the shared ones.
_LAYOUTS = ("widgets.kv", "assist.kv", "request.kv", "staff.kv", "library.kv",
            "recorder.kv")


def load_layouts() -> None:
    for name in _LAYOUTS:
        path = str(_HERE / name)
        # A second app in one process (tests) must not add the rules twice.
        if path not in Builder.files:
            Builder.load_file(path)


def build_screens() -> ScreenManager:
    load_layouts()
    manager = ScreenManager(transition=NoTransition())
    for screen in (*request.screens(), *staff.screens(), *library.screens(),
                   *assist.screens()):
        manager.add_widget(screen)
    return manager
