"""The scenes of issue 17's water, shared facilities and 说一说 (kiosk/recorder.py): the two new
categories' questions, the review with the 说一说 button (and after a recording), and the
recorder window ready, recording with its level meter, recorded, and failed to start. The
microphone is the seam's fake (a 12-second WAV, the meter at 60 %), moved by the scene's clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.flow import Step
from kiosk.microphone import FakeMicrophone, MicrophoneError, Take, tone_wav
from kiosk.tooling.scenes.base import ManualClock, Scene
from kiosk.tooling.scenes.request import _to

__all__ = ["VOICE_SCENES"]

_WAV: list[bytes] = []  # made once: twelve seconds of tone


def _microphone(app: Any, clock: ManualClock) -> FakeMicrophone:
    if not _WAV:
        _WAV.append(tone_wav(12.0))
    fake = FakeMicrophone(wav=_WAV[0], clock=clock, level=0.6)
    app.use_microphone(fake)
    return fake


class _Deaf(FakeMicrophone):
    """A microphone that is listed but will not start (unplugged after the kiosk started)."""

    def record(self, path: Path, *, max_seconds: float) -> Take:
        raise MicrophoneError("the device went away")


def _question(category: str) -> Scene:
    def scene(app: Any, clock: ManualClock) -> None:
        _to(app, Step.QUESTION, category=category)
    return scene


def _review_voice(app: Any, clock: ManualClock) -> None:
    _to(app, Step.REVIEW, category="tank_water")
    _microphone(app, clock)


def _voice_ready(app: Any, clock: ManualClock) -> None:
    _review_voice(app, clock)
    app.open_recorder()


def _voice_recording(app: Any, clock: ManualClock) -> None:
    _voice_ready(app, clock)
    app.start_recording()
    clock.advance(12)
    app.move_meter()


def _voice_recorded(app: Any, clock: ManualClock) -> None:
    _voice_recording(app, clock)
    app.stop_recording()


def _voice_failed(app: Any, clock: ManualClock) -> None:
    _to(app, Step.REVIEW, category="tank_water")
    app.use_microphone(_Deaf(clock=clock))
    app.open_recorder()
    app.start_recording()


def _review_voice_recorded(app: Any, clock: ManualClock) -> None:
    _voice_recorded(app, clock)
    app.use_recording()


VOICE_SCENES: dict[str, Scene] = {
    "tank_question": _question("tank_water"),
    "facility_question": _question("shared_facility"),
    "review_voice": _review_voice,
    "voice_ready": _voice_ready,
    "voice_recording": _voice_recording,
    "voice_recorded": _voice_recorded,
    "voice_failed": _voice_failed,
    "review_voice_recorded": _review_voice_recorded,
}
