"""Sensor ingest throughput: readings per second that the server validates, stores and evaluates,
against the raw paho receive rate on the same broker, measured in the same run.

    .venv/bin/python bench/ingest_throughput.py                 # 3 runs of 10,000 readings
    .venv/bin/python bench/ingest_throughput.py --runs 5 --count 30000
    .venv/bin/python bench/ingest_throughput.py --broker-inflight 100   # a what-if

Every measurement gets a fresh Mosquitto (configured like the shipped one where it matters:
Mosquitto's default max_inflight_messages, i.e. 20, unless --broker-inflight says otherwise) and
a fresh demo database. A publisher in its own process sends ``--count`` QoS 1 readings as fast as
it can; the rate is count / (last reading stored - first reading published).

- ceiling: one paho subscriber (MQTT 5) that json-decodes each message, in its own process;
- SQLite: one ingest process (``Ingest``, exactly as ``servicepoint server`` runs it) on a SQLite
  file (WAL, synchronous=NORMAL, as the server sets it);
- PostgreSQL: the same on a local PostgreSQL 15 with fsync on;
- PostgreSQL x2: two ingest processes with distinct client ids sharing one subscription
  (settings.ingest.shared_group).

Every reading must end up stored exactly once; a run that loses or duplicates one says so.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _common
from _common import (
    Databases,
    count_rows,
    median,
    read_json_line,
    spawn,
    spread,
    stop,
    summary_line,
)

HELPER = str(Path(__file__).with_name("_mqtt.py"))


def _broker(workdir: Path, inflight: int | None):  # type: ignore[no-untyped-def]
    from tests.support.broker import MosquittoBroker

    lines = ["max_queued_messages 1000000"]
    if inflight:
        lines.append(f"max_inflight_messages {inflight}")
    import os

    if os.geteuid() == 0:
        lines.append("user root")
    return MosquittoBroker(workdir, extra="\n".join(lines)).start()


def raw(workdir: Path, *, count: int, qos: int, inflight: int | None) -> dict[str, float]:
    broker = _broker(workdir / f"raw-{time.monotonic_ns()}", inflight)
    sub = spawn(HELPER, "subscribe", "--url", broker.url, "--count", str(count),
                "--qos", str(qos))
    pub = None
    try:
        read_json_line(sub, 20)
        pub = spawn(HELPER, "publish", "--url", broker.url, "--count", str(count),
                    "--qos", str(qos))
        sent = read_json_line(pub, 300)
        done = read_json_line(sub, 300)
        elapsed = float(done["t_done"]) - float(sent["t_first"])
        return {"rate": count / elapsed, "publisher_rate": count / (
            float(sent["t_acked"]) - float(sent["t_first"])),
            "cpu_us": float(done["cpu_s"]) / count * 1e6}
    finally:
        for proc in (pub, sub):
            if proc is not None:
                stop(proc)
        broker.stop()


def ingest(workdir: Path, db_url: str, *, count: int, replicas: int, inflight: int | None,
           timeout: float) -> dict[str, float]:
    broker = _broker(workdir / f"ingest-{time.monotonic_ns()}", inflight)
    group = "bench" if replicas > 1 else ""
    procs = [spawn(HELPER, "replica", "--url", broker.url, "--db", db_url, "--client-id",
                   f"servicepoint-server-{i}", "--group", group) for i in range(replicas)]
    pub = None
    try:
        for proc in procs:
            ready = read_json_line(proc, 60)
            if "error" in ready:
                raise RuntimeError(str(ready["error"]))
        pub = spawn(HELPER, "publish", "--url", broker.url, "--count", str(count), "--qos", "1")
        sent = read_json_line(pub, 300)
        deadline = time.time() + timeout
        stored = 0
        while time.time() < deadline:
            stored = count_rows(db_url)
            if stored >= count:
                break
            time.sleep(0.1)
        t_done = time.time()
        elapsed = t_done - float(sent["t_first"])
        cpu = batches = 0.0
        threads: dict[str, float] = {}
        for proc in procs:
            stop_line = _finish(proc)
            cpu += float(stop_line.get("cpu_s", 0.0))
            batches += float(stop_line.get("batches", 0.0))  # type: ignore[arg-type]
            for name, seconds in dict(stop_line.get("threads") or {}).items():  # type: ignore[call-overload]
                threads[name] = threads.get(name, 0.0) + float(seconds)
        time.sleep(0.2)
        final = count_rows(db_url)
        return {"rate": stored / elapsed, "complete": float(stored >= count),
                "in_time": float(stored),
                "exact": float(final == count), "stored": float(final),
                "cpu_us": cpu / max(final, 1) * 1e6, "batch": final / max(batches, 1),
                **{f"thread:{name}": seconds / max(final, 1) * 1e6
                   for name, seconds in threads.items()},
                "publisher_rate": count / (float(sent["t_acked"]) - float(sent["t_first"]))}
    finally:
        if pub is not None:
            stop(pub)
        for proc in procs:
            stop(proc)
        broker.stop()


def _finish(proc) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        return read_json_line(proc, 30)
    finally:
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=90.0,
                        help="give up on one measurement after this many seconds")
    parser.add_argument("--broker-inflight", type=int, default=None,
                        help="Mosquitto max_inflight_messages (default: Mosquitto's, 20)")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    workdir = _common.temp_dir("sp-bench-ingest-")
    print(f"machine: {_common.machine()}")
    print(f"{args.runs} runs x {args.count} readings, QoS 1, broker max_inflight_messages "
          f"{args.broker_inflight or 'default (20)'}\n")
    dbs = Databases(workdir)
    cases = ["raw_qos0", "raw_qos1", "sqlite", "postgres", "postgres_x2"]
    if args.skip_postgres:
        cases = cases[:3]
    results: dict[str, list[dict[str, float]]] = {c: [] for c in cases}
    try:
        for run in range(args.runs):
            for case in cases:
                if case.startswith("raw"):
                    result = raw(workdir, count=args.count, qos=int(case[-1]),
                                 inflight=args.broker_inflight)
                else:
                    url = dbs.sqlite() if case == "sqlite" else dbs.postgres()
                    result = ingest(workdir, url, count=args.count,
                                    replicas=2 if case.endswith("x2") else 1,
                                    inflight=args.broker_inflight, timeout=args.timeout)
                results[case].append(result)
                flags = ""
                if "complete" in result and not result["complete"]:
                    flags = (f"  (timed out: {result['in_time']:.0f} of {args.count} "
                             "stored in time; rate from those)")
                elif "exact" in result and not result["exact"]:
                    flags = f"  NOT EXACT: {result['stored']:.0f} stored of {args.count}"
                print(f"run {run + 1} {case:12s} {result['rate']:7.0f} readings/s "
                      f"(publisher {result['publisher_rate']:.0f}/s, "
                      f"{result['cpu_us']:.0f} us CPU per reading){flags}", flush=True)
                split = {k[7:]: v for k, v in result.items() if k.startswith("thread:") and v >= 1}
                if split:
                    print(f"      {result['batch']:.0f} readings a batch; by thread (us per "
                          "reading): " + ", ".join(
                        f"{name} {us:.0f}" for name, us in sorted(split.items(),
                                                                  key=lambda kv: -kv[1])))
    finally:
        dbs.close()

    def rates(case: str) -> list[float]:
        return [r["rate"] for r in results[case]]

    print("\nmedians (min-max):")
    for case in cases:
        cpu = median(r["cpu_us"] for r in results[case])
        print(f"  {case:12s} {spread(rates(case))} readings/s, {cpu:.0f} us CPU per reading")
    ceiling = rates("raw_qos1")
    print("\nratios (per run, then median; target >= 0.6 of raw QoS 1, x2 >= 1.6 x one):")
    for case in cases[2:]:
        per_run = [r / c for r, c in zip(rates(case), ceiling, strict=True)]
        print(f"  {case:12s} / raw_qos1 = {median(per_run):.2f} "
              f"({', '.join(f'{x:.2f}' for x in per_run)})")
    if "postgres_x2" in results:
        scale = [a / b for a, b in zip(rates("postgres_x2"), rates("postgres"), strict=True)]
        print(f"  postgres_x2 / postgres = {median(scale):.2f} "
              f"({', '.join(f'{x:.2f}' for x in scale)})")
    print()
    for case, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        if case in results:
            print(summary_line(f"ingest-{case}", median(rates(case)), "readings/s",
                               reference=median(ceiling), at_least=0.6,
                               what=f"Ingest on {name} vs raw paho QoS 1 (medians)"))
    if "postgres_x2" in results:
        print(summary_line("ingest-replicas", median(scale), "x", measure="value",
                           at_least=1.6, what="Two ingest replicas vs one, PostgreSQL "
                           "(one site's readings; the machine's 2 cores also run the broker "
                           "and the publisher)"))


if __name__ == "__main__":
    main()
