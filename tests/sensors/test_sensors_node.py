"""The node's decisions on mock pins with an injected clock: schedules, debouncing, health."""

from __future__ import annotations

import pytest

from sensors import contract
from tests.sensors.helpers import TEST_SENSORS_TOML, FakeClock, make_config, wait_until


def stored(running):
    return [contract.decode(r.topic, r.payload) for r in running.outbox.after(0, limit=1000)]


def kinds(messages):
    return [(type(m).__name__, getattr(m, "asset_id", None)) for m in messages]


def test_first_states_then_only_on_schedule(start_node):
    clock = FakeClock()
    running = start_node(clock=clock, poll=False)
    running.node.poll()
    # Bays and health at once; the tank waits until its filter window (5) is full.
    assert kinds(stored(running)) == [("ExtinguisherBayState", "ext-1"),
                                      ("ExtinguisherBayState", "ext-2"), ("NodeHealth", None)]
    for _ in range(4):
        clock.advance(0.02)
        running.node.poll()
    tank = stored(running)[-1]
    assert isinstance(tank, contract.TankState) and tank.level_percent == pytest.approx(80, abs=1)
    assert tank.ts == clock.now() and tank.seq == 4
    count = len(stored(running))
    clock.advance(29)
    running.node.poll()
    assert len(stored(running)) == count  # nothing changed, nothing due
    clock.advance(1.5)
    running.node.poll()
    assert kinds(stored(running)[count:]) == [("TankState", "tank-1"),
                                              ("ExtinguisherBayState", "ext-1"),
                                              ("ExtinguisherBayState", "ext-2"),
                                              ("NodeHealth", None)]
    health = stored(running)[-1]
    assert health.uptime_s == pytest.approx(30.58, abs=0.1) and health.cpu_temp_c == 47.5
    assert [m.seq for m in stored(running)] == list(range(1, len(stored(running)) + 1))


def test_debounce_runs_on_the_injected_clock(start_node):
    clock = FakeClock()
    running = start_node(clock=clock, poll=False)
    running.node.poll()
    before = len(stored(running))
    running.site.set_bay("ext-1", present=False)
    running.node.poll()
    clock.advance(0.04)
    running.node.poll()
    assert len(stored(running)) == before  # 40 ms < 50 ms debounce
    clock.advance(0.02)
    running.node.poll()
    event, state = stored(running)[before:]
    assert event == contract.ExtinguisherBayEvent(
        site_id="site-01", node_id="node-t", epoch=running.outbox.epoch, seq=event.seq,
        ts=clock.now(), asset_id="ext-1", event="extinguisher_removed")
    assert isinstance(state, contract.ExtinguisherBayState) and state.present is False


def test_pressure_transducer_on_the_adc(start_node):
    text = TEST_SENSORS_TOML.replace('[tank.ultrasonic]', '[tank.pressure]\nadc_channel = 0\n'
                                     'empty_volts = 0.33\nfull_volts = 2.6\n[tank.unused]')
    text = text.replace("[tank.unused]\ntrigger_pin = 23\necho_pin = 24\nmax_distance_m = 2.5\n"
                        "window = 5\noutlier_cm = 10\n", "")
    text = text.replace('name = "Tank 1"', 'name = "Tank 1"\nlevel_sensor = "pressure"')
    config = make_config(text)
    clock = FakeClock()
    running = start_node(config, clock=clock, poll=False,
                         initial=lambda site: site.set_depth("tank-1", 45.0))
    for _ in range(9):
        running.node.poll()
        clock.advance(0.02)
    tank = [m for m in stored(running) if isinstance(m, contract.TankState)][-1]
    assert tank.level_percent == pytest.approx(30, abs=0.5)  # 10-bit ADC: about 0.25 cm a step


def test_no_echo_means_no_level_not_a_wrong_one(start_node):
    clock = FakeClock()
    running = start_node(clock=clock, poll=False)
    for _ in range(5):
        running.node.poll()
        clock.advance(0.02)
    running.site.set_depth("tank-1", -200.0)  # the echo comes back later than max_distance
    # gpiozero's own sampling thread runs on real time; wait for it to see the change.
    wait_until(lambda: running.node.tanks[0].tank.depth_cm is None, what="no echo")
    for _ in range(12):
        running.node.poll()
        clock.advance(3)
    tank = [m for m in stored(running) if isinstance(m, contract.TankState)][-1]
    assert tank.level_percent is None and tank.volume_l is None


def test_a_failing_poll_does_not_stop_the_loop(start_node, caplog):
    running = start_node(poll=False)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("sysfs went away")
        return 50.0

    running.node.cpu_temperature = flaky
    running.start_polling()
    wait_until(lambda: running.node.polls > 3, what="polls after the failure")
    assert "sensor poll failed" in caplog.text


def test_a_switch_edge_wakes_the_node_so_its_event_does_not_wait_for_the_next_poll(start_node):
    """gpiozero's edges (mock pins fire them too): with a poll period of a minute, lifting an
    extinguisher or a float tripping is still stored as soon as its debounce has held."""
    running = start_node(make_config(poll_interval_s=60))
    wait_until(lambda: running.node.polls >= 1 and stored(running), 10, "the first poll")
    polls = running.node.polls
    running.site.set_bay("ext-1", present=False)
    removed = wait_until(lambda: [m for m in stored(running)
                                  if isinstance(m, contract.ExtinguisherBayEvent)], 10,
                         "the removal, long before the next one-minute poll")
    assert removed[0].event == "extinguisher_removed" and removed[0].asset_id == "ext-1"
    running.site.set_float("tank-1", "overflow", True)
    tripped = wait_until(lambda: [m for m in stored(running)
                                  if isinstance(m, contract.TankEvent)], 10, "the overflow")
    assert tripped[0].event == "overflow_tripped"
    # Woken by the two edges and their debounce deadlines only, not polled in a loop.
    assert running.node.polls - polls <= 6


def test_the_node_looks_again_the_moment_a_pending_change_has_held(start_node):
    clock = FakeClock()
    running = start_node(clock=clock, poll=False)
    running.node.poll()
    assert running.node.next_wait(0.5) == 0.5  # nothing pending: the poll period
    running.site.set_bay("ext-1", present=False)
    running.node.poll()  # the change is seen; the 50 ms debounce starts
    clock.advance(0.03)
    assert running.node.next_wait(0.5) == pytest.approx(0.021, abs=1e-6)
