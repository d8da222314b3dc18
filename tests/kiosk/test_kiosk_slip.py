"""The printed slip: the printer seam itself (python-escpos's own Dummy printer takes the bytes),
the slip's words, and the kiosk's 打印凭条 button with the PNG fake, whose picture is the one a
thermal printer would get; its QR code is read back with zbar as a phone would."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from kiosk.lending import Loan
from kiosk.presenters.slip import loan_slip, request_slip
from kiosk.printer import (
    EscposSlipPrinter,
    PaperOut,
    PngSlipPrinter,
    PrinterOffline,
    draw_slip,
    printer_from_settings,
)
from tests.kiosk.conftest import kiosk_settings
from tests.kiosk.kiosk_support import qr_codes_on_screen, walk_to_review

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
URL = "http://127.0.0.1:8080/r/Qm9va3NBbmRXYXRlclRhbmtzQXJlR29vZEZvclRoZUNvbW11bml0eQ"
RASTER = b"\x1dv0"  # GS v 0: a raster image
CUT = b"\x1dV"  # GS V: cut the paper
LOANS = (Loan(copy_id="LB-0001", title="老年常见病防治手册（大字版）", due_on=date(2026, 12, 25),
              renewals_left=2, overdue_days=0),
         Loan(copy_id="LB-0011", title="阳台种菜一本通", due_on=date(2026, 12, 30),
              renewals_left=0, overdue_days=0))


def slip(lang: str = "zh_CN") -> object:
    return request_slip(lang, site_name="劳动路社区服务站", phone="0731-8888 0000",
                        number="K1-0042", category="水电维修", status_url=URL,
                        today=date(2026, 11, 25))


def qr_of(path_or_image: Path | Image.Image) -> list[str]:
    image = Image.open(path_or_image) if isinstance(path_or_image, Path) else path_or_image
    return [s.data.decode() for s in decode(image.convert("L"), symbols=[ZBarSymbol.QRCODE])]


class StatusDummy(Dummy):
    """escpos's Dummy, answering the paper-sensor query (DLE EOT 4) with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status

    def _read(self) -> bytes:
        return bytes([self.status])


# --- the seam ---------------------------------------------------------------------------------

def test_a_slip_goes_to_an_escpos_printer_as_one_raster_picture_then_a_cut() -> None:
    device = Dummy()
    EscposSlipPrinter(lambda: device, font_path=FONT).print_slip(slip())
    sent = device.output
    assert sent.count(RASTER) >= 1 and CUT in sent
    assert sent.index(CUT) > sent.rindex(RASTER)  # cut after the picture, not through it


def test_paper_out_reported_by_the_printer_prints_nothing_and_says_so() -> None:
    device = StatusDummy(0x72)  # the sensor's "paper end" bits
    with pytest.raises(PaperOut):
        EscposSlipPrinter(lambda: device, font_path=FONT).print_slip(slip())
    assert RASTER not in device.output
    fine = StatusDummy(0x12)  # paper present
    EscposSlipPrinter(lambda: fine, font_path=FONT).print_slip(slip())
    assert RASTER in fine.output


@pytest.mark.parametrize("error", [DeviceNotFoundError("unplugged"), OSError(5, "I/O error"),
                                   RuntimeError("requires a usb library")])
def test_a_printer_that_cannot_be_opened_is_offline(error: Exception) -> None:
    def connect() -> object:
        raise error

    with pytest.raises(PrinterOffline) as raised:
        EscposSlipPrinter(connect, font_path=FONT).print_slip(slip())
    assert isinstance(raised.value, ConnectionError)


def test_the_settings_choose_the_printer_and_a_usb_printer_absent_here_is_offline(
        tmp_path: Path) -> None:
    base = {"SERVICEPOINT_DATA_DIR": str(tmp_path)}
    none = kiosk_settings(tmp_path, **base).kiosk
    assert printer_from_settings(none, folder=tmp_path) is None
    png = kiosk_settings(tmp_path, SERVICEPOINT_KIOSK__PRINTER="png").kiosk
    assert isinstance(printer_from_settings(png, folder=tmp_path), PngSlipPrinter)
    usb = kiosk_settings(tmp_path, SERVICEPOINT_KIOSK__PRINTER="usb",
                         SERVICEPOINT_KIOSK__PRINTER_USB_VENDOR="1046",
                         SERVICEPOINT_KIOSK__PRINTER_USB_PRODUCT="20497").kiosk
    printer = printer_from_settings(usb, folder=tmp_path)
    assert isinstance(printer, EscposSlipPrinter)
    with pytest.raises(PrinterOffline):  # no such device on this machine (or no pyusb)
        printer.print_slip(slip())


def test_a_bad_printer_setting_names_the_key(tmp_path: Path) -> None:
    from foundation.errors import ConfigError

    with pytest.raises(ConfigError, match="kiosk.printer"):
        kiosk_settings(tmp_path, SERVICEPOINT_KIOSK__PRINTER="laser")
    with pytest.raises(ConfigError, match="printer_usb_vendor"):
        kiosk_settings(tmp_path, SERVICEPOINT_KIOSK__PRINTER="usb")


# --- the slip's words and picture -------------------------------------------------------------

def test_the_request_slip_has_the_number_service_date_phone_and_a_readable_qr() -> None:
    made = slip()
    words = [line.text for line in made.lines]
    assert words == ["您的单号", "K1-0042", "服务：水电维修", "日期：2026年11月25日"]
    assert [line.big for line in made.lines] == [False, True, False, False]
    assert made.heading == "劳动路社区服务站" and made.footer == "服务电话 0731-8888 0000"
    picture = draw_slip(made, font_path=FONT, width=384)
    assert picture.width == 384
    assert qr_of(picture) == [URL]
    english = slip("en")
    assert [line.text for line in english.lines][2:] == ["Service: 水电维修",
                                                         "Date: 25 Nov 2026"]


def test_the_borrowing_slip_lists_each_book_with_its_due_date() -> None:
    made = loan_slip("zh_CN", site_name="劳动路社区服务站", phone="0731-8888 0000",
                     loans=LOANS, reader_url=URL, today=date(2026, 11, 25))
    words = [line.text for line in made.lines]
    assert words[0] == "这次借了 2 本："
    assert "老年常见病防治手册（大字版）" in words
    assert "  请在 2026年12月25日 前还" in words and "  请在 2026年12月30日 前还" in words
    assert qr_of(draw_slip(made, font_path=FONT, width=576)) == [URL]


# --- the kiosk's button -----------------------------------------------------------------------

def test_filing_with_the_fake_printer_prints_a_slip_whose_qr_is_the_status_url(
        make_kiosk, tmp_path: Path) -> None:
    kiosk = make_kiosk(SERVICEPOINT_KIOSK__PRINTER="png")
    walk_to_review(kiosk, category="water_electric", phone=None)
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    receipt = kiosk.flow.receipt
    kiosk.tap_text(kiosk.tr("print_slip"))
    kiosk.wait_until(lambda: kiosk.app.print_state == "printed", what="the slip")
    note = kiosk.app.root.current_screen.ids.print_box.ids.print_note
    assert note.text == kiosk.tr("print_printed")
    assert (kiosk.tr("print_printed"), "zh_CN") in kiosk.speaker.said
    [printed] = kiosk.app.helpdesk.printer.printed
    assert qr_of(printed) == [receipt.status_url]
    # Going home and filing again starts with no note from the last slip.
    kiosk.tap_text(kiosk.tr("home"))
    assert kiosk.app.print_state == ""


def test_with_no_printer_configured_there_is_no_print_button(make_kiosk) -> None:
    kiosk = make_kiosk()
    walk_to_review(kiosk, category="water_electric", phone=None)
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    texts = [b.text for b in kiosk.buttons()]
    assert kiosk.tr("print_slip") not in texts and kiosk.tr("call_staff") in texts


def test_paper_out_is_said_on_screen_and_the_request_is_still_filed_with_its_qr(
        make_kiosk, tmp_path: Path) -> None:
    kiosk = make_kiosk()
    kiosk.app.use_printer(PngSlipPrinter(tmp_path / "slips", font_path=FONT,
                                         fail=PaperOut("no paper")))
    walk_to_review(kiosk, category="water_electric", phone=None)
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    receipt = kiosk.flow.receipt
    kiosk.tap_text(kiosk.tr("print_slip"))
    kiosk.wait_until(lambda: kiosk.app.print_state == "paper_out", what="the printer's answer")
    screen = kiosk.app.root.current_screen
    assert screen.ids.print_box.ids.print_note.text == kiosk.tr("print_paper_out")
    assert screen.ids.number.text == receipt.number
    assert qr_codes_on_screen(tmp_path) == [receipt.status_url]
    assert [b["number"] for b in kiosk.server.filed.values()] == [receipt.number]
    # The button still works once paper is in.
    kiosk.app.helpdesk.printer.fail = None
    kiosk.tap_text(kiosk.tr("print_slip"))
    kiosk.wait_until(lambda: kiosk.app.print_state == "printed", what="the second try")


def test_after_borrowing_the_slip_carries_the_readers_page(make_kiosk, tmp_path: Path) -> None:
    from kiosk.tooling.scenes.library import _lib_receipt

    kiosk = make_kiosk(SERVICEPOINT_KIOSK__PRINTER="png")
    _lib_receipt(kiosk.app, kiosk.clock)
    kiosk.pump(2)
    assert kiosk.screen == "lib_receipt"
    kiosk.tap_text(kiosk.tr("print_slip"))
    kiosk.wait_until(lambda: kiosk.app.print_state == "printed", what="the slip")
    [printed] = kiosk.app.helpdesk.printer.printed
    assert qr_of(printed) == [kiosk.flow.visit.reader.phone_url]
    words = [line.text for line in kiosk.app.current_slip().lines]
    assert any("2026年12月25日" in w for w in words)


def test_a_lost_slip_is_printed_again_from_the_lookup(make_kiosk) -> None:
    from tests.kiosk.test_kiosk_lookup import file_at_the_kiosk, look_up

    kiosk = make_kiosk(SERVICEPOINT_KIOSK__PRINTER="png", SERVICEPOINT_KIOSK__KIOSK_ID="K1")
    number = file_at_the_kiosk(kiosk, phone="13800001234")
    look_up(kiosk, number.rsplit("-", 1)[1], "1234")
    kiosk.tap_text(kiosk.tr("print_slip"))
    kiosk.wait_until(lambda: kiosk.app.print_state == "printed", what="the slip")
    [printed] = kiosk.app.helpdesk.printer.printed
    assert qr_of(printed) == [kiosk.flow.lookup_result.status_url]
    assert [line.text for line in kiosk.app.current_slip().lines][1] == number
