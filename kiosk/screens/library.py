"""The library's screens (图书借阅): the menu, who the reader is, scanning books to borrow or
return, the receipt, and the reader's loans with their renew buttons.

Layout in library.kv beside this file (``Outcome``, the answer to the last scan, is a KV-only
widget there). The texts come from :mod:`kiosk.presenters`; the phone, PIN and book-number
keypads are the shared :class:`~kiosk.screens.widgets.KeypadScreen`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.flow import Step
from kiosk.i18n import tr
from kiosk.lending import Visit
from kiosk.presenters import (
    borrow_status,
    hello,
    loans_view,
    outcome_view,
    problem_text,
    receipt_lines,
    returned_count,
    visit_lines,
)
from kiosk.qr import qr_texture
from kiosk.screens.widgets import Body, KeypadScreen, KioskScreen, Panel, ScreenHost, sp_scale

__all__ = ["LibBorrowScreen", "LibIdentifyScreen", "LibLoansScreen", "LibReceiptScreen",
           "LibReturnScreen", "LibraryScreen", "LoanRow", "screens"]


class LoanRow(Panel):
    title = StringProperty("")
    line = StringProperty("")
    copy_id = StringProperty("")
    late = BooleanProperty(False)
    renew_text = StringProperty("")
    can_renew = BooleanProperty(True)


def _show_outcome(widget: Any, lang: str, visit: Visit | None, waiting: str = "") -> None:
    view = outcome_view(lang, visit, waiting)
    widget.mark, widget.headline, widget.detail, widget.tone = (
        view.mark, view.headline, view.detail, view.tone)


class LibraryScreen(KioskScreen):
    def refresh(self, app: ScreenHost) -> None:
        self.ids.hello.text = hello(app.flow, app.lang)
        self.ids.problem.text = problem_text(app.flow, app.lang)


class LibIdentifyScreen(KioskScreen):
    def refresh(self, app: ScreenHost) -> None:
        _show_outcome(self.ids.outcome, app.lang, app.flow.visit)
        self.ids.use_phone.disabled = app.flow.library_busy


class LibBorrowScreen(KioskScreen):
    def refresh(self, app: ScreenHost) -> None:
        lang, visit = app.lang, app.flow.visit
        status, blocked = borrow_status(app.flow, lang)
        self.ids.status.text = status
        self.ids.status.color = theme.ERROR if blocked else theme.TEXT
        _show_outcome(self.ids.outcome, lang, visit, tr(lang, "lib_scan_hint"))
        self.ids.visit.text = visit_lines(visit, lang)


class LibReturnScreen(KioskScreen):
    def refresh(self, app: ScreenHost) -> None:
        visit = app.flow.visit
        _show_outcome(self.ids.outcome, app.lang, visit, tr(app.lang, "lib_scan_hint"))
        self.ids.count.text = returned_count(visit, app.lang)


class _QrScreen(KioskScreen):
    """A screen with the reader's phone link as a QR code (drawn once per link)."""

    shown_qr = ""

    def show_qr(self, url: str) -> None:
        if url and url != self.shown_qr:
            self.ids.qr.texture = qr_texture(url)
            self.shown_qr = url
        self.ids.qr.opacity = 1 if url else 0


class LibReceiptScreen(_QrScreen):
    def refresh(self, app: ScreenHost) -> None:
        visit = app.flow.visit
        self.ids.lines.text = receipt_lines(visit, app.lang)
        self.show_qr(visit.reader.phone_url if visit and visit.reader else "")


class LibLoansScreen(_QrScreen):
    def refresh(self, app: ScreenHost) -> None:
        visit = app.flow.visit
        sp = sp_scale()
        view = loans_view(visit, app.lang, page=app.page, sp=sp)
        self.ids.status.text = view.status
        self.ids.result.text = view.result
        self.ids.result.color = theme.ERROR if view.result_is_refusal else theme.TEXT
        self.ids.nav.pages, self.ids.nav.page = view.pages, view.page
        rows = self.ids.rows
        rows.clear_widgets()
        if view.none_left:
            rows.add_widget(Body(text=tr(app.lang, "lib_loans_none"), font_size=24 * sp,
                                 size_hint_y=None, height=60 * sp))
        for line in view.rows:
            rows.add_widget(LoanRow(title=line.title, line=line.line, copy_id=line.copy_id,
                                    late=line.late, renew_text=line.renew_text,
                                    can_renew=line.can_renew))
        rows.add_widget(Widget())
        for row in rows.children:
            if isinstance(row, LoanRow):
                row.ids.renew.disabled = app.flow.library_busy or not row.can_renew
        reader = visit.reader if visit else None
        self.show_qr(reader.phone_url if reader else "")


def screens() -> list[Callable[[], Screen]]:
    return [
        partial(LibraryScreen, name=Step.LIBRARY),
        partial(LibIdentifyScreen, name=Step.LIB_IDENTIFY),
        *(partial(KeypadScreen, name=step)
          for step in (Step.LIB_PHONE, Step.LIB_PIN, Step.LIB_COPY)),
        partial(LibBorrowScreen, name=Step.LIB_BORROW),
        partial(LibReceiptScreen, name=Step.LIB_RECEIPT),
        partial(LibReturnScreen, name=Step.LIB_RETURN),
        partial(LibLoansScreen, name=Step.LIB_LOANS),
    ]
