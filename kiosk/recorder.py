"""说一说: a resident who finds typing hard says what is wrong, and the recording goes with the
request. A part of :class:`kiosk.app.KioskApp` (mixed in like :class:`kiosk.taps.Taps` and
:class:`kiosk.assist.Assist`), kept apart so the app's lifecycle reads on its own.

- The review screen offers "说一说（录音）" only when the microphone seam
  (:mod:`kiosk.microphone`) says a microphone is there (``microphone_ready``).
- ``open_recorder()`` opens :class:`~kiosk.screens.recorder.RecorderWindow` over the review:
  start, a level meter that moves with the voice and the seconds so far (it stops by itself at
  60 s), stop, then listen to it, record it again, use it, or do without. Nothing under the window
  changes, and the idle timeout waits while it is open.
- The take is the draft's (``<client id>.draft.wav`` in the recording spool,
  :mod:`kiosk.recordings`), so a restart mid-request finds it; when the request is sent it
  becomes ready to follow it, and the spool posts it to the server after the request (now, and
  every ``RECORDING_RETRY_S`` while any wait), on a worker thread of its own.

Taps call the verbs here; :meth:`sync_recorder` runs at the end of every ``app.sync()``.
"""

from __future__ import annotations

import logging
import threading
import time
import wave
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.api import ServerClient
from kiosk.flow import Flow, Step
from kiosk.i18n import tr
from kiosk.microphone import Microphone, MicrophoneError, Take
from kiosk.outbox import Outbox
from kiosk.recordings import RecordingSpool
from kiosk.screens.recorder import RecorderWindow
from kiosk.voice import Speaker

__all__ = ["MAX_SECONDS", "Recorder"]

log = logging.getLogger(__name__)

MAX_SECONDS = 60.0
RECORDING_RETRY_S = 15.0
_METER_S = 0.1  # how often the meter and the seconds move while recording
# A recording whose request the outbox does not know (yet) is kept this long at most.
_ORPHAN_AGE_S = 7 * 24 * 3600
_SENT = (Step.SENDING, Step.DONE)


def wav_length(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as audio:
            return audio.getnframes() / float(audio.getframerate() or 1)
    except (OSError, wave.Error, EOFError):
        return 0.0


class Recorder:
    """The spoken description. The app provides what is declared here."""

    microphone_ready = BooleanProperty(False)
    # The seconds of the current draft's recording (0: none), for the review's button.
    voice_seconds = NumericProperty(0)
    # In the window: "ready", "recording" or "recorded"; and while recording, the meter.
    recorder_state = StringProperty("ready")
    recording_level = NumericProperty(0.0)
    recording_seconds = NumericProperty(0.0)

    flow: Flow
    lang: str
    speaker: Speaker
    outbox: Outbox

    def setup_recorder(self, microphone: Microphone | None, client: ServerClient,
                       folder: Path) -> None:
        """Called once by the app's ``__init__``; ``microphone`` None: none configured."""
        self.microphone = self._configured_microphone = microphone
        self.spool = RecordingSpool(folder / "recordings", client)
        self.recorder_window: RecorderWindow | None = None
        self._take: Take | None = None
        self._meter: Any = None
        self._voice_for: str | None = None
        self._delivering = threading.Lock()
        self._recorder_events: list[Any] = []
        self._keepalive: Any = None
        self.microphone_ready = bool(microphone is not None and microphone.available())
        log.info("spoken descriptions: %s", "microphone found" if self.microphone_ready
                 else "no microphone, the option is not shown")

    def start_recorder(self) -> None:
        """On start: deliver what waits from an earlier run, and keep trying now and then."""
        self._recorder_events.append(
            Clock.schedule_interval(lambda _dt: self.deliver_recordings(), RECORDING_RETRY_S))
        self.deliver_recordings()

    def shutdown_recorder(self) -> None:
        for event in self._recorder_events:
            event.cancel()
        self._recorder_events = []
        self.close_recorder()

    def reset_recorder(self) -> None:
        """As the kiosk starts: no recorder window, the configured microphone (scenes)."""
        self.close_recorder()
        self.use_microphone(self._configured_microphone)
        self.recorder_state = "ready"
        self.recording_level = 0.0
        self.recording_seconds = 0.0

    def use_microphone(self, microphone: Microphone | None) -> None:
        """Swap the microphone (tests and scenes: the fake, or none)."""
        self.microphone = microphone
        self.microphone_ready = bool(microphone is not None and microphone.available())

    # --- the window ---------------------------------------------------------------------------

    def _draft_id(self) -> str | None:
        draft = self.flow.draft
        return draft.client_id if draft is not None else None

    def open_recorder(self) -> None:
        client_id = self._draft_id()
        if self.recorder_window is not None or client_id is None or not self.microphone_ready:
            return
        self.flow.touched()
        self.recorder_state = "recorded" if self.spool.has_draft(client_id) else "ready"
        self.recording_seconds = self.voice_seconds
        self.recording_level = 0.0
        window = self.recorder_window = RecorderWindow()
        window.open(animation=False)
        # The resident is speaking, not idle: no "are you still there?" over the window.
        self._keepalive = Clock.schedule_interval(lambda _dt: self.flow.touched(), 1.0)
        self.speaker.say(tr(self.lang, "say_voice"), self.lang)

    def close_recorder(self) -> None:
        self._stop_take()
        if self.microphone is not None:
            self.microphone.stop_playing()
        if self.recorder_window is not None:
            self.recorder_window.dismiss(animation=False)
            self.recorder_window = None
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        self.flow.touched()

    def start_recording(self) -> None:
        client_id = self._draft_id()
        if self.microphone is None or client_id is None or self._take is not None:
            return
        self.speaker.stop()  # the kiosk's own voice must not end up in the recording
        self.microphone.stop_playing()
        try:
            self._take = self.microphone.record(self.spool.draft_path(client_id),
                                                max_seconds=MAX_SECONDS)
        except MicrophoneError as exc:
            log.warning("recording could not start: %s", exc)
            self.recorder_state = "failed"
            return
        self.recorder_state = "recording"
        self.recording_seconds = 0.0
        self._meter = Clock.schedule_interval(self.move_meter, _METER_S)

    def move_meter(self, _dt: float = 0) -> None:
        """Move the meter and the seconds to the take's (every 0.1 s while recording)."""
        take = self._take
        if take is None:
            return
        self.flow.touched()
        self.recording_level = take.level()
        self.recording_seconds = take.seconds()
        if not take.running():  # 60 s reached, or the microphone went away
            self.stop_recording()

    def _stop_take(self) -> None:
        if self._meter is not None:
            self._meter.cancel()
            self._meter = None
        take, self._take = self._take, None
        if take is not None:
            take.stop()

    def stop_recording(self) -> None:
        take = self._take
        self._stop_take()
        self.recording_level = 0.0
        if take is None:
            return
        seconds = wav_length(take.path)
        if seconds < 0.5:  # a tap on start and stop at once: nothing said
            take.path.unlink(missing_ok=True)
            self.recorder_state = "ready"
            return
        self.recording_seconds = seconds
        self.voice_seconds = round(seconds)
        self.recorder_state = "recorded"

    def play_recording(self) -> None:
        client_id = self._draft_id()
        if self.microphone is None or client_id is None or not self.spool.has_draft(client_id):
            return
        self.flow.touched()
        self.speaker.stop()
        self.microphone.play(self.spool.draft_path(client_id))

    def record_again(self) -> None:
        client_id = self._draft_id()
        if client_id is not None:
            self.spool.discard_draft(client_id)
        self.voice_seconds = 0
        self.recorder_state = "ready"
        self.start_recording()

    def use_recording(self) -> None:
        self.close_recorder()

    def drop_recording(self) -> None:
        client_id = self._draft_id()
        self._stop_take()
        if client_id is not None:
            self.spool.discard_draft(client_id)
        self.voice_seconds = 0
        self.close_recorder()

    # --- with the flow ------------------------------------------------------------------------

    def sync_recorder(self) -> None:
        """After every ``sync()``: follow the draft; a sent request's recording follows it."""
        client_id = self._draft_id()
        if client_id is None:
            if self._voice_for is not None:
                self.spool.discard_drafts()
                self._voice_for = None
                self.voice_seconds = 0
            return
        if client_id != self._voice_for:
            self._voice_for = client_id
            self.spool.discard_drafts(keep=client_id)
            path = self.spool.draft_path(client_id)
            self.voice_seconds = round(wav_length(path)) if path.is_file() else 0
        if self.flow.step in _SENT:
            self.spool.ready(client_id)
            if self.flow.step is Step.DONE:  # its filing has been answered (or kept)
                self.deliver_recordings()

    def deliver_recordings(self) -> None:
        """Post what waits, on a worker thread; a round already running is enough."""
        if not self.spool.waiting() or not self._delivering.acquire(blocking=False):
            return

        def run() -> None:
            try:
                self.spool.deliver(request_state=self._request_state)
            except Exception:
                log.exception("delivering recordings failed; will try again")
            finally:
                self._delivering.release()

        threading.Thread(target=run, name="recordings", daemon=True).start()

    def _request_state(self, client_id: str) -> str | None:
        parcel = self.outbox.get(client_id)
        if parcel is not None:
            return parcel.state
        path = self.spool.folder / f"{client_id}.wav"
        # Not in the outbox yet (its filing is a moment behind on another thread): wait with it,
        # unless it has waited so long that no request is coming.
        try:
            fresh = time.time() - path.stat().st_mtime < _ORPHAN_AGE_S
        except OSError:
            fresh = False
        return "pending" if fresh else None

