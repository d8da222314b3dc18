"""The kiosk's microphone: a resident says what is wrong instead of typing it.

One seam, :class:`Microphone`: is there a microphone (``available()``), record into a WAV file
with a level for the meter (``record(path, max_seconds)`` → :class:`Take`), and play a WAV back
before it is sent (``play(path)``, ``stop_playing()``). The kiosk shows the "说一说" option only
when ``available()`` is true, so a kiosk with no microphone never offers it.

- :class:`AlsaMicrophone` is the real one: ALSA's ``arecord`` and ``aplay`` (Debian's
  ``alsa-utils``, on Raspberry Pi OS by default) as child processes. It finds the first capture
  device ``arecord -l`` lists (a USB microphone shows as ``card 1: Device [USB PnP Sound Device],
  device 0``) unless one is named (``kiosk.microphone_device``, e.g. ``plughw:1,0``). It records
  16 kHz 16-bit mono (about 1.9 MB a minute, what the server takes) as raw samples on a pipe; a
  thread writes them into the WAV and keeps the peak of the last 50 ms for the level meter.
- :class:`FakeMicrophone` is for tests and screenshots: it "records" a WAV it was given (or a
  tone it makes), with a scripted level, and remembers what it was asked to play.

A take stops by itself at ``max_seconds`` (the kiosk's limit is 60 s)::

    microphone = AlsaMicrophone()
    if microphone.available():
        take = microphone.record(Path("/var/lib/servicepoint/kiosk/x.wav"), max_seconds=60)
        take.level(); take.seconds()     # 0.0-1.0 and seconds so far, for the screen
        take.stop()                      # the WAV is complete once this returns
        microphone.play(take.path)

Errors: :class:`MicrophoneError` (a ``KioskError`` and an ``OSError``) when recording cannot
start; a take that fails midway ends early with what it had.
"""

from __future__ import annotations

import io
import logging
import math
import re
import shutil
import struct
import subprocess
import threading
import time
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from kiosk.errors import KioskError

__all__ = ["AlsaMicrophone", "FakeMicrophone", "MicrophoneError", "Microphone", "Take",
           "find_capture_device", "microphone_from_settings", "tone_wav"]

log = logging.getLogger(__name__)

RATE = 16_000
CHUNK_FRAMES = RATE // 20  # 50 ms: how often the level meter moves
_CARD = re.compile(r"^card (\d+):.*?, device (\d+):", re.M)


class MicrophoneError(KioskError, OSError):
    """Recording could not start (no device, the device is busy, arecord is missing)."""


class Take(Protocol):
    """One recording in progress (or finished)."""

    path: Path

    def level(self) -> float:
        """The loudness just now, 0.0 (silence) to 1.0 (the loudest a sample can be)."""
        ...

    def seconds(self) -> float:
        """How long it has recorded so far."""
        ...

    def running(self) -> bool: ...

    def stop(self) -> None:
        """End it; the WAV at ``path`` is complete when this returns."""
        ...


class Microphone(Protocol):
    def available(self) -> bool: ...

    def record(self, path: Path, *, max_seconds: float) -> Take: ...

    def play(self, path: Path) -> None: ...

    def stop_playing(self) -> None: ...


def find_capture_device(listing: str) -> str | None:
    """The first capture device in ``arecord -l``'s listing, as an ALSA name (``plughw:1,0``)."""
    found = _CARD.search(listing)
    return f"plughw:{found.group(1)},{found.group(2)}" if found else None


def _peak(chunk: bytes) -> float:
    count = len(chunk) // 2
    if count == 0:
        return 0.0
    samples: tuple[int, ...] = struct.unpack(f"<{count}h", chunk[:count * 2])
    return min(1.0, max(abs(s) for s in samples) / 32768.0)


class _PipeTake:
    """A take read from ``arecord``'s raw output into a WAV file."""

    def __init__(self, process: subprocess.Popen[bytes], path: Path, max_seconds: float) -> None:
        self.path = path
        self._process = process
        self._max_frames = int(max_seconds * RATE)
        self._frames = 0
        self._level = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="microphone", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self._process.stdout is not None
        try:
            with wave.open(str(self.path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
                while self._frames < self._max_frames and not self._done.is_set():
                    want = min(CHUNK_FRAMES, self._max_frames - self._frames) * 2
                    chunk = self._process.stdout.read(want)
                    if not chunk:
                        break  # the device went away or arecord stopped
                    out.writeframes(chunk)
                    self._frames += len(chunk) // 2
                    self._level = _peak(chunk)
        except OSError:
            log.exception("recording into %s failed; keeping what was recorded", self.path)
        finally:
            self._level = 0.0
            self._done.set()
            _end(self._process)

    def level(self) -> float:
        return self._level

    def seconds(self) -> float:
        return self._frames / RATE

    def running(self) -> bool:
        return not self._done.is_set()

    def stop(self) -> None:
        self._done.set()
        _end(self._process)
        self._thread.join(timeout=5)


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()


class AlsaMicrophone:
    """A USB (or any ALSA) microphone through ``arecord``; playback through ``aplay``.

    ``run`` runs a command and returns its output (the seam the "no microphone" test replaces).
    """

    def __init__(self, *, device: str = "", arecord: str = "arecord", aplay: str = "aplay",
                 run: Callable[[Sequence[str]], str] | None = None) -> None:
        self.device = device
        self.arecord = arecord
        self.aplay = aplay
        self._run = run or _run
        self._player: subprocess.Popen[bytes] | None = None
        self._found: str | None = None

    def _capture_device(self) -> str | None:
        if self.device:
            return self.device
        if shutil.which(self.arecord) is None:
            log.info("no microphone: %s is not installed (apt-get install alsa-utils)",
                     self.arecord)
            return None
        try:
            listing = self._run([self.arecord, "-l"])
        except (OSError, subprocess.SubprocessError) as exc:
            log.info("no microphone: %s -l failed: %s", self.arecord, exc)
            return None
        device = find_capture_device(listing)
        if device is None:
            log.info("no microphone: arecord lists no capture device")
        return device

    def available(self) -> bool:
        self._found = self._capture_device()
        return self._found is not None

    def record(self, path: Path, *, max_seconds: float) -> Take:
        device = self._found or self._capture_device()
        if device is None:
            raise MicrophoneError("no microphone to record with")
        argv = [self.arecord, "-q", "-D", device, "-f", "S16_LE", "-r", str(RATE), "-c", "1",
                "-t", "raw"]
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL)
        except OSError as exc:
            raise MicrophoneError(f"cannot start {self.arecord}: {exc}") from exc
        log.info("recording from %s into %s (at most %.0f s)", device, path, max_seconds)
        return _PipeTake(process, path, max_seconds)

    def play(self, path: Path) -> None:
        self.stop_playing()
        try:
            self._player = subprocess.Popen([self.aplay, "-q", str(path)],
                                            stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        except OSError as exc:
            log.error("cannot play %s with %s: %s", path, self.aplay, exc)

    def stop_playing(self) -> None:
        if self._player is not None:
            _end(self._player)
            self._player = None


def _run(argv: Sequence[str]) -> str:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=5,
                          check=False).stdout


def tone_wav(seconds: float = 2.0, *, rate: int = RATE, hz: float = 330.0) -> bytes:
    """A WAV of a soft tone that rises and falls, standing in for a voice in tests."""
    out = io.BytesIO()
    frames = int(seconds * rate)
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"".join(
            struct.pack("<h", int(9000 * math.sin(math.pi * i / frames)
                                  * math.sin(2 * math.pi * hz * i / rate)))
            for i in range(frames)))
    return out.getvalue()


class _FakeTake:
    def __init__(self, path: Path, wav: bytes, level: float, clock: Callable[[], float],
                 max_seconds: float) -> None:
        self.path = path
        self._wav = wav
        self._level = level
        self._clock = clock
        self._started = clock()
        self._max = max_seconds
        self._stopped_at: float | None = None

    def level(self) -> float:
        return self._level if self.running() else 0.0

    def seconds(self) -> float:
        end = self._stopped_at if self._stopped_at is not None else self._clock()
        return min(self._max, end - self._started)

    def running(self) -> bool:
        return self._stopped_at is None and self._clock() - self._started < self._max

    def stop(self) -> None:
        if self._stopped_at is None:
            self._stopped_at = min(self._clock(), self._started + self._max)
        self.path.write_bytes(self._wav)


class FakeMicrophone:
    """The fake: ``record`` writes ``wav`` when the take stops; ``level`` is what the meter shows
    while it runs; ``clock`` (seconds) lets a test move time. ``played`` lists what ``play``
    was given."""

    def __init__(self, *, wav: bytes | None = None, present: bool = True, level: float = 0.6,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.wav = wav if wav is not None else tone_wav()
        self.present = present
        self.level = level
        self.clock = clock
        self.played: list[Path] = []
        self.takes: list[_FakeTake] = []

    def available(self) -> bool:
        return self.present

    def record(self, path: Path, *, max_seconds: float) -> Take:
        if not self.present:
            raise MicrophoneError("no microphone (fake)")
        take = _FakeTake(path, self.wav, self.level, self.clock, max_seconds)
        self.takes.append(take)
        return take

    def play(self, path: Path) -> None:
        self.played.append(path)

    def stop_playing(self) -> None:
        pass


def microphone_from_settings(setting: str) -> Microphone | None:
    """``kiosk.microphone``: "off" → none; "auto" → the first capture device; else that
    device."""
    if setting == "off":
        return None
    return AlsaMicrophone(device="" if setting == "auto" else setting)
