"""The 说一说 window (kiosk/recorder.py): over the review screen, the resident records what is
wrong, watches a level meter move with the voice, listens to it, records again, uses it or does
without.

Layout in recorder.kv beside this file (loaded after widgets.kv, whose rules it builds on). The
window is thin: it shows the app's ``recorder_state``, ``recording_level`` and
``recording_seconds``, and its buttons call ``app.<verb>()``.
"""

from __future__ import annotations

from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

__all__ = ["LevelMeter", "RecorderWindow"]


class RecorderWindow(ModalView):
    """Ready → recording → recorded (→ recording again); or "failed" if the microphone would
    not start."""


class LevelMeter(Widget):
    """A bar that fills with the loudness (``app.recording_level``, 0-1); a dark frame and a
    solid fill, so it reads without colour."""
