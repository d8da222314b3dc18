"""The widgets and screens of the kiosk's help (kiosk/assist.py): the 呼叫工作人员 button every
screen has, the window that says staff were called, the 打印凭条 button with its note, and the
查进度 screens (the two keypads and the answer).

Layout in assist.kv beside this file (loaded after widgets.kv, whose rules these build on).
Screens are thin: ``refresh(app)`` copies what :mod:`kiosk.presenters.lookup` says onto the
widgets; taps call ``app.<verb>()``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen

from kiosk import theme
from kiosk.flow import Step
from kiosk.presenters.lookup import lookup_keypad_view, lookup_result_view
from kiosk.qr import qr_texture
from kiosk.screens.widgets import (
    Body,
    KeypadScreen,
    KioskScreen,
    NavButton,
    ScreenHost,
    sp_scale,
)

__all__ = ["CallStaffButton", "HelpWindow", "LookupButton", "LookupKeypadScreen",
           "LookupResultScreen", "PrintBox", "screens"]


class CallStaffButton(NavButton):
    """呼叫工作人员: on the home screen and in every screen's navigation bar."""


class LookupButton(NavButton):
    """查进度 on the home screen."""


class HelpWindow(ModalView):
    """Over the screen the resident is on: "calling", then "called" or "failed"."""

    state = StringProperty("calling")
    phone = StringProperty("")


class PrintBox(BoxLayout):
    """打印凭条 and what became of the last print; hidden with no printer configured."""


class LookupKeypadScreen(KeypadScreen):
    """The shared keypad for the number and the phone's last four digits; the phone's keypad
    also offers "I left no phone"."""

    def on_kv_post(self, base_widget: Any) -> None:
        super().on_kv_post(base_widget)
        if self.name == Step.LOOKUP_PHONE:
            column = self.ids.confirm.parent
            column.add_widget(NavButton(
                text="", size_hint=(1, None), height=64 * sp_scale(),
                on_release=lambda _b: App.get_running_app().lookup_without_phone()), index=0)

    def refresh(self, app: ScreenHost) -> None:
        view = lookup_keypad_view(app.flow, app.lang)
        self.ids.title.text = view.title
        self.ids.progress.text = ""
        self.ids.display.text = view.display
        self.ids.hint.text = view.hint
        self.ids.hint.color = theme.ERROR if view.hint_is_problem else theme.MUTED
        for button in self.ids.keypad.children:
            button.text = button.key if button.key.isdigit() else app.tr(
                app.lang, f"keypad_{button.key}")
        column = self.ids.confirm.parent
        if self.name == Step.LOOKUP_PHONE:
            column.children[0].text = app.tr(app.lang, "lookup_no_phone")


class LookupResultScreen(KioskScreen):
    """The answer: the status in words with the volunteer's given name, or not found, or the
    server away; "type again" for the last two."""

    is_problem = BooleanProperty(False)
    can_retry = BooleanProperty(False)
    has_qr = BooleanProperty(False)

    def refresh(self, app: Any) -> None:
        view = lookup_result_view(app.flow, app.lang, phone=app.site_phone)
        self.ids.title.text = view.title
        self.is_problem, self.can_retry = view.is_problem, view.can_retry
        box = self.ids.lines
        box.clear_widgets()
        sp = sp_scale()
        # The lines share the panel's height (it is shorter with the print button and at 大字).
        for i, text in enumerate(view.lines):
            box.add_widget(Body(text=text, font_size=(28 if i == 0 else 24) * sp,
                                color=theme.ERROR if view.is_problem else theme.TEXT))
            if i == 0 and view.appointment:  # the time to be at home: the biggest line
                box.add_widget(Body(text=view.appointment, font_size=32 * sp, bold=True, fit=True,
                                    color=theme.TEXT))
        result = app.flow.lookup_result
        self.has_qr = result is not None and bool(result.status_url)
        if result is not None and result.status_url:
            self.ids.qr.texture = qr_texture(result.status_url)


def screens() -> list[Callable[[], Screen]]:
    return [partial(LookupKeypadScreen, name=Step.LOOKUP),
            partial(LookupKeypadScreen, name=Step.LOOKUP_PHONE),
            partial(LookupResultScreen, name=Step.LOOKUP_RESULT)]
