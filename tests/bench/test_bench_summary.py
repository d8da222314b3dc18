"""The `make bench` summary: every benchmark's SUMMARY lines become one table that says, per
issue-21 figure, the value, the same-run reference, the ratio, the target and whether it is met;
a benchmark that printed none is named, not dropped (bench/summary.py, bench/_common.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import summary  # noqa: E402
from _common import parse_summary_line, summary_line  # noqa: E402


def test_a_ratio_below_its_target_is_marked_not_met(tmp_path, capsys):
    (tmp_path / "http_load.txt").write_text(
        "machine: Linux, 2 cores; load average at start 1.0\n"
        "some other output\n"
        + summary_line("http-filing", 250.0, "req/s", reference=1000.0, at_least=0.3,
                       what="Filing, 100 connections, vs bare FastAPI") + "\n"
        + summary_line("http-phone", 400.0, "req/s", reference=1000.0, at_least=0.3,
                       what="Phone page, 100 connections, vs bare FastAPI") + "\n")
    (tmp_path / "sensor_node.txt").write_text("machine: Linux, 2 cores\nCPU per reading 800 us\n")
    assert summary.main([str(tmp_path / "http_load.txt"), str(tmp_path / "sensor_node.txt")]) == 0
    out = capsys.readouterr().out
    filing = next(line for line in out.splitlines() if "Filing" in line)
    phone = next(line for line in out.splitlines() if "Phone page" in line)
    assert "250 req/s" in filing and "1000 req/s" in filing and "0.25" in filing
    assert filing.endswith("| ratio ≥ 0.3 | **no** |")
    assert phone.endswith("| ratio ≥ 0.3 | yes |")
    assert "1 of 2 targets met." in out
    assert "machine: Linux, 2 cores" in out
    assert "No SUMMARY line" in out and "sensor_node" in out


def test_a_target_over_the_reference_reads_as_reference_plus():
    line = summary_line("kiosk-rss", 171.6, "MiB", reference=151.3, measure="over",
                        at_most=25, what="Kiosk RSS over bare Kivy")
    fields = parse_summary_line(line)
    assert fields is not None and fields["met"] == "yes"
    row = summary.table([("kiosk_startup", fields)])[-1]
    assert "≤ reference + 25 MiB" in row and "171.6 MiB" in row
    over = parse_summary_line(summary_line("kiosk-rss", 180.0, "MiB", reference=151.3,
                                           measure="over", at_most=25, what="x"))
    assert over is not None and over["met"] == "no"


def test_a_figure_needs_one_target_and_its_reference():
    with pytest.raises(ValueError):
        summary_line("x", 1.0, "s", what="x", measure="value")
    with pytest.raises(ValueError):
        summary_line("x", 1.0, "s", what="x", at_least=0.3)  # a ratio with no reference
    assert parse_summary_line("machine: Linux") is None
