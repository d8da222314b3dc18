"""The tank level as a small server-drawn SVG line chart: no chart library, no JavaScript.

Pure: numbers in, SVG text out. Readings are averaged into buckets (an hour over a week, a day
over twelve weeks) so a week of readings every few seconds stays a few hundred points, and a
gap where no reading came (a node offline) is left as a gap instead of a misleading line.

    svg = level_chart(points, since=now - timedelta(days=7), until=now, bucket=timedelta(hours=1),
                      tick=timedelta(days=1), tz=ZoneInfo("Asia/Shanghai"), title="1号蓄水池")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from html import escape

__all__ = ["LevelSummary", "bar_chart", "bucket_means", "level_chart", "summarise"]

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 78, 30, 14, 38


def bucket_means(points: Iterable[tuple[datetime, float]], *, since: datetime,
                 bucket: timedelta) -> dict[int, float]:
    """Mean level per bucket index counted from ``since``."""
    sums: dict[int, list[float]] = {}
    for at, level in points:
        if at < since or level is None:
            continue
        index = int((at - since) / bucket)
        sums.setdefault(index, []).append(float(level))
    return {i: sum(v) / len(v) for i, v in sums.items()}


@dataclass(frozen=True)
class LevelSummary:
    lowest: float | None
    highest: float | None
    latest: float | None


def summarise(points: list[tuple[datetime, float]]) -> LevelSummary:
    levels = [float(level) for _, level in points if level is not None]
    if not levels:
        return LevelSummary(None, None, None)
    latest = max(points, key=lambda p: p[0])[1]
    return LevelSummary(min(levels), max(levels), float(latest))


def level_chart(points: list[tuple[datetime, float]], *, since: datetime, until: datetime,
                bucket: timedelta, tick: timedelta, tz: tzinfo, title: str,
                tick_format: str = "%m-%d") -> str:
    """An SVG chart of level percent (0-100) from ``since`` to ``until``."""
    span = (until - since).total_seconds()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(at: datetime) -> float:
        return LEFT + plot_w * max(0.0, min(1.0, (at - since).total_seconds() / span))

    def y_of(level: float) -> float:
        return TOP + plot_h * (1 - max(0.0, min(100.0, level)) / 100)

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    # Labels marked "minor" are hidden on a phone, where the chart is drawn at half size.
    for level in (0, 25, 50, 75, 100):
        y = y_of(level)
        minor = " minor" if level in (25, 75) else ""
        parts.append(f'<line class="gridline" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/><text class="lbl{minor}" x="{LEFT - 8}" y="{y + 5:.1f}" '
                     f'text-anchor="end">{level}%</text>')
    tick_at, index = since, 0
    while tick_at <= until:
        x = x_of(tick_at)
        minor = " minor" if index % 2 else ""
        parts.append(f'<line class="gridline" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" '
                     f'y2="{TOP + plot_h}"/><text class="lbl{minor}" x="{x:.1f}" '
                     f'y="{HEIGHT - 10}" text-anchor="middle">'
                     f'{escape(tick_at.astimezone(tz).strftime(tick_format))}</text>')
        tick_at += tick
        index += 1
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" '
                 f'y2="{TOP + plot_h}"/>')
    means = bucket_means(points, since=since, bucket=bucket)
    path: list[str] = []
    previous: int | None = None
    for index in sorted(means):
        at = since + bucket * index + bucket / 2
        command = "L" if previous is not None and index == previous + 1 else "M"
        path.append(f"{command}{x_of(at):.1f},{y_of(means[index]):.1f}")
        previous = index
    if path:
        parts.append(f'<path class="line" d="{" ".join(path)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: list[tuple[str, float]], *, title: str, decimals: int = 0) -> str:
    """An SVG bar chart, one bar per label (the months of a year), each with its value written
    above it, so the chart still reads when printed in black and white. Drawn small (420 wide)
    so its words stay legible when three charts share a row."""
    width, height, left, right, top, bottom = 420, 230, 10, 10, 26, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((value for _, value in bars), default=0.0) or 1.0
    step = plot_w / max(1, len(bars))
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
             f'y2="{top + plot_h}"/>']
    for index, (label, value) in enumerate(bars):
        tall = plot_h * max(0.0, value) / highest
        x = left + step * index + step * 0.15
        y = top + plot_h - tall
        centre = x + step * 0.35
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
                     f'height="{tall:.1f}"/>')
        if value:
            parts.append(f'<text class="val" x="{centre:.1f}" y="{y - 6:.1f}" '
                         f'text-anchor="middle">{value:.{decimals}f}</text>')
        parts.append(f'<text class="val" x="{centre:.1f}" y="{height - 8}" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
