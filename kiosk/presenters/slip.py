"""The printed slip's words: what a resident takes home after filing a request or borrowing.

Pure (no Kivy, no printer): :func:`request_slip` and :func:`loan_slip` turn what the kiosk knows
into a :class:`Slip`, which :mod:`kiosk.printer` draws and prints (or, in tests, saves as a PNG)::

    slip = request_slip("zh_CN", site_name="劳动路社区服务站", phone="0731-8888 0000",
                        number="K1-0007", category="水电维修", status_url=url, today=date.today())

The slip is for someone who may not read well and has no smartphone: the number is the biggest
line, the service point's phone is on it, and the QR code is there for a family member's phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kiosk.i18n import format_date, tr
from kiosk.lending import Loan
from kiosk.presenters.reach import done_reach_note

__all__ = ["SLIP_BOOKS", "Slip", "SlipLine", "loan_slip", "request_slip"]

# More books than this on one slip and the paper gets long; the rest are counted.
SLIP_BOOKS = 10


@dataclass(frozen=True)
class SlipLine:
    """One line of the slip; ``big`` lines (the number) are printed at double size."""

    text: str
    big: bool = False


@dataclass(frozen=True)
class Slip:
    """A slip ready to draw: the heading, the lines, the QR code and what it is for, the footer."""

    heading: str
    lines: tuple[SlipLine, ...]
    qr_url: str
    qr_caption: str
    footer: str
    language: str = "zh_CN"


def _footer(lang: str, phone: str) -> str:
    return tr(lang, "slip_phone", phone=phone) if phone else ""


def request_slip(lang: str, *, site_name: str, phone: str, number: str, category: str,
                 status_url: str, today: date, appointment: str = "") -> Slip:
    """The slip after filing a request: the number, the service, the date, the phone, the QR;
    a booked service's time (``appointment``, in words) under the service."""
    lines = [SlipLine(tr(lang, "slip_number")), SlipLine(number, big=True)]
    if category:
        lines.append(SlipLine(tr(lang, "slip_service", name=category)))
    if appointment:
        lines.append(SlipLine(tr(lang, "slip_appointment", when=appointment)))
    lines.append(SlipLine(tr(lang, "slip_date", date=format_date(lang, today))))
    # A slip goes home: say when its code opens only on the station's Wi-Fi (presenters/reach).
    caption = "slip_scan_lan" if done_reach_note(lang, status_url) else "slip_scan"
    return Slip(heading=site_name, lines=tuple(lines), qr_url=status_url,
                qr_caption=tr(lang, caption), footer=_footer(lang, phone), language=lang)


def loan_slip(lang: str, *, site_name: str, phone: str, loans: Sequence[Loan], reader_url: str,
              today: date) -> Slip:
    """The slip after borrowing: each book with its due date, the date, the phone, the QR of
    the reader's own page (their loans and due dates on a phone)."""
    lines = [SlipLine(tr(lang, "slip_borrowed", count=len(loans)))]
    for loan in loans[:SLIP_BOOKS]:
        lines += [SlipLine(loan.title),
                  SlipLine("  " + tr(lang, "lib_due", date=format_date(lang, loan.due_on)))]
    if len(loans) > SLIP_BOOKS:
        lines.append(SlipLine(tr(lang, "lib_and_more", count=len(loans) - SLIP_BOOKS)))
    lines.append(SlipLine(tr(lang, "slip_date", date=format_date(lang, today))))
    return Slip(heading=site_name, lines=tuple(lines), qr_url=reader_url,
                qr_caption=tr(lang, "slip_scan_loans") if reader_url else "",
                footer=_footer(lang, phone), language=lang)
