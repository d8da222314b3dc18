"""Smaller parts of the kiosk: strings, the voice seam, QR codes, the audit, screenshots."""

from __future__ import annotations

import stat
import time

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from kiosk import theme
from kiosk.i18n import format_clock, format_phone, tr, tr_code
from kiosk.qr import qr_image
from kiosk.voice import EspeakSpeaker, RecordingSpeaker
from tests.kiosk.kiosk_support import audit


def test_words_and_numbers_read_naturally():
    from datetime import datetime

    assert tr("en", "step_of", at=2, total=5) == "Step 2 of 5"
    assert format_clock("zh_CN", datetime(2026, 11, 29, 8, 5)) == "2026年11月29日 星期日 08:05"
    assert format_phone("13800001234") == "138 0000 1234"
    assert tr_code("zh_CN", "status", "dispatched") == "已派单"
    assert tr_code("en", "condition", "something_new") == "something_new"


def test_the_palette_meets_the_contrast_minimum():
    pairs = [(theme.TEXT, theme.BACKGROUND), (theme.TEXT, theme.PANEL),
             (theme.MUTED, theme.BACKGROUND), (theme.ON_PRIMARY, theme.PRIMARY),
             (theme.ON_CHOICE, theme.CHOICE), (theme.ON_PRIMARY, theme.NAV),
             (theme.ON_PRIMARY, theme.GO), (theme.WARN_TEXT, theme.WARN_BG),
             (theme.ERROR, theme.BACKGROUND), (theme.ERROR, theme.PANEL)]
    for fg, bg in pairs:
        assert theme.contrast_ratio(fg, bg) >= theme.MIN_CONTRAST, (fg, bg)
    assert theme.contrast_ratio(theme.rgba("#000000"), theme.rgba("#FFFFFF")) == pytest.approx(21)


def test_a_qr_code_reads_back_to_its_link():
    url = "https://sp.example.cn/r/" + "A" * 43
    assert [s.data.decode() for s in decode(qr_image(url))] == [url]


def test_the_recording_speaker_keeps_what_was_said():
    speaker = RecordingSpeaker()
    speaker.say("请点您需要的服务。", "zh_CN")
    assert speaker.said == [("请点您需要的服务。", "zh_CN")]


def test_espeak_speaker_runs_the_configured_command_locally(tmp_path):
    log = tmp_path / "said.txt"
    script = tmp_path / "fake-tts"
    script.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> {log}\necho >> {log}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    speaker = EspeakSpeaker(f"{script} -v cmn", speed=150, volume=80)
    speaker.say("您好", "zh_CN")
    deadline = time.monotonic() + 5
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    speaker.stop()
    speaker.say("Hello", "en")
    deadline = time.monotonic() + 5
    while log.exists() and len(log.read_text().splitlines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    speaker.stop()
    assert log.read_text().splitlines() == ["-v|cmn|-s|150|-a|80|您好|",
                                            "-v|cmn|-s|150|-a|80|-v|en|Hello|"]


def test_a_missing_speech_engine_turns_voice_off_quietly(caplog):
    speaker = EspeakSpeaker("/nonexistent/espeak-ng -v cmn")
    speaker.say("您好", "zh_CN")
    speaker.say("您好", "zh_CN")
    assert [r.message for r in caplog.records].count(
        "voice prompts off: cannot run /nonexistent/espeak-ng: "
        "[Errno 2] No such file or directory: '/nonexistent/espeak-ng'") == 1


def test_espeak_ng_speaks_mandarin_here(tmp_path):
    wav = tmp_path / "prompt.wav"
    speaker = EspeakSpeaker(f"espeak-ng -v cmn -s 140 -w {wav}")
    speaker.say("您好，请点您需要的服务。", "zh_CN")
    deadline = time.monotonic() + 10
    while (not wav.exists() or wav.stat().st_size < 1000) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    assert wav.read_bytes()[:4] == b"RIFF"


def test_the_audit_catches_what_it_checks(make_kiosk):
    kiosk = make_kiosk()
    assert audit(kiosk) == []
    tile = kiosk.button(key="water_electric")
    tile.size_hint = (None, None)
    tile.size = (40, 40)
    tile.color = (0.9, 0.9, 0.9, 1)
    tile.bg = (1, 1, 1, 1)
    kiosk.pump(2)
    problems = "\n".join(audit(kiosk))
    assert "< 60 dp" in problems and "contrast" in problems and "overflows" in problems


def test_the_screenshot_command_renders_real_pixels(tmp_path):
    from kiosk.tooling.screenshots import render

    # The same process already has a window; render() reuses it.
    written = render(tmp_path, languages=("zh_CN",))
    assert {p.stem for p in written} >= {"home", "done", "staff", "idle_warning"}
    home = Image.open(tmp_path / "zh_CN" / "home.png")
    assert home.size == (800, 480)
    # Text and tiles, not a blank frame.
    assert len(home.convert("RGB").getcolors(maxcolors=1 << 20)) > 50
    done = Image.open(tmp_path / "zh_CN" / "done.png")
    assert [s.data.decode() for s in decode(done)][0].startswith("http://127.0.0.1:8080/r/")
