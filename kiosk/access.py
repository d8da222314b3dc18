"""The kiosk for residents who cannot read well or see small type: tiles spoken when touched,
two-touch, 大字, and "再说一遍".

:class:`Access` is a part of :class:`kiosk.app.KioskApp` (as :class:`kiosk.taps.Taps` is): the
screens' buttons call :meth:`Access.button_touched` when a finger lifts on them, before they act
(kiosk/screens/widgets.py), and the chrome's 大字 and the done screen's 再说一遍 call the verbs
here. The words come from kiosk/presenters/speech.py; the voice is the app's ``speaker`` seam.

- **Two-touch** (``kiosk.two_touch``, on by default with the voice): a tile's first touch speaks
  its words and marks it; a second touch on the same tile chooses it. A touch on another tile
  speaks and marks that one instead. Other buttons (Back, the keypad, 提交) act at once; keypad
  keys are spoken as they are pressed, so a resident hears what they typed.
- **大字**: every text size is multiplied by ``theme.LARGE_TEXT_SCALE`` (Kivy's ``sp`` unit,
  through ``Metrics.fontscale``) and the screens are built again at the new size, since Kivy
  works out a rule's sizes when it makes the widget; what was entered is in the flow and stays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kivy.core.window import Window
from kivy.metrics import Metrics
from kivy.properties import BooleanProperty

from kiosk import theme
from kiosk.i18n import tr
from kiosk.presenters.appointment import appointment_text
from kiosk.presenters.speech import plain_label, spoken_number, tile_words
from kiosk.screens import build_screens
from kiosk.screens.widgets import BigButton
from kiosk.voice import Speaker

__all__ = ["Access"]

log = logging.getLogger(__name__)


class Access:
    """Voice for what is touched, two-touch, 大字 and 再说一遍. The app provides ``settings``,
    ``speaker``, ``lang``, ``root``, ``flow``, ``sync`` and ``_spoken``."""

    large_text = BooleanProperty(False)
    settings: Any
    speaker: Speaker
    lang: str
    root: Any
    flow: Any
    shown_qr: str
    _spoken: Any
    sync: Callable[[], None]
    _speak: Callable[[], None]

    def setup_access(self) -> None:
        kiosk = self.settings.kiosk
        # With no voice a first touch would do nothing a resident could notice.
        self.two_touch: bool = kiosk.two_touch and kiosk.voice
        self._armed: BigButton | None = None
        self._base_fontscale = float(Metrics.fontscale)
        if kiosk.large_text:
            self.large_text = True
            Metrics.fontscale = self._base_fontscale * theme.LARGE_TEXT_SCALE

    def shutdown_access(self) -> None:
        # Kivy's metrics are the process's: leave them as found (tests build many apps).
        Metrics.fontscale = self._base_fontscale

    # --- a finger on a button ----------------------------------------------------------------

    def button_touched(self, button: BigButton) -> bool:
        """Speak what was touched; True when the touch only marked a tile (two-touch)."""
        words = plain_label(button.text)
        if button.tile:
            if self.two_touch and not button.armed:
                self.disarm()
                button.armed = True
                self._armed = button
                self.speaker.say(tile_words(self.lang, words, second_touch_chooses=True),
                                 self.lang)
                return True
            self.disarm()
            if not self.two_touch:
                self.speaker.say(words, self.lang)
            return False
        if button.key and words:  # a keypad key: hear the digit typed
            self.speaker.say(words, self.lang)
        return False

    def disarm(self) -> None:
        """Forget a tile's first touch (another tile was touched, or the screen changed)."""
        if self._armed is not None:
            self._armed.armed = False
            self._armed = None

    # --- the verbs ---------------------------------------------------------------------------

    def say_again(self) -> None:
        """再说一遍: the screen's prompt once more (on the done screen, with the number)."""
        self._spoken = None
        self._speak()

    def toggle_large_text(self) -> None:
        self.large_text = not self.large_text
        scale = theme.LARGE_TEXT_SCALE if self.large_text else 1.0
        Metrics.fontscale = self._base_fontscale * scale
        log.info("text size %s", "large" if self.large_text else "normal")
        self._rebuild_screens()
        self.speaker.say(tr(self.lang, "say_text_large" if self.large_text
                            else "say_text_normal"), self.lang)

    def _rebuild_screens(self) -> None:
        self.disarm()
        old = self.root
        if old is not None and old.parent is not None:
            old.parent.remove_widget(old)
        self.root = build_screens()
        Window.add_widget(self.root)
        self.shown_qr = ""  # the new done screen has no QR texture yet
        spoken = self._spoken
        self.sync()
        self._spoken = spoken

    def done_words(self) -> str:
        """What the done screen says: the request number, sign by sign."""
        receipt = self.flow.receipt
        number = spoken_number(self.lang, receipt.number) if receipt is not None else ""
        words = tr(self.lang, "say_done", number=number)
        if receipt is not None and receipt.appointment_at is not None:  # a booked time
            when = appointment_text(self.lang, receipt.appointment_at, self.flow.site_zone)
            words += " " + tr(self.lang, "say_done_appointment", when=when)
        return words

