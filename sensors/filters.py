"""Pure arithmetic between raw readings and what the contract reports. No I/O, no gpiozero.

- :class:`TankShape` turns a water depth into percent and litres.
- :class:`CalibrationTable` turns a voltage into NTU by piecewise-linear interpolation.
- :class:`RobustWindow` is the median filter with outlier rejection for noisy level readings.
- :class:`Debouncer` accepts a switch's new state only after it held for a while.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Sequence
from statistics import median

from sensors.config import GeometryConfig

__all__ = ["CalibrationTable", "Debouncer", "RobustWindow", "TankShape", "robust_median"]


class TankShape:
    """A tank's geometry: depth of water (cm) to percent of full and to litres.

    >>> shape = TankShape(GeometryConfig(length_cm=200, width_cm=100, full_depth_cm=150))
    >>> shape.percent(75), shape.litres(75)
    (50.0, 1500.0)
    """

    def __init__(self, geometry: GeometryConfig) -> None:
        self.geometry = geometry
        self.full_depth_cm = geometry.full_depth_cm
        self.capacity_l = self.litres(self.full_depth_cm)

    def clamp(self, depth_cm: float) -> float:
        return min(max(depth_cm, 0.0), self.full_depth_cm)

    def percent(self, depth_cm: float) -> float:
        return round(100.0 * self.clamp(depth_cm) / self.full_depth_cm, 1)

    def litres(self, depth_cm: float) -> float:
        depth = self.clamp(depth_cm)
        geo = self.geometry
        if geo.shape == "rectangular":
            assert geo.length_cm is not None and geo.width_cm is not None
            cm3 = geo.length_cm * geo.width_cm * depth
        elif geo.shape == "vertical_cylinder":
            assert geo.diameter_cm is not None
            cm3 = math.pi * (geo.diameter_cm / 2) ** 2 * depth
        else:
            assert geo.diameter_cm is not None and geo.length_cm is not None
            r = geo.diameter_cm / 2
            # Area of the circular segment below the water line, times the length.
            h = min(depth, 2 * r)
            segment = r * r * math.acos((r - h) / r) - (r - h) * math.sqrt(max(2 * r * h - h * h,
                                                                               0.0))
            cm3 = segment * geo.length_cm
        return round(cm3 / 1000.0, 1)

    def depth_for_percent(self, percent: float) -> float:
        return self.full_depth_cm * min(max(percent, 0.0), 100.0) / 100.0


class CalibrationTable:
    """Piecewise-linear map from x to y through measured points, clamped at both ends.

    >>> CalibrationTable([(2.5, 3000.0), (4.2, 0.0)])(3.35)
    1500.0
    """

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        ordered = sorted(points)
        self.xs = [x for x, _ in ordered]
        self.ys = [y for _, y in ordered]

    def __call__(self, x: float) -> float:
        xs, ys = self.xs, self.ys
        if x <= xs[0]:
            return ys[0]
        if x >= xs[-1]:
            return ys[-1]
        i = bisect_left(xs, x)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)

    def inverse(self, y: float) -> float:
        """The x giving y (the table is monotonic); used by the simulation to make voltages."""
        return CalibrationTable([(b, a) for a, b in zip(self.xs, self.ys, strict=True)])(y)


def robust_median(samples: Sequence[float], max_deviation: float) -> float | None:
    """Median of the samples that lie within ``max_deviation`` of the median of all of them.

    A single wild reading (an echo off a pipe, a reading delayed by a busy CPU) moves a plain
    mean a lot and the median little; dropping such readings before the final median keeps the
    level steady without waiting for a long window.
    """
    if not samples:
        return None
    centre = median(samples)
    kept = [s for s in samples if abs(s - centre) <= max_deviation]
    return float(median(kept)) if kept else float(centre)


class RobustWindow:
    """The last ``size`` readings, summarised by :func:`robust_median`."""

    def __init__(self, size: int, max_deviation: float) -> None:
        self.samples: deque[float] = deque(maxlen=size)
        self.max_deviation = max_deviation

    def add(self, value: float | None) -> None:
        if value is not None and math.isfinite(value):
            self.samples.append(value)

    def clear(self) -> None:
        self.samples.clear()

    @property
    def value(self) -> float | None:
        return robust_median(list(self.samples), self.max_deviation)


class Debouncer:
    """A switch state that changes only after the raw input held the new value for ``hold_s``.

    Feed it ``update(raw, now)`` on every poll; it returns True when the stable state changed.
    The first update sets the state without reporting a change. :meth:`settles_at` says when to
    look again, so a change is accepted the moment it has held, not at the next poll.
    """

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.state: bool | None = None
        self._candidate: bool | None = None
        self._since = 0.0

    def settles_at(self) -> float | None:
        """When a change seen but not yet held long enough would be accepted, or None."""
        return None if self._candidate is None else self._since + self.hold_s

    def update(self, raw: bool, now: float) -> bool:
        if self.state is None:
            self.state = raw
            return False
        if raw == self.state:
            self._candidate = None
            return False
        if self._candidate != raw:
            self._candidate, self._since = raw, now
        if now - self._since >= self.hold_s:
            self.state, self._candidate = raw, None
            return True
        return False
