"""The kiosk's screens, one room per journey, each module with its layout in a .kv beside it.

- ``widgets`` (+ widgets.kv): text, big buttons, panels, the navigation bar, the idle warning,
  the base screen and the keypad screen every journey types on;
- ``request`` (+ request.kv): home, the choices, contact, review, sending, done, failed;
- ``staff`` (+ staff.kv): the site's status behind the PIN;
- ``library`` (+ library.kv): the 图书借阅 screens;
- ``assist`` (+ assist.kv): 呼叫工作人员 and its window, 打印凭条, and the 查进度 screens.
- ``recorder`` (+ recorder.kv): the 说一说 window over the review (kiosk/recorder.py).
- ``appointment`` (+ appointment.kv): 选时间, a by-appointment service's slot.

:func:`build_screens` loads the layouts (once per process: Kivy's rules are global) and returns
the screen manager with one screen per :class:`~kiosk.flow.Step`, named after it; the app
switches to ``flow.step`` and calls the screen's ``refresh(app)``.

Each module's ``screens()`` lists factories (``partial(HomeScreen, name=Step.HOME)``), and
:class:`LazyScreens` makes a screen the first time it is asked for (``current = name`` or
``get_screen(name)``): building all 26 at start cost the kiosk about 38 MiB of resident
memory (widgets, their labels' textures) for screens most residents never open (BENCHMARKS.md,
Kiosk). A screen once made is kept, so the second visit is as fast as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import AliasProperty
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from kiosk.screens import appointment, assist, library, request, staff

__all__ = ["LazyScreens", "build_screens", "load_layouts"]

_HERE = Path(__file__).parent
# Shared rules first: a widget matched by several rules gets them in load order, and the
# journeys' rules (a ChoiceButton's colours, a screen's background) build on the shared ones.
_LAYOUTS = ("widgets.kv", "assist.kv", "request.kv", "staff.kv", "library.kv",
            "recorder.kv", "appointment.kv")


def load_layouts() -> None:
    for name in _LAYOUTS:
        path = str(_HERE / name)
        # A second app in one process (tests) must not add the rules twice.
        if path not in Builder.files:
            Builder.load_file(path)


class LazyScreens(ScreenManager):
    """A screen manager that makes each screen on first use from its factory."""

    def __init__(self, **kwargs: Any) -> None:
        self._factories: dict[str, Callable[[], Screen]] = {}
        super().__init__(**kwargs)

    def add_factory(self, name: str, factory: Callable[[], Screen]) -> None:
        self._factories[str(name)] = factory

    def get_screen(self, name: str) -> Screen:
        factory = self._factories.pop(str(name), None)
        if factory is not None:
            self.add_widget(factory())
        return super().get_screen(name)

    def has_screen(self, name: str) -> bool:
        return str(name) in self._factories or bool(super().has_screen(name))

    def _every_name(self) -> list[str]:
        return [*(screen.name for screen in self.screens), *self._factories]

    # Every screen's name, made yet or not (Kivy's own lists only the screens made).
    screen_names = AliasProperty(_every_name, bind=("screens",))


def build_screens() -> ScreenManager:
    load_layouts()
    manager = LazyScreens(transition=NoTransition())
    for made in (*request.screens(), *staff.screens(), *library.screens(),
                 *assist.screens(), *appointment.screens()):
        if isinstance(made, Screen):  # a screen made already is simply added
            manager.add_widget(made)
        else:
            manager.add_factory(made.keywords["name"], made)
    return manager
