"""The touchscreen app: :class:`KioskApp`, where the flow, the screens and the server meet.

``kiosk.flow`` decides what happens and ``kiosk.screens`` shows it. Every tap calls one
``app.<verb>()`` (the verbs are :class:`kiosk.taps.Taps`), which calls the flow, then
:meth:`KioskApp.sync`: switch to the flow's step, refresh that screen, save the draft, speak the
prompt. Calls to the server go through :class:`kiosk.errands.Errands` on worker threads; their
answers come back on the UI thread and are handed to the flow in the ``_…answered`` /
``_…fetched`` methods here. Touches and the barcode scanner's keystrokes come through
:class:`kiosk.window_input.WindowInput`; the half-second :meth:`KioskApp.tick` runs the clock on
screen and the idle timeout.

A little over the house's 400 lines: what each feature adds lives in its own part (taps,
access, assist, recorder), mixed in; what stays here is the one lifecycle they share (start,
sync, the server's answers, shutdown), which reads best in one place.

In tests and for screenshots (PLATFORM.md) the app is driven without ``run()``::

    app = KioskApp(settings, transport=httpx.MockTransport(handler), speaker=RecordingSpeaker())
    app.prepare()          # builds the window contents and calls on_start
    ...                    # pump frames with EventLoop.idle(); tap with kiosk.tooling.walkthrough
    app.shutdown()
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import ScreenManager

from foundation.redact import short_hash
from kiosk import theme
from kiosk.access import Access
from kiosk.api import ServerClient, SiteStatus
from kiosk.assist import Assist
from kiosk.booking import Booking
from kiosk.courier import Courier
from kiosk.errands import Catalog, Errands
from kiosk.errors import KioskError, ServerRefused, ServerUnavailable
from kiosk.flow import Flow, IdlePhase, LibraryCall, Receipt, Step
from kiosk.heap import release_free_memory
from kiosk.heartbeat import Heartbeat
from kiosk.i18n import format_clock, tr
from kiosk.lending import Refusal
from kiosk.microphone import microphone_from_settings
from kiosk.outbox import Outbox, ReturnBox
from kiosk.recorder import Recorder
from kiosk.screens import build_screens
from kiosk.screens.widgets import IdleWarning, KioskScreen
from kiosk.settings import KioskAppSettings
from kiosk.storage import JsonFile
from kiosk.taps import Taps
from kiosk.voice import SilentSpeaker, Speaker
from kiosk.window_input import WindowInput

__all__ = ["KioskApp", "register_font"]

log = logging.getLogger(__name__)

# How often the kiosk re-reads the catalog and retries the outbox while it has a backlog.
CATALOG_REFRESH_S = 600.0
OUTBOX_RETRY_S = 15.0
HEAP_SETTLE_S = 1.0  # after the first frames, when the home screen is up and nobody has tapped
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


class KioskApp(Taps, Assist, Booking, Access, Recorder, App):
    """The touchscreen app. ``transport`` and ``speaker`` are the seams tests replace."""

    lang = StringProperty("zh_CN")
    site_name = StringProperty("")
    site_phone = StringProperty("")
    clock_text = StringProperty("")
    offline = BooleanProperty(False)
    outbox_damaged = StringProperty("")  # the name a damaged outbox was set aside as, at start
    can_go_back = BooleanProperty(False)
    dots = StringProperty("")
    title = "servicepoint kiosk"

    def __init__(
        self,
        settings: KioskAppSettings,
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
        self.contact_days = settings.retention.contact_days  # said beside the phone keypad
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
        aside = self.outbox.set_aside or self.returns.set_aside
        self.outbox_damaged = aside.name if aside is not None else ""
        self.courier = Courier(self.client, self.outbox, public_url=settings.http.public_url,
                               returns=self.returns)
        # Alive, and what the outbox holds, every minute on a thread of its own (kiosk/heartbeat.py)
        self.heartbeat = Heartbeat(self.client, self.outbox, kiosk_id=kiosk.kiosk_id,
                                   place=kiosk.place, outbox_damaged=bool(aside))
        self.errands = Errands(self.client, self.courier, folder=folder,
                               on_ui=lambda run: Clock.schedule_once(lambda _dt: run()))
        self.setup_assist(self.client, folder)  # the slip, 呼叫工作人员, 查进度 (kiosk/assist.py)
        self.setup_access()  # voice for tiles, two-touch, 大字 (kiosk/access.py)
        self.setup_booking(self.client)  # 选时间 and bookings (kiosk/booking.py)
        # 说一说, the spoken description (kiosk/recorder.py)
        self.setup_recorder(microphone_from_settings(kiosk.microphone), self.client, folder)
        self.window_input = WindowInput(on_touch=self.flow.touched, on_scan=self.scanned)
        self.draft_file = JsonFile(folder / "draft.json")
        self.page = 0
        self.site_status: SiteStatus | None = None
        self.status_state = ""
        self.shown_qr = ""
        self.idle_warning: IdleWarning | None = None
        self._spoken: tuple[str, str, int] | None = None
        self._events: list[Any] = []
        self._closed = False
        self.catalog_loaded = False  # set once a fetch of the catalog has finished (either way)

    # --- lifecycle ----------------------------------------------------------------------------

    def build(self) -> ScreenManager:
        register_font(self.settings.kiosk.font_path)
        Window.clearcolor = theme.BACKGROUND
        return build_screens()

    def prepare(self) -> None:
        """Build the screens on the window and start, without Kivy's event loop: for tests,
        screenshots and benchmarks, which pump frames themselves (PLATFORM.md)."""
        self._run_prepare()

    @property
    def closed(self) -> bool:
        """Whether :meth:`shutdown` has run (timers stopped, threads and files closed)."""
        return self._closed

    def on_start(self) -> None:
        self.site_phone = self.settings.site.phone
        self._apply_language()
        self.flow.set_catalog(**self.errands.cached_catalog())
        saved = self.draft_file.load()
        if isinstance(saved, dict) and self.flow.restore(saved):
            log.info("continuing the draft %s at step %s", short_hash(
                self.flow.draft.client_id if self.flow.draft else None), self.flow.step)
        self.tick(0)
        self.window_input.bind()
        self._events = [
            Clock.schedule_interval(self.tick, 0.5),
            Clock.schedule_interval(lambda dt: self.fetch_catalog(), CATALOG_REFRESH_S),
            Clock.schedule_interval(lambda dt: self._retry_outbox(), OUTBOX_RETRY_S),
        ]
        self.sync()
        self.heartbeat.start()
        self.start_recorder()
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
        # And the C heap's freed pages, still mapped by malloc (kiosk/heap.py): what that gives
        # back depends on what was built and freed before (BENCHMARKS.md, Kiosk).
        release_free_memory()
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
        self.window_input.unbind()
        if self.idle_warning is not None:
            self.idle_warning.dismiss(animation=False)
        self.errands.shutdown()
        self.shutdown_assist()
        self.shutdown_booking()
        self.shutdown_recorder()
        self.heartbeat.stop()  # before the client and outbox it uses close
        self.client.close()
        self.outbox.close()
        self.returns.close()
        self.speaker.stop()
        self.shutdown_access()

    # --- text ---------------------------------------------------------------------------------

    def tr(self, lang: str, key: str, **values: Any) -> str:
        return tr(lang, key, **values)

    def set_language(self, lang: str) -> None:
        """Show everything in ``lang`` (zh_CN or en) from the next refresh on."""
        self.lang = lang
        self._apply_language()

    def _apply_language(self) -> None:
        site = self.settings.site
        self.site_name = site.name_en if self.lang == "en" and site.name_en else site.name_zh
        self.clock_text = format_clock(self.lang, self._wall_clock())

    # --- showing the flow ---------------------------------------------------------------------

    def current_screen(self) -> KioskScreen:
        return self.root.current_screen

    def sync(self) -> None:
        """Show the flow's step: switch screen, refresh it, save the draft, speak the prompt."""
        flow = self.flow
        self.can_go_back = flow.can_go_back
        self.disarm()
        if self.root.current != flow.step:
            self.page = 0
        self.root.current = flow.step.value
        self.current_screen().refresh(self)
        self._save_draft()
        self._speak()
        for session in self.flow.take_sessions_to_end():
            if not self._closed:
                self.errands.end_library_session(session)
        self.sync_recorder()
        self.sync_booking()

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
        elif flow.step is Step.DONE:
            text = self.done_words()  # the number, sign by sign (kiosk/access.py)
        else:
            text = tr(self.lang, f"say_{flow.step.value}")
        if text:
            self.speaker.say(text, self.lang)

    # --- the server's answers (the taps that ask are in kiosk.taps) ------------------------

    def _library_answered(self, call: LibraryCall, future: Future[object]) -> None:
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
                self.offline = self.errands.pending() > 0
        self.sync()

    def _filed(self, client_id: str, future: Future[Receipt]) -> None:
        if self._closed:
            return
        draft = self.flow.draft
        if self.flow.step is not Step.SENDING or draft is None or draft.client_id != client_id:
            log.warning("result for request %s arrived after the screen moved on",
                        short_hash(client_id))
            return
        try:
            receipt = future.result()
        except ServerRefused as exc:
            log.warning("request %s refused: %s", short_hash(client_id), exc)
            self.flow.refused("refused")
        except Exception:
            # Anything else (a full disk, a bug) must leave the resident a way on, not a stuck
            # screen.
            log.exception("filing request %s failed", short_hash(client_id))
            self.flow.refused("refused")
        else:
            self.offline = receipt.offline
            self.flow.filed(receipt)
            log.info("request %s: ticket %s%s", short_hash(client_id), receipt.number,
                     " (kept offline)" if receipt.offline else "")
        self.sync()

    def flush_outbox(self) -> Future[int]:
        """Send the backlog on the send thread; the future says how many were delivered."""
        return self.errands.flush(then=self._flushed)

    def _flushed(self, future: Future[int]) -> None:
        if self._closed:
            return
        try:
            future.result()
        except Exception:
            log.exception("sending the outbox failed")
            return
        self.offline = self.errands.pending() > 0

    def _retry_outbox(self) -> None:
        if self.errands.pending():
            self.flush_outbox()

    # --- reading from the server --------------------------------------------------------------

    def fetch_catalog(self) -> Future[Catalog]:
        return self.errands.fetch_catalog(then=self._catalog_fetched)

    def _catalog_fetched(self, future: Future[Catalog]) -> None:
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
        self.errands.site_status(then=self._status_fetched)

    def _status_fetched(self, future: Future[SiteStatus]) -> None:
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

    # --- idle and the clock ----------------------------------------------------------------

    def tick(self, _dt: float = 0) -> None:
        """One beat of the kiosk's clock (every half second; a test or a scene calls it after
        moving a manual clock): the time on screen, the sending dots, and the idle timeout."""
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
            # Nobody is at the screen: a good moment to give back the heap the journey's screens
            # freed (kiosk/heap.py; it can take a few hundred ms, too long inside a tap).
            release_free_memory()

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
