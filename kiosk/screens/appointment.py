"""The slot step's screen (选时间): the days as big tabs, the day's slots as big buttons, and in
their place a plain message with 再试一次 or 呼叫工作人员 when there is nothing to pick.

Layout in appointment.kv beside this file; ``refresh(app)`` copies what
:func:`kiosk.presenters.appointment.slot_view` says onto the widgets. A full slot is a disabled
button reading 已满 (greyed, and in words: colour is never the only cue); the chosen day's tab is
bold and underlined as well as coloured. Slots and days are tiles, so the voice reads them when
touched (kiosk/access.py).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from kivy.metrics import dp
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.flow import Step
from kiosk.presenters.appointment import DAYS_SHOWN, SlotView, slot_view
from kiosk.screens.widgets import ChoiceButton, KioskScreen, NavButton

__all__ = ["SlotScreen", "screens"]

_ROW_DP = 72  # the day tabs' row, as tall as the navigation bar


class SlotScreen(KioskScreen):
    def refresh(self, app: Any) -> None:
        self.set_progress(app)
        view = slot_view(app.flow, app.lang, zone=app.flow.site_zone, today=app.slot_today(),
                         page=app.page)
        self.ids.title.text = view.title
        self.ids.problem.text = view.problem
        nav = self.ids.nav
        nav.pages, nav.page = view.pages, view.page
        self._days(app, view)
        self._slots(app, view)
        ids = self.ids
        # The message and its buttons take the slots' place when there is nothing to pick.
        ids.message.text = view.message
        ids.retry.disabled = not view.retry
        ids.call.disabled = not view.call_staff
        for widget, shown in ((ids.grid, not view.message), (ids.message, bool(view.message)),
                              (ids.actions, bool(view.message)),
                              (ids.retry, view.retry), (ids.call, view.call_staff)):
            widget.opacity = 1 if shown else 0
        ids.grid.size_hint_y = 1 if not view.message else None
        ids.grid.height = 0
        ids.message.size_hint_y = 1 if view.message else None
        ids.message.height = 0
        ids.actions.height = dp(80) if view.message else 0
        ids.retry.width = dp(240) if view.retry else 0
        ids.call.width = dp(260) if view.call_staff else 0

    def _days(self, app: Any, view: SlotView) -> None:
        row = self.ids.days
        row.clear_widgets()
        row.height = dp(_ROW_DP) if view.days else 0
        for tab in (view.earlier, *view.days, view.later):
            if tab is None:
                continue
            is_day = tab not in (view.earlier, view.later)
            cls = ChoiceButton if is_day else NavButton
            button = cls(text=tab.label, key=tab.key, tile=is_day, bold=tab.chosen,
                         underline=tab.chosen, on_release=lambda b: app.choose_slot_day(b.key))
            if is_day:
                button.size_hint_x = 1
                if tab.chosen:
                    button.bg, button.color = theme.PRIMARY, theme.ON_PRIMARY
            else:
                button.width = dp(120)
            row.add_widget(button)
        for _ in range(DAYS_SHOWN - len(view.days) if view.days else 0):
            row.add_widget(Widget())  # the tabs keep their size when few days are left

    def _slots(self, app: Any, view: SlotView) -> None:
        grid = self.ids.grid
        grid.clear_widgets()
        for slot in view.buttons:
            button = ChoiceButton(text=slot.label, key=slot.key, tile=True, disabled=slot.full,
                                  on_release=lambda b: app.choose_slot(b.key))
            button.size_hint_x = 1
            grid.add_widget(button)
        if view.buttons:
            for _ in range(view.blanks):  # the buttons keep their size on a short day
                grid.add_widget(Widget())


def screens() -> list[Any]:
    """The slot step's one screen, made on first use (kiosk/screens/__init__.py)."""
    return [partial(SlotScreen, name=Step.SLOT)]
