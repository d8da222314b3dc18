"""The ASGI app factory, the composition root of the server: it mounts the HTTP API
(``server.api``), the web pages (``server.web``) and the library's routes on one app. Nothing is
built at import: ``create_app(settings)`` makes the engine, the session factory and the routes, so
tests can hand in their own settings, database and clock.

    app = create_app(load_server_settings())
    serve(app, host=..., port=...)      # what ``servicepoint server`` does
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.redact import redact_path
from server.alerts import Notifier
from server.api.attachments import UploadBodyLimit
from server.api.errors import install_error_handlers
from server.api.filing import filing_limiters
from server.api.lookups import lookup_miss_limiter
from server.api.ratelimit import SlidingWindowLimiter
from server.api.routes import appointments as appointment_routes
from server.api.routes import kiosk_heartbeat as heartbeat_routes
from server.api.routes import kiosk_help, lookup, open311, public, sensing, staff, triage
from server.api.routes import recordings as recording_routes
from server.api.routes import street as street_routes
from server.api.timing import RequestTimer
from server.db import make_engine, session_factory
from server.library import routes as library_routes
from server.models import utcnow
from server.rules import load_rules_config
from server.sensing.metrics import Metrics, outbox_depths, watch_pool
from server.sensing.services import site_overview
from server.services.categories import load_category_specs, sync_categories
from server.services.kiosk_heartbeats import kiosk_gauges
from server.services.notices import NoticeCourier
from server.services.site_profile import SiteFactsCache
from server.services.sites import HomeSite, ensure_home_site
from server.services.tickets import flag_overdue
from server.settings import ServerSettings
from server.web import pages
from server.web.photos import UPLOAD_PATHS, upload_limit

__all__ = ["create_app", "serve"]

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024


class LastDefence:
    """The last line of defence: an exception no handler took is logged and answered with a JSON
    500, not a bare text page. Every such case is a bug to fix. (A plain ASGI middleware: the
    ``@app.middleware("http")`` kind costs every request an extra task and a streamed copy.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"),
                          redact_path(str(scope.get("path"))))
            if started:  # half an answer has gone: nothing better to do than drop the line
                raise
            response = JSONResponse({"error": {"code": "internal", "message": "internal error"}},
                                    status_code=500)
            await response(scope, receive, send)


class Bulkhead:
    """Admit at most ``limit`` requests into the app at once; the others wait their turn here.

    Why: a sync route holds a pooled database connection from its first query until its session
    closes, and that happens only after FastAPI's next worker-thread hop (serialising the
    answer). With more requests in flight than the pool has connections, every worker thread can
    end up waiting for a connection while every connection waits for a worker thread: nothing
    moves until the pool's timeout, and then every one of those requests fails. A request waiting
    here holds neither a thread nor a connection.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:  # one per event loop (tests)
            self._slots = (loop, asyncio.Semaphore(self.limit))
        async with self._slots[1]:
            await self.app(scope, receive, send)


def request_slots(engine: Engine) -> int:
    """How many requests may be in the app at once: the connections the pool can give, less a
    few for the sensor ingest and the periodic sweeps, which share it."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):  # a test's single or unpooled connection: no waiting
        return 64
    capacity = pool.size() + max(int(getattr(pool, "_max_overflow", 0)), 0)
    return max(capacity - 3, 2)


def create_app(settings: ServerSettings, *, engine: Engine | None = None,
               clock: Callable[[], datetime] = utcnow, background: bool = True,
               ingest_factory: Callable[..., Any] | None = None,
               notifier: Notifier | None = None) -> FastAPI:
    """Build the app. ``background=False`` skips the periodic sweeps (for tests that drive the
    clock themselves). ``ingest_factory(sessions=…, clock=…, metrics=…)`` makes the sensor
    ingest, which starts and stops with the app. With a ``notifier``, the notice courier
    (``server.services.notices``) tells squads, volunteers, leaders and residents of their
    requests, and delivers every alert, as long as the app runs.
    """
    engine = engine or make_engine(settings.database_url)
    sessions = session_factory(engine, home_site=settings.site.id)
    rules = load_rules_config(settings.ingest.rules_file, timezone=settings.site.timezone)
    metrics = Metrics()
    watch_pool(engine, metrics)  # /metrics: database pool waits
    metrics.add_collector(outbox_depths(sessions))  # /metrics: the outbox, read when scraped
    ingest = (ingest_factory(sessions=sessions, clock=clock, metrics=metrics)
              if ingest_factory else None)
    courier = (NoticeCourier.from_settings(settings, sessions=sessions, notifier=notifier,
                                           clock=clock, metrics=metrics)
               if notifier is not None else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        specs = load_category_specs(settings.categories_file)
        with sessions() as db:
            await run_in_threadpool(sync_categories, db, specs=specs)
            await run_in_threadpool(ensure_home_site, db, home=HomeSite(
                id=settings.site.id, name_zh=settings.site.name_zh,
                name_en=settings.site.name_en, timezone=settings.site.timezone))
        tasks = []
        if background:
            tasks.append(asyncio.create_task(_every(app, 60.0, _flag_overdue)))
            # Idempotent per day, so hourly is safe and a restart never skips a day.
            tasks.append(asyncio.create_task(_every(app, 3600.0, _library_reminders)))
            # Once a local day (it checks the audit log), so hourly never runs it twice.
            tasks.append(asyncio.create_task(_every(app, 3600.0, _retention)))
            # Last month's ledger on the 1st; the audit log keeps it to once a month.
            tasks.append(asyncio.create_task(_every(app, 3600.0, _monthly_ledger)))
        if ingest is not None:
            ingest.start()
        if courier is not None:
            await run_in_threadpool(courier.start)
        log.info("server ready: %s, database %s", settings.site.id,
                 engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if ingest is not None:
                await run_in_threadpool(ingest.stop)
            if courier is not None:
                await run_in_threadpool(courier.stop)

    app = FastAPI(title="servicepoint", version="1", lifespan=lifespan,
                  description="Community service point: requests, dispatch, tickets, Open311.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.clock = clock
    # /metrics: kiosks' heartbeats, aged by app.state.clock (a test may move it). Registered
    # once the app exists: prometheus_client collects once on registration.
    metrics.add_collector(kiosk_gauges(sessions, lambda: app.state.clock()))
    app.state.track_limiter = SlidingWindowLimiter(limit=60, window_s=60)
    app.state.lookup_miss_limiter = lookup_miss_limiter()
    app.state.filing_limiters = filing_limiters(
        per_address=settings.security.filing_per_address,
        per_kiosk=settings.security.filing_per_kiosk, window_s=settings.security.filing_window_s)
    app.state.rules = rules
    app.state.metrics = metrics
    app.state.ingest = ingest
    app.state.courier = courier
    app.state.notifier = notifier
    app.state.site_status_extra = lambda db, now: site_overview(db, now=now, rules=rules)
    # The phone and opening hours staff set in the browser, for every page and the kiosk.
    app.state.site_facts = SiteFactsCache(sessions, site_id=settings.site.id,
                                          file_phone=settings.site.phone)
    install_error_handlers(app)
    app.include_router(lookup.router)  # before public's /api/v1/requests routes
    app.include_router(kiosk_help.router)  # 呼叫工作人员 (server/services/kiosk_help.py)
    app.include_router(heartbeat_routes.router)  # each kiosk's minute heartbeat
    app.include_router(public.router)
    app.include_router(appointment_routes.router)  # the slots of services by appointment
    app.include_router(recording_routes.router)  # a request's spoken description, from the kiosk
    app.include_router(staff.router)
    app.include_router(open311.router)
    app.include_router(triage.router)
    app.include_router(street_routes.router)  # the street office's JSON (server/sites/)
    app.include_router(library_routes.router)
    app.include_router(sensing.router)
    app.include_router(sensing.metrics_router)
    app.include_router(pages.router)
    pages.mount_static(app)
    app.add_middleware(Bulkhead, limit=request_slots(engine))
    # Forms that carry photos may send more (server/web/photos.py names them).
    app.add_middleware(UploadBodyLimit, limit=MAX_BODY_BYTES,
                       uploads=UPLOAD_PATHS + recording_routes.RECORDING_PATHS,
                       upload_limit=upload_limit(settings))

    app.add_middleware(RequestTimer, metrics=metrics)  # /metrics: durations by route template
    app.add_middleware(LastDefence)

    return app


def _flag_overdue(app: FastAPI, db: Session) -> None:
    flag_overdue(db, now=app.state.clock())


def _retention(app: FastAPI, db: Session) -> None:
    """PIPL retention: erase the personal data that is due (server/services/retention.py)."""
    from server.attachments import attachment_store
    from server.services.retention import ran_today, run_retention

    now, settings = app.state.clock(), app.state.settings
    if ran_today(db, now=now, timezone=settings.site.timezone):
        return
    store = getattr(app.state, "attachments", None) or attachment_store(settings)
    run_retention(db, policy=settings.retention, now=now, store=store)


def _monthly_ledger(app: FastAPI, db: Session) -> None:
    """The month's ledger (台账) to the duty staff (server/ledgers/job.py)."""
    from server.ledgers.job import announcer, run_monthly_ledger

    state = app.state
    run_monthly_ledger(db, settings=state.settings, rules=state.rules, now=state.clock(),
                       announce=announcer(state.settings, state.notifier, state.clock))


def _library_reminders(app: FastAPI, db: Session) -> None:
    from server.library.services import run_daily_reminders

    run_daily_reminders(db, now=app.state.clock(),
                                  policy=getattr(app.state, "library_policy", None),
                                  tz=app.state.settings.site.timezone)


async def _every(app: FastAPI, interval_s: float, job: Callable[[FastAPI, Session], None]
                 ) -> None:
    """Run ``job`` now and then every ``interval_s``; a failed run is logged, never fatal."""
    while True:
        try:
            with app.state.sessions() as db:
                await run_in_threadpool(job, app, db)
        except Exception:
            log.exception("background job %s failed", job.__name__)
        await asyncio.sleep(interval_s)


def serve(app: FastAPI, *, host: str, port: int) -> None:
    """Serve ``app`` with uvicorn, as ``servicepoint server`` does: one process, no access log
    (requests that matter are logged by the routes), forwarded headers believed only from
    ``security.trusted_proxies``.

    What start-up built (modules, mappers, routes, templates) lives as long as the process, so it
    is frozen out of the cycle collector's sight first. Otherwise each full collection walked it
    all again: about 140 ms here, every few seconds under load, with every request in the process
    waiting; frozen, a full collection takes about 13 ms.
    """
    import uvicorn

    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                **forwarding(app.state.settings.security.trusted_proxies))


def forwarding(trusted_proxies: list[str]) -> dict[str, Any]:
    """uvicorn's proxy-header options: believe X-Forwarded-For only from the configured proxies.

    uvicorn's own default believes any caller on loopback, so a script on the Pi (or anything
    behind a local proxy) could name any address it liked and slip past the per-address limits.
    """
    if not trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(trusted_proxies)}
