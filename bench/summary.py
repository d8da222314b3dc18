"""One table of every figure issue 21 sets a target for, read from the benchmarks' output.

    .venv/bin/python bench/summary.py                  # reads bench/results/*.txt (make bench)
    .venv/bin/python bench/summary.py out1.txt out2.txt

Each benchmark prints one ``SUMMARY ...`` line per figure (``summary_line`` in bench/_common.py:
the value, the same-run reference, the ratio and the target); ``make bench`` writes each one's
output to bench/results/<name>.txt and ends by running this. The table is Markdown, so
BENCHMARKS.md can quote it as printed; above it, the date, the commit and the machine (the
``machine:`` line the benchmarks print). A benchmark whose output has no SUMMARY line (it failed,
or it has no figure with a target) is listed under the table, never silently left out.
Targets unmet are reported, not turned into a failing exit status: the figures are the result.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from _common import REPO, parse_summary_line

RESULTS = REPO / "bench" / "results"
_OPS = {">=": "≥", "<=": "≤"}


def _target_words(target: str, unit: str) -> str:
    """``ratio>=0.3`` -> ``ratio ≥ 0.3``; ``over<=25`` -> ``≤ reference + 25 MiB``."""
    op = next((op for op in _OPS if op in target), None)
    if op is None:
        return target
    measure, threshold = target.split(op, 1)
    sign = _OPS[op]
    if measure == "ratio":
        return f"ratio {sign} {threshold}"
    if measure == "over":
        return f"{sign} reference + {threshold} {unit}"
    return f"{sign} {threshold} {unit}"


def _cell(value: str, unit: str) -> str:
    return "—" if value in ("", "-") else f"{value} {unit}".rstrip()


def read(paths: list[Path]) -> tuple[list[tuple[str, dict[str, str]]], list[str], list[str]]:
    """(bench name, fields) per SUMMARY line; benches with none; the distinct machine lines."""
    rows: list[tuple[str, dict[str, str]]] = []
    silent: list[str] = []
    machines: list[str] = []
    for path in paths:
        found = 0
        label = path.stem
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("machine: "):
                machine, _, load = line.removeprefix("machine: ").partition(
                    "; load average at start ")
                if machine not in machines:
                    machines.append(machine)
                if load:  # the 1-minute load when it started: the machine may be shared
                    label = f"{path.stem} (load {load.split(',')[0]})"
            fields = parse_summary_line(line)
            if fields is not None:
                rows.append((label, fields))
                found += 1
        if not found:
            silent.append(path.stem)
    return rows, silent, machines


def table(rows: list[tuple[str, dict[str, str]]]) -> list[str]:
    out = ["| bench (load at its start) | figure | value | same-run reference | ratio | target "
           "| met |",
           "|---|---|---|---|---|---|---|"]
    for bench, f in rows:
        unit = "" if f.get("unit") == "-" else f.get("unit", "")
        met = "yes" if f.get("met") == "yes" else "**no**"
        out.append(f"| {bench} | {f.get('what') or f.get('figure')} | "
                   f"{_cell(f.get('value', ''), unit)} | {_cell(f.get('reference', ''), unit)} | "
                   f"{f.get('ratio', '-').replace('-', '—')} | "
                   f"{_target_words(f.get('target', ''), unit)} | {met} |")
    return out


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outputs", nargs="*", type=Path,
                        help="benchmark outputs (default: bench/results/*.txt)")
    args = parser.parse_args(argv)
    paths = args.outputs or sorted(RESULTS.glob("*.txt"))
    if not paths:
        print(f"no benchmark output in {RESULTS}: run make bench first", file=sys.stderr)
        return 1
    rows, silent, machines = read(paths)
    print(f"Issue 21 summary, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()}")
    for machine in machines:
        print(f"machine: {machine}")
    print()
    print("\n".join(table(rows)))
    met = sum(f.get("met") == "yes" for _, f in rows)
    print()
    print(f"{met} of {len(rows)} targets met.")
    if silent:
        print("No SUMMARY line (failed, or no figure with an issue-21 target): "
              + ", ".join(silent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
