"""A simulated district of 200 service points on one centre, on this machine: what the centre
holds, and what each site costs it.

    .venv/bin/python bench/district_scale.py                  # 200 sites, 3-6 minutes
    .venv/bin/python bench/district_scale.py --sites 50 --phase-seconds 20

The centre is real: one Mosquitto (the central broker), two ``servicepoint server`` replicas
(HTTP and ingest in one process each, sharing one MQTT 5 subscription, every site's readings)
on one PostgreSQL 15 with fsync on. The sites are simulated by bench/_district_load.py in
processes of their own: every site's node (one MQTT connection per site, as its bridge is) and
every site's kiosk (filing with the site's own kiosk key), plus a staff member reading the
staff page. Two deliberate changes, said in the output: the per-address and per-kiosk filing
limits are lifted (all the simulated kiosks come from 127.0.0.1), and the kiosks reach the two
replicas in turn (a reverse proxy would).

Three phases, one after the other:

1. **district** (``--phase-seconds``): the district's real sensor rate (each site's node sends
   5 messages per 30 s: ``--sites`` x 5/30 readings/s), kiosk filings at ``--filing-rate`` and
   staff page reads at ``--page-rate``, both open-loop (latency from the intended send time).
   The same HTTP schedule goes at a bare FastAPI endpoint at the same time (the reference).
   The CPU each part of the centre spends (replicas, PostgreSQL, Mosquitto) is read from /proc:
   divided by the sites, it is the per-site cost the sizing on paper uses.
2. **catch-up**: ``--burst`` readings from all the sites as fast as their connections take them
   (an hour's outage arriving at once), with the kiosks and the staff page still going: the
   readings/s the centre holds is stored / (last stored - first sent), and the HTTP p99s under
   that.
3. **reference**: the same burst on another topic prefix to one raw paho subscriber on the same
   broker (nothing stored, the replicas not subscribed to it): the broker-and-client ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import _common
from _common import count_rows, read_json_line, spawn, stop

LOAD = str(Path(__file__).with_name("_district_load.py"))
HTTP = str(Path(__file__).with_name("http_load.py"))
GROUP = "central"
TICKS = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------ CPU from /proc

def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """CPU time of a process (user + system); with its children, live and reaped (PostgreSQL's
    backends are children of the postmaster)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    total = int(fields[11]) + int(fields[12])
    if with_children:
        total += int(fields[13]) + int(fields[14])  # reaped children
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                child = _stat(int(entry.name))
                if child is not None and int(child[1]) == pid:
                    total += int(child[11]) + int(child[12])
    return total / TICKS


class CpuMeter:
    """CPU seconds of each part of the centre between two readings."""

    def __init__(self, parts: dict[str, tuple[list[int], bool]]) -> None:
        self.parts = parts
        self.start = self._read()

    def _read(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(pid, with_children=children) for pid in pids)
                for name, (pids, children) in self.parts.items()}

    def since(self) -> dict[str, float]:
        now = self._read()
        return {name: now[name] - self.start[name] for name in now}


# ------------------------------------------------------------------------------- the database

def durable_cluster() -> Any:
    """A throwaway PostgreSQL 15 (tests/support/postgres.py) started with durability on.

    The test cluster passes ``-c fsync=off`` (and synchronous_commit, full_page_writes) on the
    command line, and command-line settings beat ``ALTER SYSTEM``: switching them back on
    afterwards does nothing. So this one is started without them; :func:`check_durable` reads
    them back."""
    from tests.support.postgres import PostgresCluster

    class DurableCluster(PostgresCluster):
        def start(self) -> DurableCluster:
            self._run("mkdir", "-p", str(self.sockdir))
            self._run(str(self.bindir / "initdb"), "-D", str(self.datadir), "-A", "trust", "-U",
                      self.user, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
            opts = (f"-p {self.port} -k {self.sockdir} -c listen_addresses=127.0.0.1 "
                    "-c max_connections=200")
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-o", opts, "-w",
                      "-t", "30", "-l", str(self.root / "server.log"), "start")
            return self

    return DurableCluster().start()


def check_durable(cluster: Any) -> str:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=cluster.port, user=cluster.user,
                         dbname="postgres", autocommit=True) as conn:
        values = {name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                  for name in ("fsync", "synchronous_commit", "full_page_writes")}
    if set(values.values()) != {"on"}:
        raise RuntimeError(f"PostgreSQL is not durable here: {values}")
    return ", ".join(f"{k}={v}" for k, v in values.items())


def prepare(url: str, sites: list[str]) -> list[dict[str, str]]:
    """Migrate and load the demo site (its staff read the staff page); add each simulated site
    as the district admin does (a ``sites`` row and a kiosk key), with a compound of its own
    and its tank registered to its node (the server takes a tank's readings only from its own
    node), loaded in a session acting for that site. Returns each site's kiosk: its key and
    a unit it files for."""
    from datetime import UTC, datetime

    from _district_load import node_of, tank_of

    from server.db import make_engine, session_factory, upgrade
    from server.services.categories import load_category_specs, sync_categories
    from server.services.site_data import SiteData, apply_site_data, load_site_data
    from server.services.sites import HomeSite, ensure_home_site, new_kiosk_key
    from server.sites.models import Site
    from server.sites.rules import SiteScope
    from server.sites.scoping import scope_session

    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    kiosks = []
    now = datetime.now(UTC)
    with sessions() as db:
        sync_categories(db, specs=load_category_specs(_common.CONFIG / "categories.toml"))
        apply_site_data(db, data=load_site_data(_common.CONFIG / "demo-site.toml"))
        db.commit()
        ensure_home_site(db, home=HomeSite(id="site-01", name_zh="劳动路社区服务站",
                                           name_en="Laodong Road", timezone="Asia/Shanghai"))
        for site in sites:
            db.add(Site(id=site, name_zh=f"{site} 服务站", name_en=site, street="bench",
                        timezone="Asia/Shanghai"))
        db.flush()
        keys = {site: new_kiosk_key(db, site=db.get(Site, site), now=now) for site in sites}
        db.commit()
    for i, site in enumerate(sites, start=1):
        code = f"D{i:03d}"
        with sessions() as db:
            scope_session(db, SiteScope(sites=frozenset({site}), acting=site))
            apply_site_data(db, data=SiteData.model_validate({
                "site_id": site,
                "tank": [{"asset_id": tank_of(site), "name": f"{site} 蓄水池",
                          "node": node_of(site), "capacity_l": 20000}],
                "squad": [{"code": f"{code.lower()}-squad", "name": f"{site} 小分队"}],
                "grid": [{"code": f"{code.lower()}-grid", "name": f"{site} 网格",
                          "squad": f"{code.lower()}-squad"}],
                "compound": [{"code": code, "name_zh": f"{site} 小区", "name_en": site,
                              "grid": f"{code.lower()}-grid", "buildings": 1, "units": 1}]}))
            db.commit()
        kiosks.append({"site_id": site, "key": keys[site], "unit_code": f"{code}-B01-U1"})
    engine.dispose()
    return kiosks


def pg_commits(cluster: Any, dbname: str) -> int:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=cluster.port, user=cluster.user,
                         dbname=dbname, autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s",
                           (dbname,)).fetchone()
    return int(row[0]) if row else 0


def table_writes(cluster: Any, dbname: str) -> dict[str, int]:
    """Rows inserted, updated and deleted so far, per table (pg_stat_user_tables; the counts
    reach the view within a second or so of each commit)."""
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=cluster.port, user=cluster.user,
                         dbname=dbname, autocommit=True) as conn:
        return {name: int(n) for name, n in conn.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables")}


# ------------------------------------------------------------------------------------ phases

def run_kiosks(workdir: Path, plan: dict[str, Any], seconds: float) -> subprocess.Popen[str]:
    path = workdir / f"plan-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    return spawn(LOAD, "kiosks", "--plan", str(path), "--seconds", str(seconds))


def wait_stored(url: str, target: int, timeout: float) -> tuple[int, float]:
    deadline = time.time() + timeout
    stored = count_rows(url)
    while stored < target and time.time() < deadline:
        time.sleep(0.2)
        stored = count_rows(url)
    return stored, time.time()


def fmt(summary: dict[str, Any]) -> str:
    bad = {k: v for k, v in summary["statuses"].items() if k not in ("200", "201")}
    return (f"p50 {summary['p50']:6.1f} ms  p99 {summary['p99']:7.1f} ms  "
            f"({summary['count']} sent{', not 2xx: ' + json.dumps(bad) if bad else ''})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--phase-seconds", type=float, default=40.0)
    parser.add_argument("--filing-rate", type=float, default=2.0, help="filings/s, all kiosks")
    parser.add_argument("--page-rate", type=float, default=2.0, help="staff page reads/s")
    parser.add_argument("--burst", type=int, default=10_000)
    args = parser.parse_args()

    from _district_load import site_ids

    from tests.support.ports import free_port
    from tests.support.server import ServerProcess

    workdir = _common.temp_dir("sp-bench-district-")
    print(f"machine: {_common.machine()}")
    sites = site_ids(args.sites)
    real_rate = args.sites * 5 / 30
    print(f"{args.sites} sites; district phase {args.phase_seconds:.0f} s at {real_rate:.1f} "
          f"readings/s, {args.filing_rate}/s kiosk filings, {args.page_rate}/s staff page "
          f"reads (open-loop); catch-up burst {args.burst} readings; filing limits lifted, "
          "kiosks alternate between the replicas\n", flush=True)
    started = time.monotonic()
    cluster = durable_cluster()
    print(f"PostgreSQL: {check_durable(cluster)}", flush=True)
    cluster.execute_autocommit("CREATE DATABASE district")
    db_url = cluster.url("district")
    broker = None
    replicas: list[ServerProcess] = []
    bare_port = free_port()
    bare = None
    procs: list[subprocess.Popen[str]] = []
    results: dict[str, Any] = {}
    try:
        kiosks = prepare(db_url, sites)
        broker = _common.broker(workdir / "central")
        bare = spawn(HTTP, "--role", "bare", "--port", str(bare_port))
        for name in ("replica-a", "replica-b"):
            replicas.append(ServerProcess(workdir / name, seed=False, env={
                "SERVICEPOINT_DATABASE_URL": db_url, "SERVICEPOINT_MQTT_URL": broker.url,
                "SERVICEPOINT_INGEST__CLIENT_ID": name,
                "SERVICEPOINT_INGEST__SHARED_GROUP": GROUP,
                "SERVICEPOINT_INGEST__ALL_SITES": "true",
                "SERVICEPOINT_SECURITY__FILING_PER_ADDRESS": "1000000",
                "SERVICEPOINT_SECURITY__FILING_PER_KIOSK": "1000000"}).start(timeout=120))
        time.sleep(1.0)  # both subscribed (the health check answers before the SUBACK)
        from http_load import wait_up

        wait_up(f"http://127.0.0.1:{bare_port}/bare")
        plan = {"app_urls": [r.url for r in replicas], "bare_url": f"http://127.0.0.1:{bare_port}",
                "kiosks": kiosks, "filing_rate": args.filing_rate,
                "page_rate": args.page_rate}
        postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
        parts = {"replicas": ([r.process.pid for r in replicas if r.process], True),
                 "postgres": ([postmaster], True),
                 "mosquitto": ([broker.process.pid] if broker.process else [], False)}
        print(f"centre up in {time.monotonic() - started:.0f} s", flush=True)

        # 1. the district at its real rate: idle, then readings alone, then with the kiosks
        idle_commits = pg_commits(cluster, "district")
        idle = CpuMeter(parts)
        time.sleep(args.phase_seconds / 4)
        idle_cpu = idle.since()
        idle_s = args.phase_seconds / 4
        commits0 = pg_commits(cluster, "district")
        idle_commits = commits0 - idle_commits
        writes0 = table_writes(cluster, "district")
        nodes = spawn(LOAD, "nodes", "--url", broker.url, "--sites", str(args.sites),
                      "--rate", str(real_rate), "--seconds", str(args.phase_seconds * 1.5))
        procs.append(nodes)
        read_json_line(nodes, 60)
        meter = CpuMeter(parts)
        time.sleep(args.phase_seconds / 2)
        sensing_cpu = meter.since()
        sensing_s = args.phase_seconds / 2
        sensing_commits = pg_commits(cluster, "district") - commits0
        time.sleep(1.0)  # the statistics collector's delay
        writes = {k: v - writes0.get(k, 0) for k, v in
                  table_writes(cluster, "district").items()}
        meter = CpuMeter(parts)
        t0 = time.monotonic()
        http = run_kiosks(workdir, plan, args.phase_seconds)
        procs.append(http)
        district = read_json_line(http, args.phase_seconds + 120)
        elapsed = time.monotonic() - t0
        cpu = meter.since()
        sent = read_json_line(nodes, args.phase_seconds + 60)
        stored, _ = wait_stored(db_url, int(sent["sent"]), 30)
        results["district"] = {"http": district, "sent": sent, "stored": stored,
                               "idle": {k: v / idle_s for k, v in idle_cpu.items()},
                               "sensing": {k: v / sensing_s for k, v in sensing_cpu.items()},
                               "commits": sensing_commits / sensing_s,
                               "idle_commits": idle_commits / idle_s, "writes": writes,
                               "with_http": {k: v / elapsed for k, v in cpu.items()}}
        exact = "" if stored == int(sent["sent"]) else f"  NOT EXACT: {stored} stored"
        print(f"district: {int(sent['sent'])} readings sent{exact}; {district['filed']} "
              f"filings from {district['filed_sites']} sites", flush=True)
        for name in ("filing", "staff_page", "bare_post", "bare_get"):
            print(f"  {name:11s} {fmt(district[name])}", flush=True)
        for label, key in (("idle", "idle"), ("readings only", "sensing"),
                           ("readings + kiosks + staff", "with_http")):
            print(f"  CPU, {label} (% of one core): " + ", ".join(
                f"{k} {v * 100:.1f} %" for k, v in results["district"][key].items()),
                flush=True)
        print(f"  PostgreSQL commits: idle {idle_commits / idle_s:.1f}/s, readings only "
              f"{sensing_commits / sensing_s:.1f}/s; rows written per reading: " + ", ".join(
                  f"{name} {n / max(1, real_rate * sensing_s):.2f}" for name, n in sorted(
                      writes.items(), key=lambda kv: -kv[1])[:6] if n), flush=True)

        # 2. the catch-up burst, with the kiosks and the staff page still going
        before = stored
        meter = CpuMeter(parts)
        http = run_kiosks(workdir, plan, args.phase_seconds / 2)
        procs.append(http)
        nodes = spawn(LOAD, "nodes", "--url", broker.url, "--sites", str(args.sites),
                      "--count", str(args.burst), "--first-seq", str(int(sent["next_seq"]) + 1))
        procs.append(nodes)
        read_json_line(nodes, 60)
        burst = read_json_line(nodes, 300)
        stored, t_done = wait_stored(db_url, before + args.burst, 240)
        held = (stored - before) / (t_done - float(burst["t_first"]))
        under = read_json_line(http, args.phase_seconds + 120)
        cpu = meter.since()
        results["burst"] = {"held": held, "stored": stored - before, "http": under, "cpu": cpu}
        exact = "" if stored - before == args.burst else \
            f"  NOT EXACT: {stored - before} stored of {args.burst}"
        print(f"catch-up: {held:.0f} readings/s held (2 replicas){exact}", flush=True)
        for name in ("filing", "staff_page", "bare_post", "bare_get"):
            print(f"  {name:11s} {fmt(under[name])}", flush=True)
        print("  CPU per reading: " + ", ".join(
            f"{k} {v / max(stored - before, 1) * 1e6:.0f} us" for k, v in cpu.items()),
            flush=True)

        # 3. the raw reference on the same broker
        raw = spawn(LOAD, "raw", "--url", broker.url, "--count", str(args.burst))
        procs.append(raw)
        read_json_line(raw, 20)
        nodes = spawn(LOAD, "nodes", "--url", broker.url, "--sites", str(args.sites),
                      "--count", str(args.burst), "--prefix", "reference")
        procs.append(nodes)
        read_json_line(nodes, 60)
        ref_sent = read_json_line(nodes, 300)
        ref_done = read_json_line(raw, 300)
        ceiling = int(ref_done["count"]) / (float(ref_done["t_done"]) -
                                           float(ref_sent["t_first"]))
        results["ceiling"] = ceiling
        print(f"reference: raw paho subscriber {ceiling:.0f} readings/s on the same broker",
              flush=True)
    finally:
        for proc in procs:
            stop(proc)
        if bare is not None and bare.poll() is None:
            bare.terminate()
            bare.wait(15)
        for replica in replicas:
            replica.stop()
        if broker is not None:
            broker.stop()
        cluster.stop()

    d, b = results["district"], results["burst"]
    print(f"\n| {args.sites} sites on one centre | measured | same-run reference | ratio |")
    print("|---|---|---|---|")
    print(f"| readings/s held (catch-up, 2 replicas, PostgreSQL) | {b['held']:.0f} | raw paho "
          f"{results['ceiling']:.0f} | {b['held'] / results['ceiling']:.2f} |")
    for phase, label in (("district", "district rate"), ("burst", "during catch-up")):
        h = results[phase]["http"]
        print(f"| kiosk filing p99, {label} | {h['filing']['p99']:.0f} ms | bare POST "
              f"{h['bare_post']['p99']:.0f} ms | {h['filing']['p99'] / h['bare_post']['p99']:.1f}"
              " x |")
        print(f"| staff page p99, {label} | {h['staff_page']['p99']:.0f} ms | bare GET "
              f"{h['bare_get']['p99']:.0f} ms | "
              f"{h['staff_page']['p99'] / h['bare_get']['p99']:.1f} x |")
    per_site = {k: (d["sensing"][k] - d["idle"][k]) / args.sites * 1000 for k in d["idle"]}
    per_filing = {k: (d["with_http"][k] - d["sensing"][k]) / args.filing_rate * 1000
                  for k in d["idle"]}
    print("\nper site's sensors at the district rate, above idle (thousandths of a core): "
          + ", ".join(f"{k} {v:.3f}" for k, v in per_site.items())
          + f"; PostgreSQL commits {(d['commits'] - d['idle_commits']) / args.sites:.3f}/s per "
          f"site, {(d['commits'] - d['idle_commits']) / real_rate:.1f} per reading")
    print("idle centre (thousandths of a core): "
          + ", ".join(f"{k} {v * 1000:.0f}" for k, v in d["idle"].items()))
    print(f"per kiosk filing (with {args.page_rate / args.filing_rate:.0f} staff page read(s) "
          "alongside), CPU ms: " + ", ".join(f"{k} {v:.1f}" for k, v in per_filing.items()))
    print(f"total run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
