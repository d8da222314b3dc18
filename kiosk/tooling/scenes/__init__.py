"""Every screen the kiosk can show, as named scenes: for screenshots and the accessibility test.

A scene puts a running :class:`~kiosk.app.KioskApp` (built on
:class:`~kiosk.tooling.demo.DemoServer` and a :class:`ManualClock`) into one state through the same
flow calls a resident's taps make, and the app's public methods only::

    for name, scene in SCENES.items():
        scene(app, clock)
        ...  # pump a frame, then look at app.root

The steps (home, question, compound, ...) each appear at least once, as do their variants
(offline, a wrong phone number, a second page, the idle warning), and the library's screens with
their answers (a book borrowed, each kind of refusal's look, a hold to hand to staff, a return
kept offline). The library's answers are handed to the flow as the server would give them.

One module per journey (``request`` with staff mode and the idle warning, ``library``) over
``base`` (the manual clock and the reset every scene starts from).
"""

from __future__ import annotations

from kiosk.tooling.scenes.appointment import APPOINTMENT_SCENES
from kiosk.tooling.scenes.assist import ASSIST_SCENES
from kiosk.tooling.scenes.base import ManualClock, Scene, reset
from kiosk.tooling.scenes.library import LIBRARY_SCENES
from kiosk.tooling.scenes.reach import REACH_SCENES
from kiosk.tooling.scenes.request import REQUEST_SCENES
from kiosk.tooling.scenes.voice import VOICE_SCENES

__all__ = ["SCENES", "ManualClock", "Scene", "reset"]

# The request's steps first, then the library's, then the help's (查进度, 呼叫工作人员, the
# slip): the order of the screenshots and of the audit.
SCENES: dict[str, Scene] = {**REQUEST_SCENES, **LIBRARY_SCENES, **ASSIST_SCENES,
                             **VOICE_SCENES,  # the water, the facilities, 说一说 (voice.py)
                             **APPOINTMENT_SCENES,  # 选时间 (appointment.py)
                             **REACH_SCENES}  # who can open the QR code (reach.py)
