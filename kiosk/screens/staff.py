"""The staff journey's screen: the site's tanks, extinguisher bays, alerts and open tickets at a
glance, behind the staff PIN (typed on the shared :class:`~kiosk.screens.widgets.KeypadScreen`).

Layout in staff.kv beside this file; the panels' lines come from :mod:`kiosk.presenters`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import theme
from kiosk.flow import Step
from kiosk.presenters import staff_panels, staff_state
from kiosk.screens.widgets import KeypadScreen, KioskScreen, Panel, ScreenHost

__all__ = ["StaffPanel", "StaffScreen", "screens"]


class StaffPanel(Panel):
    heading = StringProperty("")
    lines = StringProperty("")


class StaffScreen(KioskScreen):
    def refresh(self, app: ScreenHost) -> None:
        text, is_problem = staff_state(app.lang, app.site_status, app.status_state,
                                       app.outbox_damaged)
        self.ids.state.text = text
        self.ids.state.color = theme.ERROR if is_problem else theme.MUTED
        for view in staff_panels(app.lang, app.site_status):
            panel = self.ids[view.widget_id]
            panel.heading = view.heading
            panel.lines = view.lines


def screens() -> list[Callable[[], Screen]]:
    return [partial(KeypadScreen, name=Step.STAFF_PIN), partial(StaffScreen, name=Step.STAFF)]
