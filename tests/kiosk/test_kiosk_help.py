"""呼叫工作人员 at the kiosk, against the real server (in a thread, its notice loop delivering to
a recording notifier): the press reaches the duty staff as an urgent alert naming the kiosk's
place; pressing again makes no second alert; with the server away the window says to phone; and
whatever was entered is still there when the resident goes back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kivy.uix.modalview import ModalView

from kiosk.flow import IdlePhase
from tests.kiosk.assist_support import DUTY_URL_ENV, FakeClock, live_server, prepared_database
from tests.kiosk.kiosk_support import walk_to_review
from tests.support.ports import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(180)

PLACE = "劳动路服务站门口"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepared_database(tmp_path_factory.mktemp("help-db"))


@pytest.fixture
def server(tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[str, object]]:
    monkeypatch.setenv(DUTY_URL_ENV, "wecombot://dutykey")
    with live_server(tmp_path / "server", template, FakeClock()) as running:
        yield running


def urgent_alerts(notifier: object) -> list[object]:
    return [alert for alert, _recipient in notifier.sent if alert.urgent]  # type: ignore[attr-defined]


def test_the_press_reaches_the_duty_staff_and_the_half_filed_request_waits(
        make_kiosk, server) -> None:  # type: ignore[no-untyped-def]
    url, notifier = server
    kiosk = make_kiosk(real_server_url=url, SERVICEPOINT_KIOSK__PLACE=PLACE)
    walk_to_review(kiosk, category="water_electric", phone="13800001234")
    draft = kiosk.flow.draft
    kiosk.tap_text(kiosk.tr("call_staff"))
    window = kiosk.app.help_window
    assert window is not None and kiosk.layer() is window
    kiosk.wait_until(lambda: window.state == "called", what="the server's answer")
    assert window.ids.title.text == kiosk.tr("help_called_title")
    assert kiosk.app.site_phone in window.ids.body.text
    assert (kiosk.tr("say_help_called"), "zh_CN") in kiosk.speaker.said
    [alert] = wait_for(lambda: urgent_alerts(notifier), within=10.0)
    assert "K1" in alert.title and PLACE in alert.body and "【紧急】" in alert.title

    # Waiting for a person is not being idle: the screen is not cleared under the window.
    kiosk.clock.advance(600)
    kiosk.app.tick()
    assert kiosk.flow.idle_phase() is IdlePhase.ACTIVE and kiosk.flow.draft is draft

    kiosk.tap_text(kiosk.tr("help_back"))
    assert kiosk.app.help_window is None
    assert kiosk.screen == "review" and kiosk.flow.draft is draft
    assert draft.phone == "13800001234"

    # A child pressing it again: the screen still says staff are called; one alert only.
    kiosk.tap_text(kiosk.tr("call_staff"))
    kiosk.wait_until(lambda: kiosk.app.help_window.state == "called", what="the second answer")
    kiosk.tap_text(kiosk.tr("help_back"))
    time.sleep(2.5)  # two more rounds of the server's delivery loop
    assert len(urgent_alerts(notifier)) == 1
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the request filed after all")
    assert not kiosk.flow.receipt.offline


def test_with_the_server_away_the_window_says_to_phone_and_the_kiosk_keeps_working(
        make_kiosk) -> None:  # type: ignore[no-untyped-def]
    nowhere = f"http://127.0.0.1:{free_port()}"
    kiosk = make_kiosk(real_server_url=nowhere, SERVICEPOINT_KIOSK__REQUEST_TIMEOUT_S="2")
    kiosk.tap_text(kiosk.tr("call_staff"))
    window = kiosk.app.help_window
    kiosk.wait_until(lambda: window.state == "failed", what="the failed call")
    assert window.ids.title.text == kiosk.tr("help_failed_title")
    assert window.ids.body.text == kiosk.tr("help_failed_body", phone=kiosk.app.site_phone)
    assert kiosk.app.site_phone
    assert (kiosk.tr("say_help_failed"), "zh_CN") in kiosk.speaker.said
    kiosk.tap_text(kiosk.tr("help_back"))
    assert kiosk.screen == "home" and kiosk.app.help_window is None
    kiosk.tap_text(kiosk.tr("lookup"))  # the rest of the kiosk still answers a finger
    assert kiosk.screen == "lookup"


def test_the_button_is_on_every_screen(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    from kiosk.tooling.scenes import SCENES

    kiosk = make_kiosk()
    missing = []
    for name, scene in SCENES.items():
        scene(kiosk.app, kiosk.clock)
        kiosk.pump(3)
        if isinstance(kiosk.layer(), ModalView):
            continue  # a window over the screen: its own button takes the resident back
        texts = [b.text for b in kiosk.buttons()]
        if kiosk.tr("call_staff") not in texts:
            missing.append(name)
    assert missing == []


def test_the_demo_kiosk_answers_the_press_as_the_server_would(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk()  # the built-in stand-in server of `servicepoint kiosk --demo`
    kiosk.tap_text(kiosk.tr("call_staff"))
    kiosk.wait_until(lambda: kiosk.app.help_window.state == "called", what="the answer")
    assert kiosk.server.help_calls == 1
