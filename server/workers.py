"""Worker processes for ``servicepoint server``: several uvicorn processes share the port, and
exactly one of them, the holder of the duties lease, also does what must be done once per
installation: the periodic jobs (overdue flags, library reminders, retention, the monthly
ledger), the sensor ingest and the notice courier.

Why processes: one Python process serves one request's Python at a time, so on a Pi 4/5 (4
cores) a single process leaves most of the machine idle while residents wait. Why one holder:
every worker running the ingest would store each reading once per worker (a plain MQTT
subscription gives every subscriber every message), and every worker running the scheduler
would race its once-a-day jobs. Filings, alerts and notices made in any worker are rows in the
shared database; the holder's courier reads and delivers them all.

The lease is an exclusive ``flock`` on ``<data_dir>/server-duties.lock``, taken without waiting
when a worker builds its app. The kernel lets go of it when its process ends, however it ends;
uvicorn's supervisor starts a new worker in the dead one's place, and that one takes the lease.
Replicas on other machines (a district's PostgreSQL) each elect their own holder: their ingest
shares one subscription (``ingest.shared_group``) and the jobs and deliveries are already safe
between replicas (unique notice rows, claimed deliveries, once-a-day checks in the audit log).

The parent (``server.cli.serve``) migrates the database and brings the categories in step
before any worker starts, so workers never race on either.

    workers = worker_count(settings)   # http.workers; 0 = automatic
    serve_workers(settings, host="0.0.0.0", port=8080, workers=workers)
    # each worker process: uvicorn calls worker_app(), which takes the lease if it is free
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
from pathlib import Path
from typing import IO, Any

from fastapi import FastAPI

from server.settings import ServerSettings

__all__ = ["DutiesLease", "LEASE_FILE", "build_app", "serve_workers", "worker_app",
           "worker_count"]

log = logging.getLogger(__name__)
LEASE_FILE = "server-duties.lock"
# A Pi 4/5 has 4 cores; the kiosk, the broker and the sensor node need the other two.
AUTO_MAX_WORKERS = 2


class DutiesLease:
    """An exclusive, non-blocking file lock held for the life of the process.

        lease = DutiesLease(data_dir / LEASE_FILE)
        if lease.take(): ...  # this process runs the duties
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def take(self) -> bool:
        """Take the lease if nobody holds it; True if this process holds it now."""
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")  # for an installer wondering who holds it
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def worker_count(settings: ServerSettings) -> int:
    """``http.workers``; with 0, one per core up to :data:`AUTO_MAX_WORKERS`, and one in the
    test environment (tests read one process's log and restart it at will)."""
    if settings.http.workers:
        return settings.http.workers
    if settings.environment == "test":
        return 1
    return max(1, min(os.cpu_count() or 1, AUTO_MAX_WORKERS))


def build_app(settings: ServerSettings, *, duties: bool, engine: Any = None) -> FastAPI:
    """The app as ``servicepoint server`` runs it; with ``duties`` also the periodic jobs, the
    ingest (when enabled) and the notice courier."""
    from server.alerts import AppriseNotifier
    from server.app import create_app
    from server.db import make_engine

    engine = engine if engine is not None else make_engine(settings.database_url)
    if not duties:
        return create_app(settings, engine=engine, background=False)
    notifier = AppriseNotifier()
    ingest_factory = None
    if settings.ingest.enabled:
        from server.sensing.ingest import Ingest

        def ingest_factory(**kwargs):  # type: ignore[no-untyped-def]
            return Ingest.from_settings(settings, notifier=notifier, **kwargs)
    return create_app(settings, engine=engine, ingest_factory=ingest_factory, notifier=notifier)


_lease: DutiesLease | None = None  # the worker's own: held until the process ends


def worker_app() -> FastAPI:
    """uvicorn's app factory in each worker process (``server.workers:worker_app``)."""
    global _lease
    from foundation.logs import configure_logging
    from server.settings import load_server_settings

    configure_logging()  # a spawned worker starts with Python's defaults
    settings = load_server_settings()
    _lease = DutiesLease(settings.data_dir / LEASE_FILE)
    duties = _lease.take()
    if duties:
        log.info("worker %d holds the duties: scheduler, ingest and notices run here",
                 os.getpid())
    else:
        log.info("worker %d serves HTTP only (another worker holds the duties)", os.getpid())
    app = build_app(settings, duties=duties)
    gc.collect()  # see server.app.serve: start-up's objects out of the collector's sight
    gc.freeze()
    return app


def serve_workers(settings: ServerSettings, *, host: str, port: int, workers: int) -> None:
    """Serve with ``workers`` processes; the database must be migrated already."""
    import uvicorn

    from server.app import forwarding
    from server.sensing.metrics import prepare_multiprocess

    # /metrics sums every worker's figures (prometheus_client's multiprocess mode).
    prepare_multiprocess(settings.data_dir / "metrics")

    uvicorn.run("server.workers:worker_app", factory=True, workers=workers, host=host,
                port=port, log_config=None, access_log=False,
                **forwarding(settings.security.trusted_proxies))
