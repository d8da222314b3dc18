"""The kiosk's voice: a local text-to-speech engine reads out what the screen says.

Kivy has no screen reader, so the kiosk speaks for itself (kiosk.app decides what: each screen's
title on entering, a tile's label when touched, the request number digit by digit). Nothing
leaves the machine. The seam is :class:`Speaker`; the kiosk picks :class:`EspeakSpeaker` when
``kiosk.voice`` is on (the default) and :class:`SilentSpeaker` otherwise, and tests use
:class:`RecordingSpeaker`::

    speaker = EspeakSpeaker("espeak-ng -v cmn", speed=140, volume=100)
    speaker.say("请点您需要的服务。", "zh_CN")   # returns at once; speech plays in the background

A new prompt cuts off the one still playing, so the voice always matches the screen.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading
from typing import Protocol

__all__ = ["EspeakSpeaker", "RecordingSpeaker", "SilentSpeaker", "Speaker"]

log = logging.getLogger(__name__)


class Speaker(Protocol):
    def say(self, text: str, language: str) -> None: ...

    def stop(self) -> None: ...


class SilentSpeaker:
    def say(self, text: str, language: str) -> None:
        pass

    def stop(self) -> None:
        pass


class RecordingSpeaker:
    """The fake: remembers what would have been said, in order."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def say(self, text: str, language: str) -> None:
        self.said.append((text, language))

    def stop(self) -> None:
        pass


class EspeakSpeaker:
    """Runs ``command`` (an espeak-ng command line) with the text as its last argument.

    The command is set for Mandarin (``-v cmn``); English prompts add ``-v en``, which espeak-ng
    takes over the earlier voice. ``speed`` is espeak-ng's ``-s`` (words a minute) and
    ``volume`` its ``-a`` (0-200), the kiosk's ``voice_speed`` and ``voice_volume``.
    """

    def __init__(self, command: str, *, speed: int = 140, volume: int = 100) -> None:
        self.argv = [*shlex.split(command), "-s", str(speed), "-a", str(volume)]
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._broken = False

    def say(self, text: str, language: str) -> None:
        if not text or self._broken:
            return
        argv = list(self.argv)
        if language == "en":
            argv += ["-v", "en"]
        with self._lock:
            self._stop_locked()
            try:
                self._process = subprocess.Popen(
                    [*argv, text], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
            except OSError as exc:
                # A missing engine must not break the screen; say so once and stay quiet.
                self._broken = True
                log.warning("voice prompts off: cannot run %s: %s", self.argv[0], exc)

    def _stop_locked(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                process.kill()
        self._process = None

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def wait(self, timeout: float) -> bool:
        """Wait for the prompt being spoken to end; False if it is still going (tests)."""
        process = self._process
        if process is None:
            return True
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
