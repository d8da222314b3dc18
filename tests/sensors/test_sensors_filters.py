"""Tank geometry, calibration tables, the level filter and switch debouncing (pure)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.config import GeometryConfig
from sensors.filters import CalibrationTable, Debouncer, RobustWindow, TankShape, robust_median


def test_rectangular_and_cylinder_volumes():
    box = TankShape(GeometryConfig(length_cm=300, width_cm=200, full_depth_cm=150,
                                   sensor_height_cm=175))
    assert box.capacity_l == 9000.0
    assert (box.percent(75), box.litres(75)) == (50.0, 4500.0)
    assert (box.percent(-3), box.percent(160)) == (0.0, 100.0)  # clamped, not negative
    upright = TankShape(GeometryConfig(shape="vertical_cylinder", diameter_cm=100,
                                       full_depth_cm=100))
    assert upright.capacity_l == pytest.approx(math.pi * 50 ** 2 * 100 / 1000, abs=0.1)
    lying = TankShape(GeometryConfig(shape="horizontal_cylinder", diameter_cm=100,
                                     length_cm=200, full_depth_cm=100))
    assert lying.litres(50) == pytest.approx(lying.capacity_l / 2, abs=0.1)
    assert lying.litres(25) < lying.capacity_l / 4  # the narrow bottom holds less


def test_turbidity_table_interpolates_and_clamps():
    table = CalibrationTable([(2.82, 0.0), (2.80, 1.0), (2.55, 100.0), (1.65, 3000.0)])
    assert table(2.81) == pytest.approx(0.5)
    assert table(3.3) == 0.0 and table(0.5) == 3000.0
    assert table(table.inverse(42.0)) == pytest.approx(42.0)


def test_robust_median_drops_wild_readings():
    readings = [61.0, 61.4, 60.8, 12.0, 61.1, 180.0, 61.2]
    assert robust_median(readings, 10) == pytest.approx(61.1)
    assert robust_median([], 10) is None
    window = RobustWindow(3, 10)
    for value in (50.0, None, float("nan"), 51.0, 52.0, 53.0):
        window.add(value)
    assert list(window.samples) == [51.0, 52.0, 53.0] and window.value == 52.0


@given(st.lists(st.floats(0, 300), min_size=5, max_size=15), st.floats(0, 300))
def test_one_outlier_never_moves_the_filter_far(good, wild):
    # With the good readings within 1 cm of each other, one wild reading shifts the result
    # by at most the spread of the good ones.
    base = good[0]
    tight = [base + (g % 1.0) for g in good]
    result = robust_median(tight + [wild], 5)
    assert min(tight) - 1e-9 <= result <= max(tight) + 1e-9


def test_debouncer_needs_the_new_state_to_hold():
    switch = Debouncer(0.2)
    assert switch.update(True, 0.0) is False and switch.state is True  # first reading sets it
    assert switch.update(False, 1.0) is False  # starts the wait
    assert switch.update(True, 1.1) is False  # a bounce restarts it
    assert switch.update(False, 1.15) is False
    assert switch.update(False, 1.3) is False
    assert switch.update(False, 1.35) is True and switch.state is False
    assert switch.update(False, 5.0) is False
