"""Driving the Kivy kiosk in tests: a finger, a frame pump, and the elder-friendly audit.

    kiosk = make_kiosk()                 # fixture in conftest.py; returns a Kiosk
    kiosk.tap_text("水电维修")
    kiosk.wait_until(lambda: kiosk.screen == "done")
    assert not audit(kiosk)              # sizes, spacing, text, contrast, overflow
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.app import KioskApp
from kiosk.screens.widgets import BigButton, NavButton, Title
from kiosk.tooling.scenes import ManualClock
from kiosk.tooling.walkthrough import tap as finger_tap
from kiosk.tooling.walkthrough import visible_widgets


def pump(frames: int = 1) -> None:
    for _ in range(frames):
        EventLoop.idle()


class Kiosk:
    """One KioskApp on the shared offscreen window, with helpers a test needs."""

    def __init__(self, app: KioskApp, clock: ManualClock, speaker: Any, server: Any = None) -> None:
        self.app = app
        self.clock = clock
        self.speaker = speaker
        self.server = server

    @property
    def screen(self) -> str:
        return str(self.app.root.current)

    @property
    def flow(self) -> Any:
        return self.app.flow

    def pump(self, frames: int = 2) -> None:
        pump(frames)

    def wait_until(self, condition: Callable[[], Any], timeout: float = 30.0,
                   what: str = "condition") -> None:
        """Pump frames until ``condition()`` holds; fail with ``what`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what} (screen {self.screen})")
            pump(1)
            time.sleep(0.005)

    def ready(self) -> Kiosk:
        self.wait_until(lambda: self.app.catalog_loaded, what="the catalog fetch")
        self.pump(2)
        return self

    # --- finding and tapping ---------------------------------------------------------------

    def layer(self) -> Widget:
        """The top layer a finger reaches: an open modal, else the current screen."""
        modals = [w for w in Window.children if isinstance(w, ModalView)]
        return modals[0] if modals else self.app.root.current_screen

    def buttons(self) -> list[BigButton]:
        return [w for w in visible_widgets(self.layer()) if isinstance(w, BigButton)]

    def button(self, *, text: str | None = None, key: str | None = None) -> BigButton:
        pump(1)  # lay out whatever the last action put on screen
        found = [b for b in self.buttons()
                 if (text is None or _plain(b.text).split("\n")[0] == text)
                 and (key is None or b.key == key)]
        if len(found) != 1:
            shown = [(_plain(b.text), b.key) for b in self.buttons()]
            raise AssertionError(f"{len(found)} buttons match text={text!r} key={key!r}; "
                                 f"on screen {self.screen}: {shown}")
        return found[0]

    def tap(self, widget: Widget) -> None:
        assert not widget.disabled, f"tapping a disabled button {_plain(widget.text)!r}"
        finger_tap(widget)
        pump(1)

    def tap_text(self, text: str) -> None:
        self.tap(self.button(text=text))

    def tap_key(self, key: str) -> None:
        self.tap(self.button(key=key))

    def type_digits(self, digits: str) -> None:
        for digit in digits:
            self.tap_key(digit)

    def tr(self, key: str, **values: Any) -> str:
        return self.app.tr(self.app.lang, key, **values)

    def scan(self, code: str, *, end: int = 13) -> None:
        """Read ``code`` with the USB scanner: it is a keyboard, so each character arrives as the
        window's key down, text input and key up (as SDL delivers them), then Enter (or Tab)."""
        for ch in code:
            key, modifiers = ord(ch.lower()), ["shift"] if ch.isupper() else []
            scancode = SCANCODES.get(ch.lower(), 0)
            if not Window.dispatch("on_key_down", key, scancode, ch, modifiers):
                Window.dispatch("on_keyboard", key, scancode, ch, modifiers)
            Window.dispatch("on_textinput", ch)
            Window.dispatch("on_key_up", key, scancode)
        scancode = 40 if end == 13 else 43
        if not Window.dispatch("on_key_down", end, scancode, chr(end), []):
            Window.dispatch("on_keyboard", end, scancode, chr(end), [])
        Window.dispatch("on_key_up", end, scancode)
        pump(1)

    def close(self) -> None:
        # on_stop (not App.stop(), which would end the event loop for the whole session) also
        # clears KV's cached `app`, so the next test's widgets bind to the next app.
        self.app.dispatch("on_stop")
        for child in list(Window.children):
            if isinstance(child, ModalView):
                Window.remove_widget(child)
        if self.app.root is not None and self.app.root.parent is not None:
            Window.remove_widget(self.app.root)
        pump(1)


# USB HID usage ids, as SDL reports them for a US-layout scanner (letters 4-29, digits 30-39).
SCANCODES = {**{chr(ord("a") + n): 4 + n for n in range(26)},
             **{str((n + 1) % 10): 30 + n for n in range(10)}, "-": 45}


def _plain(text: str) -> str:
    return re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", text)


def _background(widget: Widget) -> Any:
    node: Widget | None = widget.parent if not isinstance(widget, BigButton) else widget
    while node is not None:
        bg = getattr(node, "bg", None)
        if bg is not None:
            return bg
        node = node.parent
    return theme.BACKGROUND


def _rect(widget: Widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def audit(kiosk: Kiosk) -> list[str]:
    """Every breach of the elder-friendly numbers on what is on screen now, as sentences."""
    problems: list[str] = []
    where = f"[{kiosk.app.lang}/{kiosk.screen}]"
    layer = kiosk.layer()
    widgets = list(visible_widgets(layer))
    targets = [w for w in widgets if isinstance(w, BigButton)]
    for label in (w for w in widgets if isinstance(w, Label)):
        label.texture_update()
        text = _plain(label.text).strip()
        if not text:
            continue
        name = f"{where} {text[:30]!r}"
        minimum = theme.MIN_TITLE_DP if isinstance(label, Title) else theme.MIN_BODY_DP
        if label.font_size < dp(minimum) - 0.01:
            problems.append(f"{name}: text {label.font_size:.0f}px < {minimum} dp")
        for size in re.findall(r"\[size=(\d+)", label.text):
            if int(size) < dp(theme.MIN_BODY_DP) - 0.01:
                problems.append(f"{name}: markup text {size}px < {theme.MIN_BODY_DP} dp")
        tw, th = label.texture_size
        if tw > label.width + 1 or th > label.height + 1:
            problems.append(f"{name}: text {tw:.0f}x{th:.0f} overflows its "
                            f"{label.width:.0f}x{label.height:.0f} widget")
        x0, y0, x1, y1 = _rect(label)
        if x0 < -0.5 or y0 < -0.5 or x1 > Window.width + 0.5 or y1 > Window.height + 0.5:
            problems.append(f"{name}: outside the window")
        if not label.disabled:
            ratio = theme.contrast_ratio(label.color, _background(label))
            if ratio < theme.MIN_CONTRAST:
                problems.append(f"{name}: contrast {ratio:.2f} < {theme.MIN_CONTRAST}")
    for target in targets:
        if target.width < dp(theme.MIN_TARGET_DP) - 0.5 or target.height < dp(
                theme.MIN_TARGET_DP) - 0.5:
            problems.append(f"{where} target {_plain(target.text)[:20]!r} is "
                            f"{target.width:.0f}x{target.height:.0f} < {theme.MIN_TARGET_DP} dp")
    rects = [(_plain(t.text)[:16], _rect(t)) for t in targets]
    for i, (name_a, a) in enumerate(rects):
        for name_b, b in rects[i + 1:]:
            dx = max(b[0] - a[2], a[0] - b[2], 0.0)
            dy = max(b[1] - a[3], a[1] - b[3], 0.0)
            if max(dx, dy) < dp(theme.MIN_GAP_DP) - 0.5:
                problems.append(f"{where} targets {name_a!r} and {name_b!r} are "
                                f"{max(dx, dy):.0f}px apart < {theme.MIN_GAP_DP} dp")
    from kivy.uix.carousel import Carousel
    from kivy.uix.scrollview import ScrollView

    for widget in widgets:
        if isinstance(widget, ScrollView | Carousel):
            problems.append(f"{where} {type(widget).__name__} needs a drag; one tap must do")
    if kiosk.screen != "home" and not isinstance(layer, ModalView):
        names = {_plain(t.text) for t in targets if isinstance(t, NavButton)}
        for needed in ("back", "home"):
            if kiosk.tr(needed) not in names:
                problems.append(f"{where} has no {needed} button")
    return problems


def qr_codes_on_screen(folder: Any) -> list[str]:
    """Take a real screenshot and read every QR code on it, as a phone camera would."""
    from pathlib import Path

    from PIL import Image
    from pyzbar.pyzbar import ZBarSymbol, decode

    pump(3)
    path = Window.screenshot(name=str(Path(folder) / "screen.png"))
    image = Image.open(path)
    return [s.data.decode() for s in decode(image, symbols=[ZBarSymbol.QRCODE])]


def walk_to_review(kiosk: Kiosk, *, category: str, phone: str | None = "13800001234") -> None:
    """Tap through a request like a resident: the first choice at every question and level."""
    kiosk.tap_key(category)
    assert kiosk.screen == "question" or kiosk.screen == "compound"
    while kiosk.screen == "question":
        question = kiosk.flow.question
        kiosk.tap_key(question.choices[0].key)
    assert kiosk.screen == "compound"
    kiosk.tap_key(kiosk.flow.compounds[0].code)
    assert kiosk.screen == "building"
    kiosk.tap_key(kiosk.flow.compound.buildings[0].code)
    assert kiosk.screen == "unit"
    kiosk.tap_key(kiosk.flow.building.units[0].code)
    assert kiosk.screen == "review"  # the door number and the phone are optional extras
    if phone is not None:
        kiosk.tap(kiosk.app.root.current_screen.ids.leave_phone)
        assert kiosk.screen == "phone"
        kiosk.type_digits(phone)
        kiosk.tap_text(kiosk.tr("confirm"))
    assert kiosk.screen == "review", kiosk.flow.problem
