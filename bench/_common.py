"""What every benchmark here shares: the machine's description, statistics, the demo database,
and the real services (a private Mosquitto, a throwaway PostgreSQL) borrowed from tests/support.

Benchmarks are run by hand (``.venv/bin/python bench/<name>.py``) and print their figures; they
are not part of the test suite. Nothing here is imported by the product.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CONFIG = REPO / "config"
PYTHON = sys.executable


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so a benchmark's finally blocks stop its helpers."""
    import signal

    def _raise(*_args: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def machine() -> str:
    """One line saying what this ran on, and how busy the machine was when it started."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    stop_on_sigterm()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    mosquitto = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout
    mosquitto = mosquitto.splitlines()[0].replace("mosquitto version ", "") if mosquitto else "?"
    import sqlite3

    return (f"{platform.platform()}, {cpu}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, Mosquitto {mosquitto}, SQLite {sqlite3.sqlite_version};"
            f" load average at start {load}")


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of at least one value."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


def spread(values: Sequence[float], fmt: str = "{:.0f}") -> str:
    """'median (min-max, n runs)'."""
    return (f"{fmt.format(median(values))} ({fmt.format(min(values))}-"
            f"{fmt.format(max(values))}, {len(values)} runs)")


# The publishers' node ids (bench/_mqtt.py: ``<prefix>-00`` … ``-09``), each with its own tank.
LOAD_NODES = [f"{prefix}-{i:02d}" for prefix in ("load", "bg") for i in range(10)]


def prepare_database(url: str) -> None:
    """Migrate and load the demo site (tank-1, ext-1..3, squads, users) into ``url``, and a
    tank per load publisher's node (``tank-load-00`` … owned by ``load-00`` …): the server takes
    an asset's readings only from the node that owns it."""
    from server.db import make_engine, session_factory, upgrade
    from server.sensing.models import Tank
    from server.services.categories import load_category_specs, sync_categories
    from server.services.site_data import apply_site_data, load_site_data

    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        sync_categories(db, specs=load_category_specs(CONFIG / "categories.toml"))
        apply_site_data(db, data=load_site_data(CONFIG / "demo-site.toml"))
        for node in LOAD_NODES:
            db.add(Tank(asset_id=f"tank-{node}", site_id="site-01", name=f"bench {node}",
                        node_id=node, capacity_l=20000.0))
        db.commit()
    engine.dispose()


class Databases:
    """Fresh demo databases on demand: SQLite files copied from one template, and PostgreSQL
    databases made from a template database on one throwaway cluster.

    The test cluster runs with fsync off; here it is switched back on (fsync, synchronous_commit,
    full_page_writes), so PostgreSQL pays for durability as it would in a deployment.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.sqlite_template = workdir / "template.db"
        prepare_database(f"sqlite:///{self.sqlite_template}")
        self.cluster = None
        self._made = 0

    def sqlite(self) -> str:
        self._made += 1
        target = self.workdir / f"bench-{self._made}.db"
        shutil.copy(self.sqlite_template, target)
        return f"sqlite:///{target}"

    def postgres(self) -> str:
        if self.cluster is None:
            from tests.support.postgres import PostgresCluster

            self.cluster = PostgresCluster().start()
            for setting in ("fsync = on", "synchronous_commit = on", "full_page_writes = on"):
                self.cluster.execute_autocommit(f"ALTER SYSTEM SET {setting}")
            self.cluster.execute_autocommit("SELECT pg_reload_conf()")
            self.cluster.execute_autocommit("CREATE DATABASE bench_template")
            prepare_database(self.cluster.url("bench_template"))
        self._made += 1
        name = f"bench_{self._made}"
        self.cluster.execute_autocommit(f"CREATE DATABASE {name} TEMPLATE bench_template")
        return self.cluster.url(name)

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


def count_rows(url: str, table: str = "readings") -> int:
    """Rows in a table, read through a short-lived connection (never blocks the writer)."""
    from sqlalchemy import create_engine, text

    from server.db import normalise_url

    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
    finally:
        engine.dispose()


def broker(workdir: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    """A fresh private Mosquitto (tests/support/broker.py); queues sized for a benchmark."""
    from tests.support.broker import MosquittoBroker

    extra = "max_inflight_messages 100\nmax_queued_messages 1000000"
    if os.geteuid() == 0:
        extra += "\nuser root"
    return MosquittoBroker(workdir, extra=extra, **kwargs).start()  # type: ignore[arg-type]


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def read_json_line(proc: subprocess.Popen[str], timeout: float) -> dict[str, object]:
    """The next JSON line a helper process prints (skipping anything else it says)."""
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise RuntimeError(f"helper exited with {proc.returncode}")
            continue
        line = line.strip()
        if line.startswith("{"):
            return dict(json.loads(line))
    raise TimeoutError("helper said nothing in time")


def spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A helper process (python bench/<file>.py ...) that talks JSON lines on stdout."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen([PYTHON, *args], cwd=REPO, env=full_env, text=True,
                            stdout=subprocess.PIPE, stdin=subprocess.PIPE)


def stop(proc: subprocess.Popen[str], timeout: float = 15) -> None:
    """Ask a helper to finish (close its stdin), then make sure it has."""
    if proc.poll() is None:
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- One machine-readable line per figure, gathered by bench/summary.py into `make bench`'s table.
#
#   SUMMARY figure=<slug> value=<v> unit=<u> reference=<r|-> ratio=<v/r|-> target=<m><op><t>
#           met=<yes|no> what=<free text to the end of the line>
#
# <m> is the measure the target judges: ``value`` itself, ``ratio`` (value / reference) or
# ``over`` (value - reference, e.g. MiB over bare Kivy); <op> is ``>=`` or ``<=``.

SUMMARY_PREFIX = "SUMMARY "
_MEASURES = ("value", "ratio", "over")


def summary_line(figure: str, value: float, unit: str, *, what: str,
                 reference: float | None = None, measure: str = "ratio",
                 at_least: float | None = None, at_most: float | None = None) -> str:
    """The SUMMARY line for one figure of issue 21; print it as it is.

    ``figure`` is a short slug without spaces (``http-filing-throughput``); ``what`` says it for
    people. Give exactly one of ``at_least``/``at_most``: the target on ``measure`` (``"value"``,
    ``"ratio"`` = value/reference, ``"over"`` = value - reference; the last two need a reference).
    """
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {_MEASURES}")
    if (at_least is None) == (at_most is None):
        raise ValueError("give exactly one of at_least, at_most")
    if measure != "value" and not reference:
        raise ValueError(f"measure {measure!r} needs a non-zero reference")
    if " " in figure or "=" in figure:
        raise ValueError("figure is a slug: no spaces, no '='")
    ratio = value / reference if reference else None
    judged = {"value": value, "ratio": ratio,
              "over": value - reference if reference is not None else None}[measure]
    assert judged is not None
    if at_least is not None:
        target, met = f"{measure}>={at_least:g}", judged >= at_least
    else:
        assert at_most is not None
        target, met = f"{measure}<={at_most:g}", judged <= at_most
    ref_text = f"{reference:.4g}" if reference is not None else "-"
    ratio_text = f"{ratio:.3g}" if ratio is not None else "-"
    return (f"{SUMMARY_PREFIX}figure={figure} value={value:.4g} unit={unit or '-'} "
            f"reference={ref_text} ratio={ratio_text} target={target} "
            f"met={'yes' if met else 'no'} what={' '.join(what.split())}")


def parse_summary_line(line: str) -> dict[str, str] | None:
    """The fields of a SUMMARY line (as strings), or None for any other line."""
    line = line.strip()
    if not line.startswith(SUMMARY_PREFIX):
        return None
    head, _, what = line[len(SUMMARY_PREFIX):].partition(" what=")
    fields = dict(token.split("=", 1) for token in head.split() if "=" in token)
    fields["what"] = what.strip()
    return fields
