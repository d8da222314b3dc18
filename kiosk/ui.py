"""The Kivy side of the kiosk: widgets, screens and :class:`KioskApp`.

``kiosk.flow`` decides what happens; this module shows it. Screens are thin: each has a
``refresh(app)`` that copies what the flow says onto its widgets, and every tap calls one
``app.<verb>()`` which calls the flow, saves the draft, and refreshes. Layout is in layout.kv.

Network calls run on two worker threads (reads: catalog and status; sends: filing and the
outbox, one at a time); their results come back to the UI only through ``Clock.schedule_once``.

In tests (PLATFORM.md) the app is driven without ``run()``::

    app = KioskApp(settings, transport=httpx.MockTransport(handler), speaker=RecordingSpeaker())
    app._run_prepare()     # builds the window contents and calls on_start
    ...                    # pump frames with EventLoop.idle(); tap with kiosk.walkthrough.tap
    app.shutdown()
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.api import ServerClient, SiteStatus
from kiosk.catalog import parse_categories, parse_places
from kiosk.courier import Courier
from kiosk.errors import BadReply, KioskError, ServerRefused, ServerUnavailable
from kiosk.flow import LIBRARY_CATEGORY, Flow, IdlePhase, LibraryCall, Receipt, Step
from kiosk.i18n import format_clock, format_date, format_phone, tr, tr_code
from kiosk.lending import COPY_PREFIX, OutcomeKind, Refusal, ScanBuffer, Visit, typed_copy_id
from kiosk.outbox import Outbox, ReturnBox
from kiosk.qr import qr_texture
from kiosk.storage import JsonFile
from kiosk.voice import SilentSpeaker, Speaker

__all__ = ["KioskApp", "register_font"]

log = logging.getLogger(__name__)

_KV = Path(__file__).with_name("layout.kv")
SKIP = "__skip__"
KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "delete", "0", "clear"]
# How often the kiosk re-reads the catalog and retries the outbox while it has a backlog.
CATALOG_REFRESH_S = 600.0
OUTBOX_RETRY_S = 15.0
HEAP_SETTLE_S = 1.0  # after the first frames, when the home screen is up and nobody has tapped
# Enter, keypad Enter and Tab: what scanners send after a code.
_END_OF_SCAN = frozenset({13, 271, 9})
# Refusal codes whose words are for the reader; any other 4xx (a bad kiosk key, a schema
# error) is the service point's problem and is shown as "please ask staff".
_READER_CODES = frozenset({
    "unknown_copy", "unknown_patron", "not_your_loan", "on_loan", "already_borrowed",
    "copy_unavailable", "on_hold_for_other", "limit_reached", "overdue_block",
    "no_renewals_left", "renew_on_hold", "not_on_loan", "patron_inactive", "wrong_pin",
    "pin_throttled", "session_expired"})


def register_font(path: Path | str) -> bool:
    """Make the CJK font Kivy's default for every label (Roboto has no Chinese glyphs)."""
    if not Path(path).is_file():
        log.error("CJK font %s not found; Chinese will not render (kiosk.font_path)", path)
        return False
    LabelBase.register(DEFAULT_FONT, str(path))
    return True


def _load_kv() -> None:
    # The rules are global to Kivy: a second app in one process (tests) must not add them twice.
    if str(_KV) not in Builder.files:
        Builder.load_file(str(_KV))


# --- widgets ----------------------------------------------------------------------------------


class Title(Label):
    pass


class Body(Label):
    pass


class BigButton(ButtonBehavior, Label):
    """A tap target: at least 60×60 dp, text on a solid colour. ``key`` says what it chooses."""

    bg = ColorProperty(theme.PRIMARY)
    border_color = ColorProperty([0, 0, 0, 0])
    key = StringProperty("")
    is_target = True


class ChoiceButton(BigButton):
    pass


class NavButton(BigButton):
    pass


class GoButton(BigButton):
    pass


class Panel(BoxLayout):
    bg = ColorProperty(theme.PANEL)


class StaffPanel(Panel):
    heading = StringProperty("")
    lines = StringProperty("")


class NavBar(BoxLayout):
    pages = NumericProperty(1)
    page = NumericProperty(0)
    home_disabled = BooleanProperty(False)


class IdleWarning(ModalView):
    seconds = NumericProperty(0)


class KioskScreen(Screen):
    bg = ColorProperty(theme.BACKGROUND)

    def refresh(self, app: KioskApp) -> None:
        pass

    def set_progress(self, app: KioskApp) -> None:
        progress = app.flow.progress()
        if "progress" in self.ids:
            self.ids.progress.text = (
                tr(app.lang, "step_of", at=progress[0], total=progress[1]) if progress else "")


class HomeScreen(KioskScreen):
    def refresh(self, app: KioskApp) -> None:
        grid = self.ids.tiles
        grid.clear_widgets()
        categories = app.flow.categories
        if not categories:
            grid.cols = 1
            grid.add_widget(Body(text=tr(app.lang, "no_categories", phone=app.site_phone),
                                 halign="center", font_size=theme.BUTTON_SP * _sp()))
            return
        grid.cols = 4 if len(categories) > 6 else 3
        for category in categories:
            grid.add_widget(BigButton(
                text=category.name(app.lang), key=category.code, font_size=26 * _sp(),
                on_release=lambda button: app.choose_category(button.key)))


class ChoiceScreen(KioskScreen):
    """One question, or one level of the place (compound, building, unit), as big buttons."""

    def refresh(self, app: KioskApp) -> None:
        self.set_progress(app)
        title, items, cols = app.choices()
        self.ids.title.text = title
        self.ids.problem.text = tr(app.lang, app.flow.problem) if app.flow.problem else ""
        per_page = cols * 2
        pages = max(1, -(-len(items) // per_page))
        page = min(app.page, pages - 1)
        nav = self.ids.nav
        nav.pages, nav.page = pages, page
        grid = self.ids.grid
        grid.cols = cols
        grid.clear_widgets()
        shown = items[page * per_page:(page + 1) * per_page]
        for key, label in shown:
            cls = NavButton if key == SKIP else ChoiceButton
            button = cls(text=label, key=key, on_release=lambda b: app.choose(b.key))
            button.size_hint_x = 1
            grid.add_widget(button)
        # Keep the buttons the same size on a short last page.
        for _ in range(per_page - len(shown)):
            grid.add_widget(Widget())


class ContactScreen(KioskScreen):
    def refresh(self, app: KioskApp) -> None:
        self.set_progress(app)


class KeypadScreen(KioskScreen):
    """A big keypad, no typing: the phone number (PHONE, LIB_PHONE), the staff PIN (STAFF_PIN),
    the library PIN (LIB_PIN) and a book's number (LIB_COPY)."""

    def on_kv_post(self, base_widget: Any) -> None:
        for key in KEYPAD:
            cls = NavButton if key in ("delete", "clear") else ChoiceButton
            button = cls(key=key, font_size=(30 if key.isdigit() else 24) * _sp(),
                         on_release=lambda b: App.get_running_app().press_key(b.key))
            button.size_hint_x = 1
            self.ids.keypad.add_widget(button)

    def refresh(self, app: KioskApp) -> None:
        self.set_progress(app)
        flow = app.flow
        for button in self.ids.keypad.children:
            if not button.key.isdigit():
                button.text = tr(app.lang, f"keypad_{button.key}")
            else:
                button.text = button.key
        title, display, hint, is_problem = app.keypad_view()
        self.ids.title.text = title
        self.ids.display.text = display
        self.ids.hint.text = hint
        self.ids.hint.color = theme.ERROR if is_problem else theme.MUTED
        self.ids.confirm.disabled = flow.library_busy


class ReviewScreen(KioskScreen):
    def refresh(self, app: KioskApp) -> None:
        self.set_progress(app)
        box = self.ids.lines
        box.clear_widgets()
        for text in app.review_lines():
            box.add_widget(Body(text=text, font_size=22 * _sp()))
        box.add_widget(Widget())


class SendingScreen(KioskScreen):
    pass


class DoneScreen(KioskScreen):
    offline = BooleanProperty(False)

    def refresh(self, app: KioskApp) -> None:
        receipt = app.flow.receipt
        if receipt is None:
            return
        self.offline = receipt.offline
        self.ids.number.text = receipt.number
        if app.shown_qr != receipt.status_url:
            self.ids.qr.texture = qr_texture(receipt.status_url)
            app.shown_qr = receipt.status_url


class FailedScreen(KioskScreen):
    def refresh(self, app: KioskApp) -> None:
        self.ids.problem.text = tr(app.lang, app.flow.problem) if app.flow.problem else ""


class StaffScreen(KioskScreen):
    MAX_LINES = 3

    def refresh(self, app: KioskApp) -> None:
        lang = app.lang
        status = app.site_status
        state = app.status_state
        self.ids.state.text = {
            "loading": tr(lang, "staff_loading"),
            "unreachable": tr(lang, "staff_unreachable" if status else "staff_never"),
        }.get(state, "")
        self.ids.state.color = theme.ERROR if state == "unreachable" else theme.MUTED
        sections = [
            ("tanks", "staff_tanks", _tank_lines(lang, status), True),
            ("bays", "staff_bays", _bay_lines(lang, status), True),
            ("alerts", "staff_alerts", _alert_lines(lang, status), False),
            ("tickets", "staff_tickets", _ticket_lines(lang, status), False),
        ]
        for widget_id, heading, lines, sensor in sections:
            panel = self.ids[widget_id]
            panel.heading = tr(lang, heading)
            if status is None:
                panel.lines = tr(lang, "no_data_yet")
            elif not lines:
                # Sensors that never reported are "no data yet"; an empty ticket list is "none".
                panel.lines = tr(lang, "no_data_yet" if sensor else "none_open")
            else:
                shown = lines[:self.MAX_LINES]
                if len(lines) > self.MAX_LINES:
                    shown = lines[:self.MAX_LINES - 1]
                    shown.append(tr(lang, "and_more", count=len(lines) - len(shown)))
                panel.lines = "\n".join(shown)


# --- the library ----------------------------------------------------------------------------


class LoanRow(Panel):
    title = StringProperty("")
    line = StringProperty("")
    copy_id = StringProperty("")
    late = BooleanProperty(False)
    renew_text = StringProperty("")
    can_renew = BooleanProperty(True)


def _outcome_view(app: KioskApp, visit: Visit | None, waiting: str = ""
                  ) -> tuple[str, str, str, str]:
    """(mark, headline, detail, tone) for the answer to the last scan; tone: ok, warn, refused,
    plain. ``waiting`` is shown before the first scan, so the space is never a blank box."""
    lang = app.lang
    if visit is None:
        return "", waiting, "", "plain"
    if visit.in_flight:
        return "", tr(lang, "lib_checking"), "", "plain"
    last = visit.last
    if last is None:
        return "", waiting, "", "plain"
    if last.refusal is not None:
        return "✘", tr(lang, "lib_refused"), last.refusal.text(lang), "refused"
    if last.loan is not None:
        key = "lib_borrowed_ok" if last.kind is OutcomeKind.BORROWED else "lib_renewed_ok"
        due = format_date(lang, last.loan.due_on)
        return ("✔", tr(lang, key, title=last.loan.title, date=due),
                tr(lang, "lib_due", date=due), "ok")
    check_in = last.check_in
    if check_in is None:
        return "", "", "", "plain"
    if check_in.queued:
        return "✔", tr(lang, "lib_returned_ok", title=check_in.copy_id), tr(
            lang, "lib_queued", copy=check_in.copy_id), "ok"
    headline = tr(lang, "lib_returned_ok", title=check_in.title or check_in.copy_id)
    if check_in.hand_to_staff:
        return "!", headline, tr(lang, "lib_hand_to_staff"), "warn"
    detail = tr(lang, "lib_put_away")
    if check_in.overdue_days > 0:
        late = tr(lang, "lib_late", days=check_in.overdue_days)
        detail = f"{late}. {detail}" if lang == "en" else f"{late}。{detail}"
    return "✔", headline, detail, "ok"


def _show_outcome(widget: Any, app: KioskApp, visit: Visit | None, waiting: str = "") -> None:
    widget.mark, widget.headline, widget.detail, widget.tone = _outcome_view(app, visit, waiting)


class LibraryScreen(KioskScreen):
    def refresh(self, app: KioskApp) -> None:
        visit = app.flow.visit
        reader = visit.reader if visit else None
        self.ids.hello.text = (tr(app.lang, "lib_hello", name=reader.patron.address_as)
                               if reader and reader.patron.address_as else "")
        self.ids.problem.text = tr(app.lang, app.flow.problem) if app.flow.problem else ""


class LibIdentifyScreen(KioskScreen):
    def refresh(self, app: KioskApp) -> None:
        _show_outcome(self.ids.outcome, app, app.flow.visit)
        self.ids.use_phone.disabled = app.flow.library_busy


class LibBorrowScreen(KioskScreen):
    VISIT_LINES = 2

    def refresh(self, app: KioskApp) -> None:
        lang, visit = app.lang, app.flow.visit
        reader = visit.reader if visit else None
        status = ""
        if app.flow.problem:
            status = tr(lang, app.flow.problem)
        elif reader is not None and reader.patron.blocked:
            status = Refusal.from_error("overdue_block").text(lang)
        elif reader is not None:
            status = tr(lang, "lib_can_borrow", name=reader.patron.address_as,
                        count=reader.patron.can_borrow)
        self.ids.status.text = status
        blocked = bool(app.flow.problem) or bool(reader and reader.patron.blocked)
        self.ids.status.color = theme.ERROR if blocked else theme.TEXT
        _show_outcome(self.ids.outcome, app, visit, tr(lang, "lib_scan_hint"))
        borrowed = visit.borrowed if visit else []
        # One book a line, so a title and its date are never split across lines.
        lines = [tr(lang, "lib_book_due", title=x.title, date=format_date(lang, x.due_on))
                 for x in borrowed[-self.VISIT_LINES:]]
        self.ids.visit.text = (tr(lang, "lib_this_visit") + " " + "\n".join(lines)
                               if lines else "")


class LibReturnScreen(KioskScreen):
    def refresh(self, app: KioskApp) -> None:
        visit = app.flow.visit
        _show_outcome(self.ids.outcome, app, visit, tr(app.lang, "lib_scan_hint"))
        count = len(visit.returned) if visit else 0
        self.ids.count.text = tr(app.lang, "lib_returned_count", count=count) if count else ""


class _QrScreen(KioskScreen):
    """A screen with the reader's phone link as a QR code (drawn once per link)."""

    shown_qr = ""

    def show_qr(self, url: str) -> None:
        if url and url != self.shown_qr:
            self.ids.qr.texture = qr_texture(url)
            self.shown_qr = url
        self.ids.qr.opacity = 1 if url else 0


class LibReceiptScreen(_QrScreen):
    # Each book takes two lines (its title, then its due date); more than this and the last
    # line says how many more (all of them are on the phone page behind the QR code).
    MAX_BOOKS = 3

    def refresh(self, app: KioskApp) -> None:
        lang, visit = app.lang, app.flow.visit
        borrowed = visit.borrowed if visit else []
        if not borrowed:
            self.ids.lines.text = tr(lang, "lib_receipt_none")
        else:
            lines = [tr(lang, "lib_receipt_count", count=len(borrowed))]
            shown = borrowed[:self.MAX_BOOKS]
            for loan in shown:
                lines += [loan.title, "    " + tr(lang, "lib_due",
                                                  date=format_date(lang, loan.due_on))]
            if len(shown) < len(borrowed):
                lines.append(tr(lang, "lib_and_more", count=len(borrowed) - len(shown)))
            self.ids.lines.text = "\n".join(lines)
        self.show_qr(visit.reader.phone_url if visit and visit.reader else "")


class LibLoansScreen(_QrScreen):
    PER_PAGE = 3

    def refresh(self, app: KioskApp) -> None:
        lang, visit = app.lang, app.flow.visit
        reader = visit.reader if visit else None
        loans = visit.loans if visit else ()
        self.ids.status.text = (tr(lang, "lib_loans_count", name=reader.patron.address_as,
                                   count=len(loans)) if reader else "")
        mark, headline, _detail, tone = _outcome_view(app, visit)
        result = self.ids.result
        result.text = f"{mark} {headline}".strip() if tone != "refused" else (
            f"{mark} {visit.last.refusal.text(lang)}" if visit and visit.last
            and visit.last.refusal else "")
        result.color = theme.ERROR if tone == "refused" else theme.TEXT
        pages = max(1, -(-len(loans) // self.PER_PAGE))
        page = min(app.page, pages - 1)
        self.ids.nav.pages, self.ids.nav.page = pages, page
        rows = self.ids.rows
        rows.clear_widgets()
        if not loans and reader is not None and not (visit and visit.in_flight):
            rows.add_widget(Body(text=tr(lang, "lib_loans_none"), font_size=24 * _sp(),
                                 size_hint_y=None, height=60 * _sp()))
        small = int(18 * _sp())
        for loan in loans[page * self.PER_PAGE:(page + 1) * self.PER_PAGE]:
            line = tr(lang, "lib_loan_line", date=format_date(lang, loan.due_on))
            if loan.overdue_days > 0:
                line = tr(lang, "lib_loan_late", days=loan.overdue_days) + line
            if loan.renewals_left > 0:
                renew = (tr(lang, "lib_renew") + f"\n[size={small}]"
                         + tr(lang, "lib_renew_left", count=loan.renewals_left) + "[/size]")
            else:
                renew = f"[size={int(20 * _sp())}]" + tr(lang, "lib_renew_none") + "[/size]"
            rows.add_widget(LoanRow(title=loan.title, line=line, copy_id=loan.copy_id,
                                    late=loan.overdue_days > 0, renew_text=renew,
                                    can_renew=loan.renewals_left > 0))
        rows.add_widget(Widget())
        for row in rows.children:
            if isinstance(row, LoanRow):
                row.ids.renew.disabled = app.flow.library_busy or not row.can_renew
        self.show_qr(reader.phone_url if reader else "")


def _tank_lines(lang: str, status: SiteStatus | None) -> list[str]:
    lines = []
    for tank in status.tanks if status else ():
        level = (f"{tank.level_percent:.0f}%" if tank.level_percent is not None
                 else tr(lang, "unknown"))
        line = tr(lang, "tank_line", name=tank.name, level=level,
                  due=tank.cleaning_due or tr(lang, "unknown"))
        if tank.conditions:
            words = ", ".join(tr_code(lang, "condition", c) for c in tank.conditions)
            line += " " + tr(lang, "tank_conditions", conditions=words)
        lines.append(line)
    return lines


def _bay_lines(lang: str, status: SiteStatus | None) -> list[str]:
    lines = []
    # Problems first: staff glance at the top lines.
    bays = sorted(status.extinguisher_bays if status else (), key=lambda b: b.ok)
    for bay in bays:
        if bay.ok:
            lines.append(tr(lang, "bay_ok", name=bay.name))
            continue
        problems = []
        if bay.present is False:
            problems.append(tr(lang, "bay_missing"))
        if bay.pressure_ok is False:
            problems.append(tr(lang, "bay_pressure"))
        if bay.door_open:
            problems.append(tr(lang, "bay_door"))
        if not problems:
            problems = [tr_code(lang, "condition", c) for c in bay.conditions]
        lines.append(tr(lang, "bay_problem", name=bay.name, problems=", ".join(problems)))
    return lines


def _alert_lines(lang: str, status: SiteStatus | None) -> list[str]:
    alerts = [a for a in (status.alerts if status else ()) if not a.acknowledged]
    alerts.sort(key=lambda a: not a.urgent)
    return [tr(lang, "alert_line", urgent=tr(lang, "alert_urgent") if a.urgent else "",
               title=a.title) for a in alerts]


def _ticket_lines(lang: str, status: SiteStatus | None) -> list[str]:
    return [tr(lang, "ticket_line", number=t.number, title=t.title,
               status=tr_code(lang, "status", t.status))
            for t in (status.open_tickets if status else ())]


def _sp() -> float:
    from kivy.metrics import sp

    return float(sp(1))


# --- the app ----------------------------------------------------------------------------------


class KioskApp(App):
    """The touchscreen app. ``transport`` and ``speaker`` are the seams tests replace."""

    lang = StringProperty("zh_CN")
    site_name = StringProperty("")
    site_phone = StringProperty("")
    clock_text = StringProperty("")
    offline = BooleanProperty(False)
    can_go_back = BooleanProperty(False)
    dots = StringProperty("")
    title = "servicepoint kiosk"

    def __init__(
        self,
        settings: Any,
        *,
        transport: Any = None,
        speaker: Speaker | None = None,
        now: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = datetime.now,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        kiosk = settings.kiosk
        self.lang = kiosk.language
        self.speaker: Speaker = speaker or SilentSpeaker()
        self._wall_clock = wall_clock
        self.flow = Flow(idle_seconds=kiosk.idle_seconds,
                         warning_seconds=kiosk.idle_warning_seconds,
                         staff_pin=kiosk.staff_pin, now=now)
        folder = Path(settings.data_dir) / "kiosk"
        self.client = ServerClient(kiosk.server_url, kiosk_key=settings.security.kiosk_key,
                                   timeout=kiosk.request_timeout_s, transport=transport)
        self.outbox = Outbox(folder / "outbox.sqlite3", kiosk_id=kiosk.kiosk_id)
        self.returns = ReturnBox(folder / "outbox.sqlite3")
        self.courier = Courier(self.client, self.outbox, public_url=settings.http.public_url,
                               returns=self.returns)
        self.scanner = ScanBuffer()
        self.draft_file = JsonFile(folder / "draft.json")
        self.categories_cache = JsonFile(folder / "categories.json")
        self.places_cache = JsonFile(folder / "places.json")
        self._reads = ThreadPoolExecutor(1, thread_name_prefix="kiosk-read")
        self._sends = ThreadPoolExecutor(1, thread_name_prefix="kiosk-send")
        # Library calls in the order the reader made them (a scan, then the next scan).
        self._library = ThreadPoolExecutor(1, thread_name_prefix="kiosk-library")
        self.page = 0
        self.site_status: SiteStatus | None = None
        self.status_state = ""
        self.shown_qr = ""
        self.idle_warning: IdleWarning | None = None
        self._spoken: tuple[str, str, int] | None = None
        self._events: list[Any] = []
        self._closed = False
        self.catalog_loaded = False  # set once a fetch of the catalog has finished (either way)

    # --- lifecycle ------------------------------------------------------------------------

    def build(self) -> ScreenManager:
        register_font(self.settings.kiosk.font_path)
        _load_kv()
        Window.clearcolor = theme.BACKGROUND
        manager = ScreenManager(transition=NoTransition())
        manager.add_widget(HomeScreen(name=Step.HOME))
        for step in (Step.QUESTION, Step.COMPOUND, Step.BUILDING, Step.UNIT):
            manager.add_widget(ChoiceScreen(name=step))
        manager.add_widget(ContactScreen(name=Step.CONTACT))
        manager.add_widget(KeypadScreen(name=Step.PHONE))
        manager.add_widget(ReviewScreen(name=Step.REVIEW))
        manager.add_widget(SendingScreen(name=Step.SENDING))
        manager.add_widget(DoneScreen(name=Step.DONE))
        manager.add_widget(FailedScreen(name=Step.FAILED))
        manager.add_widget(KeypadScreen(name=Step.STAFF_PIN))
        manager.add_widget(StaffScreen(name=Step.STAFF))
        manager.add_widget(LibraryScreen(name=Step.LIBRARY))
        manager.add_widget(LibIdentifyScreen(name=Step.LIB_IDENTIFY))
        for step in (Step.LIB_PHONE, Step.LIB_PIN, Step.LIB_COPY):
            manager.add_widget(KeypadScreen(name=step))
        manager.add_widget(LibBorrowScreen(name=Step.LIB_BORROW))
        manager.add_widget(LibReceiptScreen(name=Step.LIB_RECEIPT))
        manager.add_widget(LibReturnScreen(name=Step.LIB_RETURN))
        manager.add_widget(LibLoansScreen(name=Step.LIB_LOANS))
        return manager

    def on_start(self) -> None:
        site = self.settings.site
        self.site_phone = site.phone
        self._apply_language()
        self._load_cached_catalog()
        saved = self.draft_file.load()
        if isinstance(saved, dict) and self.flow.restore(saved):
            log.info("continuing the draft %s at step %s", self.flow.draft.client_id if
                     self.flow.draft else "?", self.flow.step)
        self._tick(0)
        Window.bind(on_touch_down=self._on_any_touch, on_key_down=self._on_key_down,
                    on_textinput=self._on_textinput)
        self._events = [
            Clock.schedule_interval(self._tick, 0.5),
            Clock.schedule_interval(lambda dt: self.fetch_catalog(), CATALOG_REFRESH_S),
            Clock.schedule_interval(lambda dt: self._retry_outbox(), OUTBOX_RETRY_S),
        ]
        self.sync()
        self.fetch_catalog()
        Clock.schedule_once(self._settle_heap, HEAP_SETTLE_S)

    @staticmethod
    def _settle_heap(_dt: float = 0) -> None:
        """Take what start-up built out of the cycle collector's sight. A full collection walks
        every object it tracks; with Kivy's widget tree that took 130-160 ms here, long enough to
        hold up the screen a tap asked for. What exists once the home screen is up lives as long
        as the app, so walking it again finds nothing."""
        gc.collect()
        gc.freeze()
        log.debug("heap settled: %d objects frozen", gc.get_freeze_count())

    def on_stop(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Stop timers and threads and close files; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for event in self._events:
            event.cancel()
        Window.unbind(on_touch_down=self._on_any_touch, on_key_down=self._on_key_down,
                      on_textinput=self._on_textinput)
        if self.idle_warning is not None:
            self.idle_warning.dismiss(animation=False)
        self._reads.shutdown(wait=True, cancel_futures=True)
        self._library.shutdown(wait=True, cancel_futures=True)
        self._sends.shutdown(wait=True)
        self.client.close()
        self.outbox.close()
        self.returns.close()
        self.speaker.stop()

    # --- text -----------------------------------------------------------------------------

    def tr(self, lang: str, key: str, **values: Any) -> str:
        return tr(lang, key, **values)

    def _apply_language(self) -> None:
        site = self.settings.site
        self.site_name = site.name_en if self.lang == "en" and site.name_en else site.name_zh
        self.clock_text = format_clock(self.lang, self._wall_clock())

    # --- what the screens show ------------------------------------------------------------

    def choices(self) -> tuple[str, list[tuple[str, str]], int]:
        """(title, [(key, label)], columns) for the choice screen of the current step."""
        flow, lang = self.flow, self.lang
        if flow.step is Step.QUESTION and flow.question is not None:
            question = flow.question
            items = [(c.key, c.label(lang)) for c in question.choices]
            if not question.required:
                items.append((SKIP, tr(lang, "skip")))
            return question.label(lang), items, 3
        if flow.step is Step.COMPOUND:
            return tr(lang, "where_compound"), [(c.code, c.name(lang)) for c in flow.compounds], 4
        if flow.step is Step.BUILDING and flow.compound is not None:
            return tr(lang, "where_building"), [
                (b.code, b.name) for b in flow.compound.buildings], 4
        if flow.step is Step.UNIT and flow.building is not None:
            return tr(lang, "where_unit"), [(u.code, u.name) for u in flow.building.units], 4
        return "", [], 3

    def review_lines(self) -> list[str]:
        flow, lang = self.flow, self.lang
        draft, category = flow.draft, flow.category
        if draft is None or category is None:
            return []
        lines = [tr(lang, "review_service", value=category.name(lang))]
        for question in category.questions:
            choice = question.choice(draft.answers.get(question.code, ""))
            if choice is not None:
                lines.append(tr(lang, "review_answer", label=question.label(lang),
                                value=choice.label(lang)))
        if flow.compound and flow.building and flow.unit:
            place = f"{flow.compound.name(lang)} {flow.building.name} {flow.unit.name}"
            lines.append(tr(lang, "review_place", value=place))
        if draft.contact == "phone":
            lines.append(tr(lang, "review_phone", value=format_phone(draft.phone)))
        else:
            lines.append(tr(lang, "review_no_phone"))
        return lines

    def keypad_view(self) -> tuple[str, str, str, bool]:
        """(title, display, hint, hint is a problem) for the keypad screen of the current step."""
        flow, lang = self.flow, self.lang
        step, visit = flow.step, flow.visit
        problem = tr(lang, flow.problem) if flow.problem else ""
        if step is Step.PHONE:
            digits = flow.draft.phone if flow.draft else ""
            return (tr(lang, "phone_title"), format_phone(digits),
                    problem or tr(lang, "phone_hint"), bool(problem))
        if step is Step.LIB_PHONE and visit is not None:
            return (tr(lang, "phone_title"), format_phone(visit.phone),
                    problem or tr(lang, "phone_hint"), bool(problem))
        if step is Step.LIB_PIN and visit is not None:
            if not problem and visit.last is not None and visit.last.refusal is not None:
                problem = visit.last.refusal.text(lang)
            if not problem and visit.in_flight:
                return (tr(lang, "lib_pin_title"), "●" * len(visit.pin),
                        tr(lang, "lib_checking"), False)
            return (tr(lang, "lib_pin_title"), "●" * len(visit.pin),
                    problem or tr(lang, "lib_pin_hint"), bool(problem))
        if step is Step.LIB_COPY and visit is not None:
            # As on the label (LB-0012), which is what is looked up, not the bare digits.
            shown = typed_copy_id(visit.copy_digits) if visit.copy_digits else ""
            return (tr(lang, "lib_copy_title"), shown,
                    problem or tr(lang, "lib_copy_hint", prefix=COPY_PREFIX), bool(problem))
        return tr(lang, "pin_title"), "●" * len(flow.pin), problem, bool(problem)

    def current_screen(self) -> KioskScreen:
        return self.root.current_screen

    def sync(self) -> None:
        """Show the flow's step: switch screen, refresh it, save the draft, speak the prompt."""
        flow = self.flow
        self.can_go_back = flow.can_go_back
        if self.root.current != flow.step:
            self.page = 0
        self.root.current = flow.step.value
        self.current_screen().refresh(self)
        self._save_draft()
        self._speak()
        for session in self.flow.take_sessions_to_end():
            self._end_library_session(session)

    def _save_draft(self) -> None:
        snapshot = self.flow.snapshot()
        try:
            if snapshot is None:
                self.draft_file.clear()
            else:
                self.draft_file.save(snapshot)
        except OSError:
            log.exception("could not save the draft to %s", self.draft_file.path)

    def _speak(self) -> None:
        flow = self.flow
        question = flow.draft.question if flow.draft else 0
        key = (flow.step.value, self.lang, question)
        if key == self._spoken:
            return
        self._spoken = key
        if flow.step is Step.QUESTION and flow.question is not None:
            text = flow.question.label(self.lang)
        else:
            text = tr(self.lang, f"say_{flow.step.value}")
        if text:
            self.speaker.say(text, self.lang)

    # --- actions: one per tap ---------------------------------------------------------------

    def _act(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except (RuntimeError, ValueError) as exc:
            # A stale tap (the screen changed under the finger) must not crash the kiosk.
            log.warning("ignored tap at step %s: %s", self.flow.step, exc)
        self.sync()

    def toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh_CN" else "zh_CN"
        self._apply_language()
        self.sync()

    def choose_category(self, code: str) -> None:
        if code == LIBRARY_CATEGORY:
            self.open_library()
            return
        self._act(lambda: self.flow.choose_category(code))

    def choose(self, key: str) -> None:
        flow = self.flow
        actions: dict[Step, Callable[[], None]] = {
            Step.QUESTION: lambda: flow.skip_question() if key == SKIP else flow.answer(key),
            Step.COMPOUND: lambda: flow.choose_compound(key),
            Step.BUILDING: lambda: flow.choose_building(key),
            Step.UNIT: lambda: flow.choose_unit(key),
        }
        action = actions.get(flow.step)
        if action is not None:
            self._act(action)

    def turn_page(self, delta: int) -> None:
        self.page = max(0, self.page + delta)
        self.current_screen().refresh(self)

    def leave_phone(self) -> None:
        self._act(self.flow.leave_phone)

    def come_back(self) -> None:
        self._act(self.flow.come_back)

    def press_key(self, key: str) -> None:
        flow = self.flow
        if key == "delete":
            self._act(flow.delete_digit)
        elif key == "clear":
            self._act(flow.clear_digits)
        else:
            self._act(lambda: flow.press_digit(key))

    def confirm_keypad(self) -> None:
        step = self.flow.step
        if step is Step.LIB_PHONE:
            self._act(self.flow.confirm_library_phone)
            return
        if step is Step.LIB_PIN:
            self._library_act(self.flow.confirm_library_pin)
            return
        if step is Step.LIB_COPY:
            self._library_act(self.flow.confirm_copy)
            return
        if self.flow.step is Step.STAFF_PIN:
            self._act(self.flow.confirm_pin)
            if self.flow.step is Step.STAFF:
                self.refresh_status()
        else:
            self._act(self.flow.confirm_phone)

    def go_back(self) -> None:
        self._act(self.flow.back)

    def go_home(self) -> None:
        self._dismiss_idle_warning()
        self._act(self.flow.home)

    def open_staff(self) -> None:
        self._act(self.flow.open_staff)

    def stay(self) -> None:
        self.flow.touched()
        self._dismiss_idle_warning()

    # --- the library ------------------------------------------------------------------------

    def open_library(self) -> None:
        self._act(self.flow.open_library)

    def library_choose(self, purpose: str) -> None:
        self._library_act(lambda: self.flow.library_choose(purpose))

    def library_deliver(self) -> None:
        self._act(self.flow.library_deliver)

    def library_use_phone(self) -> None:
        self._act(self.flow.library_use_phone)

    def library_type_copy(self) -> None:
        self._act(self.flow.library_type_copy)

    def library_done(self) -> None:
        self._act(self.flow.library_done)

    def renew(self, copy_id: str) -> None:
        self._library_act(lambda: self.flow.renew(copy_id))

    def scanned(self, text: str) -> None:
        """A whole scan from the scanner (a keyboard that types the code and presses Enter)."""
        log.info("scanned %r at step %s", text, self.flow.step)
        self._dismiss_idle_warning()
        self._library_act(lambda: self.flow.scan(text))

    def _library_act(self, action: Callable[[], LibraryCall | None]) -> None:
        call: LibraryCall | None = None
        try:
            call = action()
        except (RuntimeError, ValueError) as exc:
            log.warning("ignored library action at step %s: %s", self.flow.step, exc)
        if call is not None:
            self._start_library_call(call)
        self.sync()

    def _start_library_call(self, call: LibraryCall) -> None:
        # Returns go through the courier on the send thread: kept on disk first, and never sent
        # twice at once by a live scan and the backlog's flush.
        pool = self._sends if call.kind == "give_back" else self._library
        future = pool.submit(self._library_blocking, call)
        future.add_done_callback(
            lambda f: Clock.schedule_once(partial(self._library_answered, call, f)))

    def _library_blocking(self, call: LibraryCall) -> object:
        client, body = self.client, call.body
        if call.kind == "identify":
            if "card_id" in body:
                return client.open_library_session(card_id=body["card_id"])
            return client.open_library_session(phone=body["phone"], pin=body["pin"])
        if call.kind == "borrow":
            return client.borrow(call.session, copy_id=body["copy_id"],
                                 client_id=body["client_id"])
        if call.kind == "renew":
            return client.renew(call.session, copy_id=body["copy_id"])
        if call.kind == "loans":
            return client.my_loans(call.session)
        return self.courier.give_back(dict(body))

    def _library_answered(self, call: LibraryCall, future: Future[object],
                          _dt: float = 0) -> None:
        if self._closed:
            return
        try:
            result = future.result()
        except ServerRefused as exc:
            log.info("library %s refused: %s", call.kind, exc)
            self.flow.library_refused(call, Refusal.from_error(
                exc.code if exc.code in _READER_CODES else "other",
                exc.message_zh, exc.message_en))
        except ServerUnavailable as exc:
            log.warning("library %s: server unavailable: %s", call.kind, exc)
            self.offline = True
            self.flow.library_refused(call, Refusal.from_error("unreachable"))
        except Exception:
            log.exception("library %s failed", call.kind)
            self.flow.library_refused(call, Refusal.from_error("other"))
        else:
            self.flow.library_answered(call, result)
            if call.kind == "give_back":
                self.offline = self.courier.pending_count() > 0
        self.sync()

    def _end_library_session(self, session: str) -> None:
        def end() -> None:
            try:
                self.client.end_library_session(session)
            except KioskError as exc:
                # The server forgets it by itself after kiosk.session_minutes.
                log.info("could not end a library session: %s", exc)

        if not self._closed:
            self._library.submit(end)

    # --- filing -----------------------------------------------------------------------------

    def submit(self) -> None:
        try:
            body = self.flow.submit()
        except RuntimeError as exc:
            log.warning("ignored send at step %s: %s", self.flow.step, exc)
            return
        self.sync()
        log.info("filing request %s (%s)", body["client_id"], body["category"])
        future = self._sends.submit(self.courier.file, body)
        future.add_done_callback(
            lambda f: Clock.schedule_once(partial(self._filed, body["client_id"], f)))

    def retry(self) -> None:
        self.submit()

    def _filed(self, client_id: str, future: Future[Receipt], _dt: float = 0) -> None:
        if self._closed:
            return
        draft = self.flow.draft
        if self.flow.step is not Step.SENDING or draft is None or draft.client_id != client_id:
            log.warning("result for request %s arrived after the screen moved on", client_id)
            return
        try:
            receipt = future.result()
        except ServerRefused as exc:
            log.warning("request %s refused: %s", client_id, exc)
            self.flow.refused("refused")
        except Exception:
            # Anything else (a full disk, a bug) must leave the resident a way on, not a stuck
            # screen.
            log.exception("filing request %s failed", client_id)
            self.flow.refused("refused")
        else:
            self.offline = receipt.offline
            self.flow.filed(receipt)
            log.info("request %s: ticket %s%s", client_id, receipt.number,
                     " (kept offline)" if receipt.offline else "")
        self.sync()

    def flush_outbox(self) -> Future[int]:
        """Send the backlog on the send thread; the future says how many were delivered."""
        future = self._sends.submit(self.courier.flush)
        future.add_done_callback(lambda f: Clock.schedule_once(partial(self._flushed, f)))
        return future

    def _flushed(self, future: Future[int], _dt: float = 0) -> None:
        if self._closed:
            return
        try:
            future.result()
        except Exception:
            log.exception("sending the outbox failed")
            return
        self.offline = self.courier.pending_count() > 0

    def _retry_outbox(self) -> None:
        if self.courier.pending_count():
            self.flush_outbox()

    # --- reading from the server ------------------------------------------------------------

    def _load_cached_catalog(self) -> None:
        for cache, parse, key in ((self.categories_cache, parse_categories, "categories"),
                                  (self.places_cache, parse_places, "compounds")):
            raw = cache.load()
            if raw is None:
                continue
            try:
                self.flow.set_catalog(**{key: parse(raw)})
            except BadReply as exc:
                log.warning("ignoring cached %s: %s", cache.path.name, exc)

    def fetch_catalog(self) -> Future[None]:
        future = self._reads.submit(self._fetch_catalog_blocking)
        future.add_done_callback(lambda f: Clock.schedule_once(partial(self._catalog_fetched, f)))
        return future

    def _fetch_catalog_blocking(self) -> tuple[Any, Any]:
        categories_raw = self.client.get_categories()
        places_raw = self.client.get_places()
        # Parse before caching: a bad answer must not replace the last good copy.
        categories, compounds = parse_categories(categories_raw), parse_places(places_raw)
        self.categories_cache.save(categories_raw)
        self.places_cache.save(places_raw)
        return categories, compounds

    def _catalog_fetched(self, future: Future[tuple[Any, Any]], _dt: float = 0) -> None:
        if self._closed:
            return
        self.catalog_loaded = True
        try:
            categories, compounds = future.result()
        except ServerUnavailable as exc:
            log.warning("server unavailable, using the cached catalog: %s", exc)
            self.offline = True
            return
        except KioskError as exc:
            log.error("could not read the catalog: %s", exc)
            return
        self.flow.set_catalog(categories=categories, compounds=compounds)
        self.offline = False
        if self.flow.step in (Step.HOME, Step.COMPOUND, Step.BUILDING, Step.UNIT):
            self.current_screen().refresh(self)
        self._retry_outbox()

    def refresh_status(self) -> None:
        self.status_state = "loading"
        if self.flow.step is Step.STAFF:
            self.current_screen().refresh(self)
        future = self._reads.submit(self.client.site_status)
        future.add_done_callback(lambda f: Clock.schedule_once(partial(self._status_fetched, f)))

    def _status_fetched(self, future: Future[SiteStatus], _dt: float = 0) -> None:
        if self._closed:
            return
        try:
            self.site_status = future.result()
            self.status_state = "ok"
        except KioskError as exc:
            log.warning("could not read the site status: %s", exc)
            self.status_state = "unreachable"
        if self.flow.step is Step.STAFF:
            self.current_screen().refresh(self)

    # --- idle and the clock -------------------------------------------------------------------

    def _on_any_touch(self, _window: Any, _touch: Any) -> bool:
        self.flow.touched()
        return False

    # The scanner is a keyboard: characters come as text input, the end of a code as Enter
    # (or Tab). No text field has focus, so the window's own events are read.
    def _on_textinput(self, _window: Any, text: str) -> bool:
        self.scanner.feed(text, at=time.monotonic())
        return False

    def _on_key_down(self, _window: Any, key: int, _scancode: int, _codepoint: str | None,
                     _modifiers: list[str]) -> bool:
        if key in _END_OF_SCAN:
            scan = self.scanner.enter(at=time.monotonic())
            if scan:
                self.flow.touched()
                self.scanned(scan)
            return True
        return False

    def _tick(self, _dt: float) -> None:
        self.clock_text = format_clock(self.lang, self._wall_clock())
        if self.flow.step is Step.SENDING:
            self.dots = "." * (int(time.monotonic() * 2) % 4)
        phase = self.flow.idle_phase()
        if phase is IdlePhase.ACTIVE:
            self._dismiss_idle_warning()
        elif phase is IdlePhase.WARNING:
            self._show_idle_warning()
        else:
            log.info("idle timeout at step %s: clearing the screen", self.flow.step)
            self._dismiss_idle_warning()
            self.flow.home()
            self.sync()

    def _show_idle_warning(self) -> None:
        if self.idle_warning is None:
            self.idle_warning = IdleWarning()
            self.idle_warning.open(animation=False)
            self.speaker.say(tr(self.lang, "say_idle"), self.lang)
        self.idle_warning.seconds = self.flow.seconds_left()

    def _dismiss_idle_warning(self) -> None:
        if self.idle_warning is not None:
            self.idle_warning.dismiss(animation=False)
            self.idle_warning = None
