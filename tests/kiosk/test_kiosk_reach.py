"""The done screen says plainly when its QR code opens only on the service point's Wi-Fi
(issue 19): a lone Pi's links point at a private address, a district kiosk's at the centre.

Filed by taps on the real kiosk (offscreen) against the demo server, whose status links take
the address it is given; the code on the screen is read back as a phone camera would.
"""

from __future__ import annotations

import pytest

from kiosk.presenters.reach import done_reach_note
from kiosk.tooling.demo import DemoServer
from kiosk.tooling.scenes.reach import CENTRE_URL, LAN_URL
from tests.kiosk.kiosk_support import qr_codes_on_screen, walk_to_review

LAN_WORDS = {"zh_CN": "此二维码只能在服务站的无线网络里打开",
             "en": "This code opens only on the service point's Wi-Fi"}


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_note_is_there_only_for_a_code_that_opens_on_the_wifi(language: str) -> None:
    assert done_reach_note(language, f"{LAN_URL}/r/abc") == LAN_WORDS[language]
    assert done_reach_note(language, "http://127.0.0.1:8080/r/abc") == LAN_WORDS[language]
    assert done_reach_note(language, f"{CENTRE_URL}/r/abc") == ""


def file_by_taps(kiosk, language: str) -> None:  # type: ignore[no-untyped-def]
    kiosk.app.set_language(language)
    walk_to_review(kiosk, category="water_electric")
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    kiosk.pump(3)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_lone_pis_done_screen_says_the_code_opens_only_on_the_wifi(make_kiosk, tmp_path,
                                                                     language):
    kiosk = make_kiosk(server=DemoServer(public_url=LAN_URL))
    file_by_taps(kiosk, language)
    note = kiosk.app.root.current_screen.ids.reach
    assert note.text == LAN_WORDS[language]
    assert note.parent.height > 0 and note.parent.opacity == 1  # shown, on its warning panel
    assert qr_codes_on_screen(tmp_path) == [kiosk.flow.receipt.status_url]
    assert kiosk.flow.receipt.status_url.startswith(LAN_URL + "/r/")


def test_a_district_kiosks_done_screen_has_no_such_note(make_kiosk, tmp_path):
    kiosk = make_kiosk(server=DemoServer(public_url=CENTRE_URL))
    file_by_taps(kiosk, "zh_CN")
    note = kiosk.app.root.current_screen.ids.reach
    assert note.text == "" and note.parent.height == 0
    assert qr_codes_on_screen(tmp_path) == [kiosk.flow.receipt.status_url]
    assert kiosk.flow.receipt.status_url.startswith(CENTRE_URL + "/r/")


SLIP_WORDS = {"zh_CN": "在服务站连上无线网络后扫码查看进度；此二维码在别处打不开",
              "en": "Scan on the service point's Wi-Fi to follow it; the code does not open "
                    "elsewhere"}


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_printed_slip_says_it_too_as_it_goes_home(language: str, tmp_path) -> None:
    from datetime import date

    from PIL import Image
    from pyzbar.pyzbar import ZBarSymbol, decode

    from kiosk.i18n import tr
    from kiosk.presenters.slip import request_slip
    from kiosk.printer import draw_slip

    def slip(base: str):  # type: ignore[no-untyped-def]
        return request_slip(language, site_name="劳动路社区服务站", phone="0731-8888 0000",
                            number="K1-0042", category="水电维修", status_url=f"{base}/r/abc",
                            today=date(2026, 12, 3))

    lan = slip(LAN_URL)
    assert lan.qr_caption == SLIP_WORDS[language]
    assert slip(CENTRE_URL).qr_caption == tr(language, "slip_scan")
    picture = draw_slip(lan, font_path="/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    picture.save(tmp_path / "slip.png")
    codes = decode(Image.open(tmp_path / "slip.png").convert("L"), symbols=[ZBarSymbol.QRCODE])
    assert [c.data.decode() for c in codes] == [f"{LAN_URL}/r/abc"]
