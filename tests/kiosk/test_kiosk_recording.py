"""说一说: the microphone seam itself (the fake, and the real one's "no microphone" detection and
recording through a stand-in arecord), and the kiosk's recorder: shown only with a microphone;
record with a moving level meter, listen, record again, use it; the recording follows its request
to the server, also when the server was away at first."""

from __future__ import annotations

import io
import stat
import sys
import wave
from pathlib import Path

from kiosk.microphone import (
    AlsaMicrophone,
    FakeMicrophone,
    find_capture_device,
    microphone_from_settings,
    tone_wav,
)
from tests.kiosk.kiosk_support import walk_to_review

LISTING_HEAD = "**** List of CAPTURE Hardware Devices ****\n"
USB_CARD = ("card 1: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]\n"
            "  Subdevices: 1/1\n  Subdevice #0: subdevice #0\n")


def stand_in_arecord(folder: Path, listing: str) -> Path:
    """An ``arecord`` that lists ``listing`` for ``-l`` and otherwise streams raw 16 kHz mono
    samples (a loud tone) on stdout, as the real one does with ``-t raw``."""
    script = folder / "arecord"
    script.write_text(f"""#!{sys.executable}
import math, struct, sys, time
if "-l" in sys.argv:
    sys.stdout.write({listing!r})
    sys.exit(0)
out = sys.stdout.buffer
for n in range(16000 * 3):
    out.write(struct.pack("<h", int(20000 * math.sin(2 * math.pi * 440 * n / 16000))))
out.flush()
time.sleep(5)
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def frames_of(path: Path) -> tuple[int, int, int]:
    with wave.open(str(path), "rb") as audio:
        return audio.getnchannels(), audio.getframerate(), audio.getnframes()


# --- the seam ---------------------------------------------------------------------------------

def test_without_arecord_installed_there_is_no_microphone(tmp_path: Path) -> None:
    assert not AlsaMicrophone(arecord=str(tmp_path / "no-such-arecord")).available()
    assert microphone_from_settings("off") is None


def test_arecord_listing_no_capture_device_means_no_microphone(tmp_path: Path) -> None:
    microphone = AlsaMicrophone(arecord=str(stand_in_arecord(tmp_path, LISTING_HEAD)))
    assert not microphone.available()


def test_a_usb_microphone_in_the_listing_is_found(tmp_path: Path) -> None:
    assert find_capture_device(LISTING_HEAD + USB_CARD) == "plughw:1,0"
    microphone = AlsaMicrophone(arecord=str(stand_in_arecord(tmp_path, LISTING_HEAD + USB_CARD)))
    assert microphone.available()


def test_the_real_microphone_records_a_wav_and_stops_at_its_limit(tmp_path: Path) -> None:
    microphone = AlsaMicrophone(arecord=str(stand_in_arecord(tmp_path, LISTING_HEAD + USB_CARD)))
    assert microphone.available()
    take = microphone.record(tmp_path / "take.wav", max_seconds=1.0)
    levels = []
    while take.running():
        levels.append(take.level())
    take.stop()
    assert frames_of(take.path) == (1, 16_000, 16_000)  # exactly the limit, mono 16 kHz
    assert max(levels) > 0.5  # the meter saw the loud tone
    assert take.seconds() == 1.0


def test_the_fake_microphone_supplies_its_wav(tmp_path: Path) -> None:
    now = [0.0]
    fake = FakeMicrophone(wav=tone_wav(1.5), clock=lambda: now[0], level=0.7)
    take = fake.record(tmp_path / "x.wav", max_seconds=60)
    assert take.running() and take.level() == 0.7
    now[0] = 4.0
    assert take.seconds() == 4.0
    take.stop()
    assert take.path.read_bytes() == fake.wav and not take.running()
    fake.play(take.path)
    assert fake.played == [take.path]
    assert not FakeMicrophone(present=False).available()


# --- the kiosk --------------------------------------------------------------------------------

def test_with_no_microphone_the_option_is_not_shown(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk(SERVICEPOINT_KIOSK__MICROPHONE="off")
    walk_to_review(kiosk, category="tank_water", phone=None)
    shown = [b.text for b in kiosk.buttons()]
    assert kiosk.tr("voice_add") not in shown
    kiosk.app.open_recorder()  # even if asked: nothing opens
    assert kiosk.app.recorder_window is None


def record(kiosk, fake: FakeMicrophone, seconds: float) -> None:  # type: ignore[no-untyped-def]
    kiosk.tap_text(kiosk.tr("voice_start"))
    assert kiosk.app.recorder_state == "recording"
    kiosk.wait_until(lambda: kiosk.app.recording_level > 0, what="the level meter moving")
    assert kiosk.app.root_window.children[0].ids.meter.opacity == 1
    fake.clock_now += seconds  # type: ignore[attr-defined]
    kiosk.wait_until(lambda: kiosk.app.recording_seconds >= seconds, what="the seconds")
    kiosk.tap_text(kiosk.tr("voice_stop"))
    assert kiosk.app.recorder_state == "recorded"


def fake_microphone(wav: bytes) -> FakeMicrophone:
    fake = FakeMicrophone(wav=wav)
    fake.clock_now = 0.0  # type: ignore[attr-defined]
    fake.clock = lambda: fake.clock_now  # type: ignore[attr-defined]
    return fake


def test_a_resident_records_listens_records_again_and_sends_it(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk()
    wav = tone_wav(2.0)
    fake = fake_microphone(wav)
    kiosk.app.use_microphone(fake)
    walk_to_review(kiosk, category="tank_water", phone=None)
    kiosk.tap_text(kiosk.tr("voice_add"))
    assert kiosk.app.recorder_window is not None
    record(kiosk, fake, 12)
    kiosk.tap_text(kiosk.tr("voice_play"))
    assert len(fake.played) == 1 and fake.played[0].read_bytes() == wav
    kiosk.tap_text(kiosk.tr("voice_again"))
    assert kiosk.app.recorder_state == "recording"
    fake.clock_now += 3  # type: ignore[attr-defined]
    kiosk.tap_text(kiosk.tr("voice_stop"))
    kiosk.tap_text(kiosk.tr("voice_use"))
    assert kiosk.app.recorder_window is None and kiosk.screen == "review"
    kiosk.button(text=kiosk.tr("voice_recorded", seconds=2))  # the WAV is 2 s long
    client_id = kiosk.flow.draft.client_id
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    kiosk.wait_until(lambda: client_id in kiosk.server.recordings, what="the recording sent")
    assert kiosk.server.recordings[client_id] == wav
    assert kiosk.server.filed[client_id]["answers"] == {"symptom": "smell"}
    kiosk.wait_until(lambda: not kiosk.app.spool.waiting(), what="the spool emptied")


def test_no_recording_is_left_behind_when_the_resident_does_without(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk()
    fake = fake_microphone(tone_wav(1.0))
    kiosk.app.use_microphone(fake)
    walk_to_review(kiosk, category="tank_water", phone=None)
    kiosk.tap_text(kiosk.tr("voice_add"))
    record(kiosk, fake, 1)
    kiosk.tap_text(kiosk.tr("voice_drop"))
    assert kiosk.app.voice_seconds == 0
    kiosk.button(text=kiosk.tr("voice_add"))
    kiosk.tap_text(kiosk.tr("voice_add"))
    record(kiosk, fake, 1)
    kiosk.tap_text(kiosk.tr("voice_use"))
    kiosk.tap_text(kiosk.tr("home"))  # gives up on the request: its recording goes too
    assert list(kiosk.app.spool.folder.glob("*.wav")) == []


def test_with_the_server_away_the_recording_waits_with_its_request(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk()
    wav = tone_wav(1.0)
    fake = fake_microphone(wav)
    kiosk.app.use_microphone(fake)
    walk_to_review(kiosk, category="tank_water", phone=None)
    kiosk.tap_text(kiosk.tr("voice_add"))
    record(kiosk, fake, 1)
    kiosk.tap_text(kiosk.tr("voice_use"))
    client_id = kiosk.flow.draft.client_id
    kiosk.server.online = False
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    assert kiosk.flow.receipt.offline
    assert kiosk.app.spool.waiting() == [client_id]
    kiosk.server.online = True
    kiosk.app.errands.flush(then=lambda _future: kiosk.app.deliver_recordings())
    kiosk.wait_until(lambda: client_id in kiosk.server.recordings, what="the recording sent")
    assert kiosk.server.recordings[client_id] == wav
    with wave.open(io.BytesIO(kiosk.server.recordings[client_id])) as audio:
        assert audio.getnframes() == 16_000
