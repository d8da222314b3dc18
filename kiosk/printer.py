"""The receipt printer: one seam for the slip a resident takes home (python-escpos).

The kiosk draws the whole slip as one picture (:func:`draw_slip`, Pillow with the kiosk's CJK
font) and sends it as a raster image, so Chinese prints on any ESC/POS thermal printer whatever
code pages it has, and the QR code on paper is the same one the tests decode. The printer is
chosen by ``kiosk.printer`` in the site file (:func:`printer_from_settings`):

- ``printer = "usb"``: ``printer_usb_vendor`` and ``printer_usb_product`` (``lsusb`` shows them),
  through pyusb;
- ``printer = "serial"``: ``printer_serial_device`` (``/dev/ttyUSB0``) and ``printer_baudrate``,
  through pyserial;
- ``printer = "png"``: no paper; each slip is saved as a PNG in the kiosk's data folder (the
  fake, for demos and tests);
- ``printer = "none"`` (the default): no printer, and the kiosk shows no print button.

Printing blocks (the app runs it on a worker thread, see :class:`kiosk.errands.Errands`)::

    printer = printer_from_settings(settings.kiosk, folder=data / "kiosk" / "slips")
    printer.print_slip(slip)        # raises PaperOut or PrinterOffline, said on screen

Errors (both also a :class:`~kiosk.errors.KioskError`)::

    PrinterError
    ├── PaperOut(PrinterError)                     the printer says its paper is out
    └── PrinterOffline(PrinterError, ConnectionError)  unplugged, off, or its driver missing
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.errors import KioskError
from kiosk.presenters.slip import Slip
from kiosk.qr import qr_image
from kiosk.settings import KioskSettings

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

__all__ = ["EscposSlipPrinter", "PaperOut", "PngSlipPrinter", "PrinterError", "PrinterOffline",
           "SlipPrinter", "draw_slip", "printer_from_settings"]

log = logging.getLogger(__name__)

# ESC/POS paper-sensor answer (DLE EOT 4) with the "paper end" bits set; escpos reads it as 0.
_NO_PAPER = 0


class PrinterError(KioskError):
    """The slip could not be printed; the resident still has the number and QR on screen."""


class PaperOut(PrinterError):
    """The printer reports no paper."""


class PrinterOffline(PrinterError, ConnectionError):
    """The printer is not there: unplugged, switched off, or its USB/serial driver missing."""


class SlipPrinter(Protocol):
    def print_slip(self, slip: Slip) -> None: ...


def _font(path: Path | str | None, size: int) -> Any:
    # Pillow's font and drawing modules load FreeType and HarfBuzz (about 1.3 MiB resident):
    # imported when a slip is drawn, not at the kiosk's start (BENCHMARKS.md, Kiosk).
    from PIL import ImageFont

    if path is not None and Path(path).is_file():
        return ImageFont.truetype(str(path), size)
    log.warning("slip font %s not found; Chinese will not print", path)
    return ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` pixels (Chinese has no spaces, so
    character by character; an English word is kept whole where it fits)."""
    lines: list[str] = []
    current = ""
    for piece in _pieces(text):
        trial = current + piece
        if current and draw.textlength(trial, font=font) > width:
            lines.append(current.rstrip())
            current = piece.lstrip()
        else:
            current = trial
    if current or not lines:
        lines.append(current)
    return lines


def _pieces(text: str) -> list[str]:
    pieces: list[str] = []
    word = ""
    for char in text:
        if char.isascii() and not char.isspace():
            word += char
            continue
        if word:
            pieces.append(word)
            word = ""
        pieces.append(char)
    if word:
        pieces.append(word)
    return pieces


def draw_slip(slip: Slip, *, font_path: Path | str | None, width: int = 384) -> Image.Image:
    """The slip as a black-and-white picture ``width`` dots wide (384 for 58 mm paper, 576 for
    80 mm): the heading, the lines (the number twice the size), the QR code, the footer."""
    from PIL import Image, ImageDraw

    margin = width // 24
    inner = width - 2 * margin
    body, big, heading = (_font(font_path, width // n) for n in (16, 8, 14))
    scratch = ImageDraw.Draw(Image.new("1", (1, 1)))
    rows: list[tuple[str, Any, bool]] = []  # (text, font, centred)
    for text in _wrap(scratch, slip.heading, heading, inner):
        rows.append((text, heading, True))
    rows.append(("", body, False))
    for line in slip.lines:
        font = big if line.big else body
        rows += [(text, font, line.big) for text in _wrap(scratch, line.text, font, inner)]
    qr = qr_image(slip.qr_url, box_size=max(2, inner // 2 // 33)) if slip.qr_url else None
    tail: list[tuple[str, Any, bool]] = []
    for text in (slip.qr_caption, slip.footer):
        if text:
            tail += [(t, body, True) for t in _wrap(scratch, text, body, inner)]
    line_gap = width // 64

    def height_of(font: Any) -> int:
        top, bottom = font.getbbox("国Ag")[1::2]
        return int(bottom - top) + line_gap

    total = margin * 2 + sum(height_of(f) for _, f, _ in rows + tail)
    total += (qr.height + line_gap) if qr is not None else 0
    image = Image.new("1", (width, total), 1)
    draw = ImageDraw.Draw(image)
    y = margin

    def put(text: str, font: Any, centred: bool) -> None:
        nonlocal y
        x = (width - draw.textlength(text, font=font)) / 2 if centred else margin
        draw.text((x, y - font.getbbox("国Ag")[1]), text, font=font, fill=0)
        y += height_of(font)

    for row in rows:
        put(*row)
    if qr is not None:
        image.paste(qr.convert("1"), ((width - qr.width) // 2, y))
        y += qr.height + line_gap
    for row in tail:
        put(*row)
    return image


class EscposSlipPrinter:
    """A real ESC/POS printer. ``connect()`` returns an open python-escpos printer (``Usb``,
    ``Serial``; tests pass escpos's ``Dummy``); it is opened for each slip and closed after, so
    a printer plugged in later is found, and one unplugged is said at the next slip."""

    def __init__(self, connect: Callable[[], Any], *, font_path: Path | str | None,
                 width: int = 384) -> None:
        self._connect = connect
        self.font_path = font_path
        self.width = width

    def print_slip(self, slip: Slip) -> None:
        from escpos.exceptions import Error as EscposError

        picture = draw_slip(slip, font_path=self.font_path, width=self.width)
        try:
            device = self._connect()
        except (EscposError, OSError, RuntimeError) as exc:
            # RuntimeError: escpos says so when pyusb or pyserial is not installed.
            raise PrinterOffline(f"cannot open the printer: {exc}") from exc
        try:
            if self._paper_status(device) == _NO_PAPER:
                raise PaperOut("the printer reports no paper")
            device.image(picture)
            device.cut()
        except (EscposError, OSError) as exc:
            raise PrinterOffline(f"printing failed: {exc}") from exc
        finally:
            try:
                device.close()
            except (EscposError, OSError) as exc:
                log.info("closing the printer: %s", exc)
        log.info("slip printed (%d×%d dots)", picture.width, picture.height)

    @staticmethod
    def _paper_status(device: Any) -> int | None:
        """The paper sensor (2 plenty, 1 low, 0 none), or None where the connection cannot
        read answers back (then we print and hope: it is only a slip)."""
        try:
            status: int = device.paper_status()
        except NotImplementedError:
            return None
        if status == 1:
            log.warning("receipt printer: paper running low")
        return status


class PngSlipPrinter:
    """The fake: each slip is drawn exactly as for paper and saved as ``slip-<n>.png`` in
    ``folder``. ``fail`` makes every print raise it (a paper-out or offline printer in tests)."""

    def __init__(self, folder: Path, *, font_path: Path | str | None, width: int = 384,
                 fail: PrinterError | None = None) -> None:
        self.folder = Path(folder)
        self.font_path = font_path
        self.width = width
        self.fail = fail
        self.printed: list[Path] = []

    def print_slip(self, slip: Slip) -> None:
        if self.fail is not None:
            raise self.fail
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"slip-{len(self.printed) + 1}.png"
        draw_slip(slip, font_path=self.font_path, width=self.width).save(path)
        self.printed.append(path)
        log.info("slip saved as %s", path)


def printer_from_settings(settings: KioskSettings, *, folder: Path) -> SlipPrinter | None:
    """The printer ``kiosk.printer`` names, or None for ``"none"``; slips are drawn in the
    kiosk's font (``kiosk.font_path``)."""
    width, font_path = settings.printer_paper_dots, settings.font_path
    if settings.printer == "none":
        return None
    if settings.printer == "png":
        return PngSlipPrinter(folder, font_path=font_path, width=width)
    if settings.printer == "usb":
        def connect() -> Any:
            from escpos.printer import Usb

            if not Usb.is_usable():
                raise RuntimeError("USB printing needs pyusb (python-escpos[usb])")
            import usb.core

            device = Usb(idVendor=settings.printer_usb_vendor,
                         idProduct=settings.printer_usb_product)
            try:
                device.open()
            except usb.core.NoBackendError as exc:  # pyusb without libusb: no USB at all
                raise RuntimeError("USB printing needs libusb (apt-get install "
                                   "libusb-1.0-0)") from exc
            except usb.core.USBError as exc:
                raise OSError(f"USB printer: {exc}") from exc
            return device
    else:
        def connect() -> Any:
            from escpos.printer import Serial

            if not Serial.is_usable():
                raise RuntimeError("serial printing needs pyserial (python-escpos[serial])")
            device = Serial(settings.printer_serial_device, baudrate=settings.printer_baudrate)
            device.open()
            return device
    return EscposSlipPrinter(connect, font_path=font_path, width=width)
