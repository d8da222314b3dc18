"""The kiosk's errands to the server, run off the UI thread, each answer handed back on it.

Three lanes, one worker thread each, so a slow server never freezes the screen:

- reads: the catalog (categories and places, cached on disk) and the site's status;
- sends: filing a request, returning a book and flushing the outbox, one at a time, so a live
  send and the backlog's flush never deliver the same request or book twice at once;
- library: a reader's calls in the order they made them (a scan, then the next scan).

Every errand returns its :class:`~concurrent.futures.Future` and, once it is done, calls
``then(future)`` through ``on_ui``. :class:`kiosk.app.KioskApp` passes an ``on_ui`` that runs it
on Kivy's main thread (``Clock.schedule_once``), which is the only way worker results reach the
widgets. No Kivy here::

    errands = Errands(client, courier, on_ui=lambda fn: fn(), folder=data / "kiosk")
    errands.file(body, then=lambda future: print(future.result().number))
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, assert_never

from kiosk.api import ServerClient, SiteStatus
from kiosk.catalog import Category, Compound, parse_categories, parse_places
from kiosk.courier import Courier
from kiosk.errors import BadReply, KioskError
from kiosk.flow import LibraryCall, Receipt
from kiosk.storage import JsonFile

__all__ = ["Catalog", "Errands"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Catalog = tuple[tuple[Category, ...], tuple[Compound, ...]]


class Errands:
    """The server calls of one kiosk. ``on_ui(fn)`` must run ``fn`` on the UI thread soon."""

    def __init__(self, client: ServerClient, courier: Courier, *,
                 on_ui: Callable[[Callable[[], None]], None], folder: Path) -> None:
        self.client = client
        self.courier = courier
        self._on_ui = on_ui
        self.categories_cache = JsonFile(folder / "categories.json")
        self.places_cache = JsonFile(folder / "places.json")
        self._reads = ThreadPoolExecutor(1, thread_name_prefix="kiosk-read")
        self._sends = ThreadPoolExecutor(1, thread_name_prefix="kiosk-send")
        self._library = ThreadPoolExecutor(1, thread_name_prefix="kiosk-library")
        self._closed = False

    def _run(self, lane: ThreadPoolExecutor, work: Callable[[], T],
             then: Callable[[Future[T]], None] | None) -> Future[T]:
        future = lane.submit(work)
        if then is not None:
            future.add_done_callback(lambda done: self._on_ui(lambda: then(done)))
        return future

    # --- sends --------------------------------------------------------------------------------

    def file(self, body: dict[str, Any], then: Callable[[Future[Receipt]], None]
             ) -> Future[Receipt]:
        """File a request: kept in the outbox first, then sent (see :class:`Courier`)."""
        return self._run(self._sends, lambda: self.courier.file(body), then)

    def flush(self, then: Callable[[Future[int]], None]) -> Future[int]:
        """Send the backlog; the future says how many were delivered."""
        return self._run(self._sends, self.courier.flush, then)

    def pending(self) -> int:
        """Requests and returns still waiting in the outbox for the server."""
        return self.courier.pending_count()

    # --- the library --------------------------------------------------------------------------

    def library(self, call: LibraryCall, then: Callable[[Future[object]], None]
                ) -> Future[object]:
        # Returns go through the courier on the send lane: kept on disk first, and never sent
        # twice at once by a live scan and the backlog's flush.
        lane = self._sends if call.kind == "give_back" else self._library
        return self._run(lane, lambda: self._library_call(call), then)

    def _library_call(self, call: LibraryCall) -> object:
        client, body = self.client, call.body
        match call.kind:
            case "identify" if "card_id" in body:
                return client.open_library_session(card_id=body["card_id"])
            case "identify":
                return client.open_library_session(phone=body["phone"], pin=body["pin"])
            case "borrow":
                return client.borrow(call.session, copy_id=body["copy_id"],
                                     client_id=body["client_id"])
            case "renew":
                return client.renew(call.session, copy_id=body["copy_id"])
            case "loans":
                return client.my_loans(call.session)
            case "give_back":
                return self.courier.give_back(dict(body))
            case _:
                assert_never(call.kind)

    def end_library_session(self, session: str) -> None:
        """Tell the server a reader has gone; it forgets them by itself if this fails."""
        def end() -> None:
            try:
                self.client.end_library_session(session)
            except KioskError as exc:
                # The server forgets it by itself after kiosk.session_minutes.
                log.info("could not end a library session: %s", exc)

        if not self._closed:
            self._library.submit(end)

    # --- reads --------------------------------------------------------------------------------

    def cached_catalog(self) -> dict[str, Any]:
        """The catalog as last fetched, as keyword arguments for ``Flow.set_catalog`` (a part
        whose cache is missing or unreadable is left out)."""
        found: dict[str, Any] = {}
        for cache, parse, key in ((self.categories_cache, parse_categories, "categories"),
                                  (self.places_cache, parse_places, "compounds")):
            raw = cache.load()
            if raw is None:
                continue
            try:
                found[key] = parse(raw)
            except BadReply as exc:
                log.warning("ignoring cached %s: %s", cache.path.name, exc)
        return found

    def fetch_catalog(self, then: Callable[[Future[Catalog]], None]) -> Future[Catalog]:
        return self._run(self._reads, self._fetch_catalog, then)

    def _fetch_catalog(self) -> Catalog:
        categories_raw = self.client.get_categories()
        places_raw = self.client.get_places()
        # Parse before caching: a bad answer must not replace the last good copy.
        categories, compounds = parse_categories(categories_raw), parse_places(places_raw)
        self.categories_cache.save(categories_raw)
        self.places_cache.save(places_raw)
        return categories, compounds

    def site_status(self, then: Callable[[Future[SiteStatus]], None]) -> Future[SiteStatus]:
        return self._run(self._reads, self.client.site_status, then)

    # --- the end ------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Drop reads and library calls not yet started; let a send that has begun finish."""
        self._closed = True
        self._reads.shutdown(wait=True, cancel_futures=True)
        self._library.shutdown(wait=True, cancel_futures=True)
        self._sends.shutdown(wait=True)
