"""The kiosk's shared widgets: text, big buttons, panels, the navigation bar, the idle warning,
the base of every screen, and the keypad screen all three journeys use.

Layout and sizes are in widgets.kv beside this file (loaded first, by :mod:`kiosk.screens`:
the journeys' rules build on these). Screens are thin: ``refresh(app)`` copies what
:mod:`kiosk.presenters` works out onto the widgets, and taps call ``app.<verb>()``.
"""

from __future__ import annotations

from typing import Any, Protocol

from kivy.app import App
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen

from kiosk import theme
from kiosk.api import SiteStatus
from kiosk.flow import Flow
from kiosk.presenters import KEYPAD, keypad_label, keypad_view, progress_text

__all__ = ["BigButton", "Body", "ChoiceButton", "GoButton", "IdleWarning", "KeypadScreen",
           "KioskScreen", "NavBar", "NavButton", "Panel", "ScreenHost", "Title", "sp_scale"]


class ScreenHost(Protocol):
    """What a screen reads from the app to refresh itself; :class:`kiosk.app.KioskApp` is one."""

    flow: Flow
    lang: str
    page: int
    site_phone: str
    site_status: SiteStatus | None
    status_state: str
    outbox_damaged: str
    shown_qr: str

    def choose_category(self, code: str) -> None: ...

    def choose(self, key: str) -> None: ...


def sp_scale() -> float:
    """Pixels per sp on this screen, for sizes written into text markup."""
    from kivy.metrics import sp

    return float(sp(1))


class Title(Label):
    pass


class Body(Label):
    pass


class BigButton(ButtonBehavior, Label):
    """A tap target: at least 60×60 dp, text on a solid colour. ``key`` says what it chooses."""

    bg = ColorProperty(theme.PRIMARY)
    border_color = ColorProperty([0, 0, 0, 0])
    key = StringProperty("")
    is_target = True


class ChoiceButton(BigButton):
    pass


class NavButton(BigButton):
    pass


class GoButton(BigButton):
    pass


class Panel(BoxLayout):
    bg = ColorProperty(theme.PANEL)


class NavBar(BoxLayout):
    pages = NumericProperty(1)
    page = NumericProperty(0)
    home_disabled = BooleanProperty(False)


class IdleWarning(ModalView):
    seconds = NumericProperty(0)


class KioskScreen(Screen):
    bg = ColorProperty(theme.BACKGROUND)

    def refresh(self, app: ScreenHost) -> None:
        pass

    def set_progress(self, app: ScreenHost) -> None:
        if "progress" in self.ids:
            self.ids.progress.text = progress_text(app.flow, app.lang)


class KeypadScreen(KioskScreen):
    """A big keypad, no typing: the phone number (PHONE, LIB_PHONE), the staff PIN (STAFF_PIN),
    the library PIN (LIB_PIN) and a book's number (LIB_COPY)."""

    def on_kv_post(self, base_widget: Any) -> None:
        for key in KEYPAD:
            cls = NavButton if key in ("delete", "clear") else ChoiceButton
            button = cls(key=key, font_size=(30 if key.isdigit() else 24) * sp_scale(),
                         on_release=lambda b: App.get_running_app().press_key(b.key))
            button.size_hint_x = 1
            self.ids.keypad.add_widget(button)

    def refresh(self, app: ScreenHost) -> None:
        self.set_progress(app)
        for button in self.ids.keypad.children:
            button.text = keypad_label(app.lang, button.key)
        view = keypad_view(app.flow, app.lang)
        self.ids.title.text = view.title
        self.ids.display.text = view.display
        self.ids.hint.text = view.hint
        self.ids.hint.color = theme.ERROR if view.hint_is_problem else theme.MUTED
        self.ids.confirm.disabled = app.flow.library_busy
