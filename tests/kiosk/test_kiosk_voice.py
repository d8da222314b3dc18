"""The kiosk speaks for itself (Kivy has no screen reader): each screen's title, a tile's words
when touched (two-touch: the first touch speaks and marks, the second chooses), the keypad's
digits, and the request number sign by sign with 再说一遍. Voice is on by default; speed and
volume are settings. The voice seam is faked with RecordingSpeaker here and run for real with
espeak-ng at the end."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from foundation.errors import ConfigError
from kiosk.i18n import tr
from kiosk.presenters.speech import spoken_number
from kiosk.settings import load_kiosk_settings
from kiosk.voice import EspeakSpeaker
from tests.kiosk.kiosk_support import walk_to_review

REPO = Path(__file__).resolve().parents[2]


def said(kiosk) -> list[str]:
    return [text for text, _lang in kiosk.speaker.said]


def test_voice_and_two_touch_are_on_by_default_and_a_bad_setting_names_its_key():
    kiosk = load_kiosk_settings(REPO / "config" / "servicepoint.toml", env={}).kiosk
    assert kiosk.voice and kiosk.two_touch and not kiosk.large_text
    for key, value in (("VOICE_SPEED", "5"), ("VOICE_VOLUME", "loud")):
        with pytest.raises(ConfigError, match=f"kiosk.{key.lower()}"):
            load_kiosk_settings(REPO / "config" / "servicepoint.toml",
                                env={f"SERVICEPOINT_KIOSK__{key}": value})


def test_a_tiles_first_touch_speaks_and_marks_it_and_the_second_chooses(make_kiosk):
    kiosk = make_kiosk(SERVICEPOINT_KIOSK__TWO_TOUCH="true")
    assert said(kiosk)[-1] == tr("zh_CN", "say_home")  # the home screen's title, on entering
    kiosk.tap_key("water_electric")
    assert kiosk.screen == "home" and kiosk.button(key="water_electric").armed
    assert said(kiosk)[-1] == "水电维修。要选它，请再点一下。"
    # Another tile takes the mark; the first is no longer chosen by one more touch.
    kiosk.tap_key("haircut")
    assert said(kiosk)[-1] == "上门理发。要选它，请再点一下。"
    assert not kiosk.button(key="water_electric").armed and kiosk.button(key="haircut").armed
    kiosk.tap_key("haircut")
    assert kiosk.screen == "question" and kiosk.flow.draft.category == "haircut"
    assert said(kiosk)[-1] == "什么时候方便？"  # the new screen's title
    # An answer tile reads the same way, and Back acts at once.
    kiosk.tap_key("morning")
    assert said(kiosk)[-1] == "上午。要选它，请再点一下。" and kiosk.screen == "question"
    kiosk.tap_text(kiosk.tr("back"))
    assert kiosk.screen == "home"


def test_with_two_touch_off_one_touch_chooses_and_the_words_are_still_spoken(make_kiosk):
    kiosk = make_kiosk(SERVICEPOINT_KIOSK__TWO_TOUCH="false")
    kiosk.tap_key("water_electric")
    assert kiosk.screen == "question"
    assert said(kiosk)[-2:] == ["水电维修", "哪里出了问题？"]


def test_the_keypad_says_each_digit_as_it_is_typed(make_kiosk):
    kiosk = make_kiosk()
    walk_to_review(kiosk, category="policy", phone=None)
    kiosk.tap(kiosk.app.root.current_screen.ids.add_door)
    kiosk.type_digits("502")
    assert said(kiosk)[-3:] == ["5", "0", "2"]


def test_the_number_is_read_sign_by_sign_and_said_again_on_request(make_kiosk):
    kiosk = make_kiosk()
    walk_to_review(kiosk, category="policy", phone=None)
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the receipt")
    kiosk.pump(3)  # the screen switch's last frames (a finger is never faster)
    assert kiosk.flow.receipt.number == "K1-0001"
    expected = "提交成功。您的单号是：K，一，杠，零，零，零，一。请记下单号，或用手机扫二维码。"
    assert said(kiosk)[-1] == expected
    count = said(kiosk).count(expected)
    kiosk.tap(kiosk.app.root.current_screen.ids.say_again)
    assert said(kiosk)[-1] == expected and said(kiosk).count(expected) == count + 1


def test_english_mode_speaks_english(make_kiosk):
    kiosk = make_kiosk(SERVICEPOINT_KIOSK__TWO_TOUCH="true")
    kiosk.tap(kiosk.app.root.current_screen.ids.language)
    assert kiosk.speaker.said[-1] == (tr("en", "say_home"), "en")
    kiosk.tap_key("water_electric")
    assert kiosk.speaker.said[-1] == ("Water & electrical repair. To choose it, tap it again.",
                                      "en")
    assert spoken_number("en", "K1-0042") == "K, one, dash, zero, zero, four, two"


@pytest.mark.parametrize(("number", "words"), [
    ("K1-0001", "K，一，杠，零，零，零，一"),
    ("K12-0300", "K，一，二，杠，零，三，零，零"),
])
def test_a_number_is_read_the_way_a_resident_reads_it_off_a_slip(number, words):
    # One sign at a time, never "三百": what is heard can be written down sign by sign.
    assert spoken_number("zh_CN", number) == words


def _wav_frames(speaker: EspeakSpeaker, path: Path, text: str) -> tuple[int, int]:
    speaker.say(text, "zh_CN")
    assert speaker.wait(timeout=30)
    with wave.open(str(path)) as wav:
        frames = wav.readframes(wav.getnframes())
    samples = memoryview(frames).cast("h")
    return len(samples), max(abs(s) for s in samples)


def test_espeak_ng_speaks_slower_and_louder_as_the_settings_say(tmp_path):
    # The real engine: the setting reaches espeak-ng and changes what a resident hears.
    text = "您的单号是：K，一，杠，零，零，零，一。"
    results = {}
    for name, speed, volume in (("slow_loud", 100, 200), ("fast_quiet", 250, 40)):
        path = tmp_path / f"{name}.wav"
        results[name] = _wav_frames(
            EspeakSpeaker(f"espeak-ng -v cmn -w {path}", speed=speed, volume=volume), path, text)
    (slow_len, loud_peak), (fast_len, quiet_peak) = results["slow_loud"], results["fast_quiet"]
    assert slow_len > 1.8 * fast_len
    assert loud_peak > 2 * quiet_peak
