"""The simulated site: the model moves the mock pins, scenario files and commands drive it."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.errors import ConfigError
from sensors.config import load_sensors_config
from sensors.mockhw import MockSite
from sensors.simulation import ScenarioError, SiteModel, load_scenario, parse_step
from tests.sensors.helpers import make_config

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class RecordingSite(MockSite):
    """Records what the model asks of the pins instead of driving any."""

    def __init__(self, config) -> None:  # no factory needed for the model alone
        self.config = config
        self.depth: dict[str, float] = {}
        self.ntu: dict[str, float] = {}
        self.floats: dict[tuple[str, str], bool] = {}
        self.bay: dict[str, dict] = {}

    def set_depth(self, tank_id, depth_cm):
        self.depth[tank_id] = depth_cm

    def set_turbidity(self, tank_id, ntu):
        self.ntu[tank_id] = ntu

    def set_float(self, tank_id, which, tripped):
        self.floats[(tank_id, which)] = tripped

    def set_bay(self, bay_id, **parts):
        self.bay[bay_id] = parts


def model(steps=(), speed=1.0):
    config = make_config()
    clock = Clock()
    site = RecordingSite(config)
    stopped = []
    sim = SiteModel(config, site, speed=speed, steps=[parse_step(s, config) for s in steps],
                    monotonic=clock, on_stop=lambda: stopped.append(True))
    return sim, site, clock, stopped


def run(sim, clock, seconds, step=0.1):
    for _ in range(round(seconds / step)):
        clock.t += step
        sim.tick()


def test_households_drain_the_tank_and_the_inlet_refills_it():
    sim, site, clock, _ = model(speed=600)  # ten simulated minutes a second
    levels = []
    for _ in range(24 * 6):  # a simulated day
        run(sim, clock, 1.0, step=0.5)
        levels.append(sim.tanks["tank-1"].percent)
    assert min(levels) < 70 and max(levels) > 90  # it went down and came back up
    assert min(levels) > 50  # the float valve opens at 60 %, before it runs low
    assert site.floats[("tank-1", "low_level")] is False


def test_turbidity_creeps_with_simulated_time_and_cleaning_resets_it():
    sim, site, clock, _ = model(speed=86400)  # a day a second
    run(sim, clock, 14)
    assert site.ntu["tank-1"] == pytest.approx(0.3 + 0.05 * 14, abs=0.02)
    sim.apply("clean tank-1")
    assert site.ntu["tank-1"] == pytest.approx(0.3)


def test_scenario_story_drain_to_low_float_then_remove_extinguisher():
    sim, site, clock, stopped = model(["1: drain tank-1 to 10%", "2: remove ext-1",
                                       "2.5: open ext-1", "3: stop"])
    run(sim, clock, 0.9)
    assert site.bay["ext-1"]["present"] is True
    run(sim, clock, 1.7)
    assert sim.tanks["tank-1"].percent == pytest.approx(10)  # 200 %/s in the test config
    assert site.floats[("tank-1", "low_level")] is True
    assert site.depth["tank-1"] == pytest.approx(15.0)  # 10 % of 150 cm
    assert site.bay["ext-1"] == {"present": False, "pressure_ok": True, "door_open": True}
    assert not stopped
    run(sim, clock, 0.7)
    assert stopped
    sim.apply("resume tank-1")
    sim.apply("fill tank-1 to 100 %")
    run(sim, clock, 1)
    assert site.floats[("tank-1", "overflow")] is True


@pytest.mark.parametrize(("text", "words"), [
    ("drain tank-9 to 10%", "no tank"),
    ("remove tank-1", "no extinguisher bay"),
    ("drain tank-1 to 120%", "0-100"),
    ("make coffee", "not a command"),
])
def test_bad_commands_say_why(text, words):
    sim, *_ = model()
    with pytest.raises(ScenarioError, match=words):
        sim.apply(text)


def test_the_demo_scenario_fits_the_shipped_config():
    config = load_sensors_config(REPO / "config" / "sensors.toml")
    steps = load_scenario(REPO / "config" / "scenarios" / "demo.toml", config)
    commands = [s.command for s in steps]
    assert "drain tank-1 to 10%" in commands and "remove ext-1" in commands
    assert [s.at_s for s in steps] == sorted(s.at_s for s in steps)


def test_a_bad_scenario_step_names_itself(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[step]]\nat = 5\ndo = "remove ext-1"\n[[step]]\nat = 9\ndo = "drain it"\n')
    with pytest.raises(ConfigError, match=r"step\[1\].do"):
        load_scenario(bad, make_config())
