"""What reaches the kiosk from its window besides taps on buttons: any touch at all, and the
barcode scanner's keystrokes.

The scanner is a USB keyboard that types a code and then presses Enter (or keypad Enter, or Tab).
No text field has focus, so the window's own events are read: characters come as text input and
are put together by :class:`kiosk.lending.ScanBuffer`; Enter hands the whole scan to
``on_scan``. Every touch goes to ``on_touch`` (the resident is still there: the idle timer
starts again) and then on to the widgets as usual::

    window_input = WindowInput(on_touch=flow.touched, on_scan=app.scanned)
    window_input.bind()      # in on_start; unbind() in shutdown
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kivy.core.window import Window

from kiosk.lending import ScanBuffer

__all__ = ["END_OF_SCAN", "WindowInput"]

# Enter, keypad Enter and Tab: what scanners send after a code.
END_OF_SCAN = frozenset({13, 271, 9})


class WindowInput:
    def __init__(self, *, on_touch: Callable[[], None], on_scan: Callable[[str], None]) -> None:
        self.on_touch = on_touch
        self.on_scan = on_scan
        self.scanner = ScanBuffer()

    def bind(self) -> None:
        Window.bind(on_touch_down=self._on_any_touch, on_key_down=self._on_key_down,
                    on_textinput=self._on_textinput)

    def unbind(self) -> None:
        Window.unbind(on_touch_down=self._on_any_touch, on_key_down=self._on_key_down,
                      on_textinput=self._on_textinput)

    def _on_any_touch(self, _window: Any, _touch: Any) -> bool:
        self.on_touch()
        return False

    def _on_textinput(self, _window: Any, text: str) -> bool:
        self.scanner.feed(text, at=time.monotonic())
        return False

    def _on_key_down(self, _window: Any, key: int, _scancode: int, _codepoint: str | None,
                     _modifiers: list[str]) -> bool:
        if key in END_OF_SCAN:
            scan = self.scanner.enter(at=time.monotonic())
            if scan:
                self.on_touch()
                self.on_scan(scan)
            return True
        return False
