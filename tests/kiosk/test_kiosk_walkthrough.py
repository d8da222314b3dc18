"""The demo's resident: files a request by touching the kiosk's screen, or gives up quietly."""

from __future__ import annotations

import json

from kiosk.tooling.walkthrough import DEMO_PHONE, DemoResident
from tests.kiosk.kiosk_support import qr_codes_on_screen


def test_the_demo_resident_files_a_water_repair_request_by_taps(make_kiosk, tmp_path):
    kiosk = make_kiosk()
    kiosk.flow.choose_category("haircut")  # someone left the kiosk mid-way: it starts from home
    kiosk.app.sync()
    kiosk.clock.advance(60)
    report = tmp_path / "report.json"
    resident = DemoResident(kiosk.app, delay_s=0, gap_s=0.01, report=report)
    kiosk.wait_until(lambda: resident.done, what="the resident's last tap")
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    kiosk.wait_until(report.is_file, what="the resident's report")

    (filed,) = kiosk.server.filed.values()
    assert filed["category"] == "water_electric" and filed["answers"] == {"problem": "leak"}
    assert filed["unit_code"] == "C01-B01-U1" and filed["contact_phone"] == DEMO_PHONE
    assert filed["channel"] == "kiosk" and filed["number"] == "K1-0001"
    # The taps were touches: the idle timer saw them as it sees a finger.
    assert kiosk.flow.seconds_left() == kiosk.flow.idle_seconds + kiosk.flow.warning_seconds
    assert qr_codes_on_screen(tmp_path) == [kiosk.flow.receipt.status_url]
    # The report says what the screen shows: the number and the QR code's link.
    receipt = kiosk.flow.receipt
    assert json.loads(report.read_text()) == {"number": "K1-0001", "offline": False,
                                              "status_url": receipt.status_url}


def test_a_button_that_never_comes_makes_the_resident_give_up_without_a_trace(make_kiosk):
    kiosk = make_kiosk()
    resident = DemoResident(kiosk.app, delay_s=0, gap_s=0.01, give_up_s=0.05,
                            taps=(("key", "water_electric"), ("key", "no-such-answer")))
    kiosk.wait_until(lambda: kiosk.screen == "question", what="the first tap")
    kiosk.pump(30)
    assert not resident.done and kiosk.screen == "question"
    assert kiosk.server.filed == {}
