"""The request journey's screens: the services, the questions and the place as big buttons, the
review (with the optional door number and phone, typed on the keypad), and the receipt with its
QR code.

Layout in request.kv beside this file. Each ``refresh(app)`` copies what
:mod:`kiosk.presenters` says onto the widgets; the phone number is typed on the shared
:class:`~kiosk.screens.widgets.KeypadScreen`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.flow import Step
from kiosk.i18n import tr
from kiosk.pictograms import pictogram
from kiosk.presenters import SKIP, choice_page, home_columns, problem_text, review_lines
from kiosk.presenters.appointment import done_appointment
from kiosk.presenters.reach import done_reach_note
from kiosk.qr import qr_texture
from kiosk.screens.widgets import (
    BigButton,
    Body,
    ChoiceButton,
    KeypadScreen,
    KioskScreen,
    NavButton,
    ScreenHost,
    sp_scale,
)

__all__ = ["ChoiceScreen", "DoneScreen", "FailedScreen", "HomeScreen",
           "ReviewScreen", "SendingScreen", "screens"]


class HomeScreen(KioskScreen):
    def refresh(self, app: ScreenHost) -> None:
        grid = self.ids.tiles
        grid.clear_widgets()
        categories = app.flow.categories
        if not categories:
            grid.cols = 1
            grid.add_widget(Body(text=tr(app.lang, "no_categories", phone=app.site_phone),
                                 halign="center", font_size=theme.BUTTON_SP * sp_scale()))
            return
        grid.cols = home_columns(len(categories))
        for category in categories:
            grid.add_widget(BigButton(
                text=category.name(app.lang), key=category.code,
                font_size=theme.BUTTON_SP * sp_scale(),
                picture=pictogram(category.code), tile=True,
                on_release=lambda button: app.choose_category(button.key)))


class ChoiceScreen(KioskScreen):
    """One question, or one level of the place (compound, building, unit), as big buttons."""

    def refresh(self, app: ScreenHost) -> None:
        self.set_progress(app)
        page = choice_page(app.flow, app.lang, app.page)
        self.ids.title.text = page.title
        self.ids.problem.text = problem_text(app.flow, app.lang)
        nav = self.ids.nav
        nav.pages, nav.page = page.pages, page.page
        grid = self.ids.grid
        grid.cols = page.cols
        grid.clear_widgets()
        for (key, label), picture in zip(page.items, page.pictures, strict=True):
            cls = NavButton if key == SKIP else ChoiceButton
            button = cls(text=label, key=key, picture=picture, tile=True,
                         on_release=lambda b: app.choose(b.key))
            button.size_hint_x = 1
            grid.add_widget(button)
        # Keep the buttons the same size on a short last page.
        for _ in range(page.blanks):
            grid.add_widget(Widget())


class ReviewScreen(KioskScreen):
    def refresh(self, app: ScreenHost) -> None:
        self.set_progress(app)
        box = self.ids.lines
        box.clear_widgets()
        for text in review_lines(app.flow, app.lang):
            box.add_widget(Body(text=text, font_size=22 * sp_scale(), fit=True))
        box.add_widget(Widget())
        draft = app.flow.draft
        self.ids.add_door.text = tr(app.lang, "review_change_door" if draft and draft.room
                                    else "review_add_door")
        self.ids.leave_phone.text = tr(app.lang, "contact_change_phone"
                                       if draft and draft.contact == "phone" else "contact_phone")


class SendingScreen(KioskScreen):
    pass


class DoneScreen(KioskScreen):
    offline = BooleanProperty(False)

    def refresh(self, app: ScreenHost) -> None:
        receipt = app.flow.receipt
        if receipt is None:
            return
        self.offline = receipt.offline
        self.ids.number.text = receipt.number
        self.ids.appointment.text = done_appointment(app.lang, receipt, app.flow.site_zone)
        self.ids.reach.text = done_reach_note(app.lang, receipt.status_url)
        if app.shown_qr != receipt.status_url:
            self.ids.qr.texture = qr_texture(receipt.status_url)
            app.shown_qr = receipt.status_url


class FailedScreen(KioskScreen):
    def refresh(self, app: ScreenHost) -> None:
        self.ids.problem.text = problem_text(app.flow, app.lang)


def screens() -> list[Callable[[], Screen]]:
    """The journey's screens, one per step, in the order the resident meets them (each made on
    first use: kiosk.screens.build_screens)."""
    return [
        partial(HomeScreen, name=Step.HOME),
        *(partial(ChoiceScreen, name=step)
          for step in (Step.QUESTION, Step.COMPOUND, Step.BUILDING, Step.UNIT)),
        partial(KeypadScreen, name=Step.DOOR),
        partial(KeypadScreen, name=Step.PHONE),
        partial(ReviewScreen, name=Step.REVIEW),
        partial(SendingScreen, name=Step.SENDING),
        partial(DoneScreen, name=Step.DONE),
        partial(FailedScreen, name=Step.FAILED),
    ]
