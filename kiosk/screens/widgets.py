"""The kiosk's shared widgets: text, big buttons, panels, the navigation bar, the idle warning,
the base of every screen, and the keypad screen all three journeys use.

Layout and sizes are in widgets.kv beside this file (loaded first, by :mod:`kiosk.screens`:
the journeys' rules build on these). Screens are thin: ``refresh(app)`` copies what
:mod:`kiosk.presenters` works out onto the widgets, and taps call ``app.<verb>()``.

A tile is a :class:`BigButton` that is one choice among several (``tile``: a service, an answer,
a place); services and answers show a ``picture`` (a pictogram from kiosk/pictograms, drawn
beside its words, never instead of them). Every button tells the app when a finger
lifts on it (``app.button_touched``) before it acts: the app speaks it, and with two-touch on a
tile's first touch only speaks and marks it (``armed``); the second chooses. The chrome that
every screen carries, :class:`TextSizeButton` (大字), sits in the :class:`NavBar` and on the
home screen's top row; any screen may place one.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from kivy.app import App
from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Line, Rectangle
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
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
           "KioskScreen", "NavBar", "NavButton", "Panel", "ScreenHost", "TextSizeButton", "Title",
           "picture_texture", "sp_scale"]


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
    contact_days: int  # how long a request's phone is kept ([retention]), said at the keypad

    def choose_category(self, code: str) -> None: ...

    def choose(self, key: str) -> None: ...


def sp_scale() -> float:
    """Pixels per sp on this screen, for sizes written into text markup."""
    from kivy.metrics import sp

    return float(sp(1))


class FitText:
    """Words that may not fit their box (a category's name from the config, English, 大字)
    are made smaller until they do, never below ``fit_floor_dp`` (the brief's minimum); words
    that fit keep their size. Mixed into a Label, which calls :meth:`fit_later` when its size
    or words change; on for buttons and titles, and for a Body given ``fit=True``."""

    fit_floor_dp: float = theme.MIN_BODY_DP
    font_size: float
    text: str
    texture_size: list[float]
    width: float
    height: float
    _fit_nominal: float = 0.0

    def fit_later(self, *_args: Any) -> None:
        trigger = getattr(self, "_fit_trigger", None)
        if trigger is None:
            trigger = self._fit_trigger = Clock.create_trigger(self._fit)
        trigger()

    def _fit(self, *_args: Any) -> None:
        if not getattr(self, "fit", True) or not self.text or self.width <= 1 or self.height <= 1:
            return
        # Screens not on show are not laid out (Kivy's default 100×100): fitting their words
        # then would render every label several times at start for nothing. A screen's widgets
        # are sized again when it is shown, and fitted then.
        if self.get_root_window() is None:  # type: ignore[attr-defined]
            return
        if not self._fit_nominal:
            self._fit_nominal = self.font_size
        self.font_size = self._fit_nominal
        floor = dp(self.fit_floor_dp)
        self.texture_update()  # type: ignore[attr-defined]
        while self.font_size > floor and (self.texture_size[0] > self.width + 1
                                          or self.texture_size[1] > self.height + 1
                                          or self._breaks_a_word()):
            self.font_size = max(floor, self.font_size * 0.92)
            self.texture_update()  # type: ignore[attr-defined]

    def _breaks_a_word(self) -> bool:
        """Whether a word of a language written with spaces is wider than the line, so Kivy
        would cut it in two ("Applianc" / "e"). Chinese has no spaces to keep: it wraps
        anywhere."""
        words = [w for w in re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", self.text).split()
                 if any("a" <= c.lower() <= "z" for c in w)]
        if not words:
            return False
        padding = getattr(self, "padding", (0, 0, 0, 0))
        room = self.width - padding[0] - padding[2]
        measure = CoreLabel(font_size=self.font_size, font_name=getattr(self, "font_name", None),
                            bold=getattr(self, "bold", False))
        return max(measure.get_extents(word)[0] for word in words) > room + 1


class Title(FitText, Label):
    """A screen's title, made smaller (to 30 dp at least) when it is too long for its box."""

    fit = BooleanProperty(True)
    fit_floor_dp = theme.MIN_TITLE_DP

    def on_size(self, *_args: Any) -> None:
        self.fit_later()

    def on_text(self, *_args: Any) -> None:
        self.fit_later()


class Body(FitText, Label):
    """Running text; with ``fit`` on, made smaller (to 18 dp at least) when it does not fit."""

    fit = BooleanProperty(False)

    def on_size(self, *_args: Any) -> None:
        self.fit_later()

    def on_text(self, *_args: Any) -> None:
        self.fit_later()


_TEXTURES: dict[str, Texture] = {}


def picture_texture(path: str) -> Texture | None:
    """The pictogram at ``path`` as a texture, loaded once per process."""
    if not path:
        return None
    if path not in _TEXTURES:
        _TEXTURES[path] = CoreImage(path).texture
    return _TEXTURES[path]


class BigButton(FitText, ButtonBehavior, Label):
    """A tap target: at least 60×60 dp, text on a solid colour. ``key`` says what it chooses;
    a ``picture`` is drawn left of the words."""

    bg = ColorProperty(theme.PRIMARY)
    border_color = ColorProperty([0, 0, 0, 0])
    key = StringProperty("")
    picture = StringProperty("")
    # A choice among several (a service, an answer, a place): spoken when touched, and with
    # two-touch on, chosen by a second touch.
    tile = BooleanProperty(False)
    picture_size = NumericProperty(0)
    texture_of_picture = ObjectProperty(None, allownone=True)
    armed = BooleanProperty(False)
    is_target = True

    _decor: tuple[Color, Rectangle, Color, Line] | None = None

    def on_picture(self, _widget: Any, path: str) -> None:
        self.texture_of_picture = picture_texture(path)
        self._decorate_soon()

    def on_armed(self, _widget: Any, armed: bool) -> None:
        if armed or self._decor is not None:
            self._decorate_soon()

    def _decorate_soon(self) -> None:
        if self._decor is not None:
            self._decorate()
        else:  # once the rules have drawn the background (a picture may come as a keyword)
            Clock.schedule_once(self._decorate)

    def _decorate(self, *_args: Any) -> None:
        """Draw the pictogram (tinted to the words' colour, so it has their contrast) and, when
        armed by a first touch, a thick frame: a change of shape as well as of colour. Made
        only for the buttons that need them: on all of the kiosk's few hundred buttons the
        instructions cost some 15 MiB (BENCHMARKS.md)."""
        if self._decor is None:
            if self.canvas is None:
                return
            with self.canvas.before:  # after the rule's background and border
                self._decor = (Color(0, 0, 0, 0), Rectangle(), Color(0, 0, 0, 0),
                               Line(width=dp(3)))
            self.bind(pos=self._decorate, size=self._decorate, color=self._decorate,
                      disabled=self._decorate, picture_size=self._decorate)
        picture_colour, picture, frame_colour, frame = self._decor
        size = self.picture_size
        words = self.disabled_color if self.disabled else self.color
        picture_colour.rgba = (*words[:3], 1 if self.texture_of_picture else 0)
        picture.texture = self.texture_of_picture
        picture.size = (size, size)
        picture.pos = (self.x + dp(10), self.center_y - size / 2)
        frame_colour.rgba = (*self.color[:3], 1 if self.armed else 0)
        # Thick only when it shows: see the border in widgets.kv (stencil every frame).
        frame.width = dp(3) if self.armed else 1
        frame.rounded_rectangle = (self.x + dp(5), self.y + dp(5), self.width - dp(10),
                                   self.height - dp(10), dp(9))

    def on_size(self, *_args: Any) -> None:
        self.fit_later()

    def on_text(self, *_args: Any) -> None:
        self.fit_later()

    def on_padding(self, *_args: Any) -> None:
        self.fit_later()

    def on_touch_up(self, touch: Any) -> Any:
        # Before the button acts: the app speaks it, and may keep a tile's first touch (two-touch).
        if touch.grab_current is self and not self.disabled and self.collide_point(*touch.pos):
            hook = getattr(App.get_running_app(), "button_touched", None)
            if hook is not None and hook(self):
                touch.ungrab(self)
                self.state = "normal"
                return True
        return super().on_touch_up(touch)


class ChoiceButton(BigButton):
    pass


class NavButton(BigButton):
    pass


class TextSizeButton(NavButton):
    """大字: larger type on every screen (and back); the app rebuilds the screens at the size."""


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
        view = keypad_view(app.flow, app.lang, contact_days=app.contact_days)
        self.ids.title.text = view.title
        self.ids.display.text = view.display
        self.ids.hint.text = view.hint
        self.ids.hint.color = theme.ERROR if view.hint_is_problem else theme.MUTED
        self.ids.confirm.disabled = app.flow.library_busy
