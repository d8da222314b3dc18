"""The tank chart: readings averaged into buckets, gaps left as gaps, values kept in range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.web.charts import bucket_means, level_chart, summarise
from server.web.staff import figures_csv

T0 = datetime(2026, 11, 18, tzinfo=UTC)


def test_readings_are_averaged_per_bucket() -> None:
    points = [(T0 + timedelta(minutes=m), level) for m, level in
              [(0, 50), (30, 60), (70, 80), (200, 10)]]
    assert bucket_means(points, since=T0, bucket=timedelta(hours=1)) == {0: 55, 1: 80, 3: 10}


def test_a_gap_in_readings_starts_a_new_line_segment() -> None:
    points = [(T0 + timedelta(hours=h), 50.0) for h in (0, 1, 2, 5, 6)]
    svg = level_chart(points, since=T0, until=T0 + timedelta(hours=7),
                      bucket=timedelta(hours=1), tick=timedelta(hours=1),
                      tz=ZoneInfo("Asia/Shanghai"), title="1号蓄水池 <7d>")
    path = svg.split('class="line" d="')[1].split('"')[0]
    assert path.count("M") == 2 and path.count("L") == 3
    assert "<title>1号蓄水池 &lt;7d&gt;</title>" in svg  # escaped


def test_levels_outside_0_to_100_stay_on_the_chart_and_no_readings_draw_no_line() -> None:
    svg = level_chart([(T0, 140.0), (T0 + timedelta(hours=1), -5.0)], since=T0,
                      until=T0 + timedelta(hours=2), bucket=timedelta(hours=1),
                      tick=timedelta(hours=1), tz=UTC, title="t")
    ys = [float(p.split(",")[1]) for p in svg.split('d="')[1].split('"')[0][1:].split(" L")]
    assert all(12 <= y <= 230 for y in ys)
    empty = level_chart([], since=T0, until=T0 + timedelta(days=1), bucket=timedelta(hours=1),
                        tick=timedelta(hours=6), tz=UTC, title="t")
    assert 'class="line"' not in empty
    assert summarise([]).latest is None
    assert summarise([(T0, 20.0), (T0 + timedelta(hours=1), 30.0)]).latest == 30.0


def test_csv_cells_never_become_spreadsheet_formulas() -> None:
    from server.services.figures import MonthlyFigure

    row = MonthlyFigure("2026-11", "x", "squad-1", 1, 1, 0, None, None)
    body = figures_csv([row], lang="zh", category_names={"x": "=HYPERLINK(\"evil\")"},
                       squad_names={"squad-1": "+第一分队"}).decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "'+第一分队" in body
