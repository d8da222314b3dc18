"""The shortest request, from the home screen to its receipt, with no phone: at most six taps.

How the taps are counted. A *touch* is a finger put down and lifted on the screen. A *choice* is
a touch that changes what the resident has chosen or moves the screen on. With two-touch off (a
sighted resident's setting) every touch on a tile is a choice, and the count is of touches. With
two-touch on (the default: a tile's first touch only says its words and marks it, the second
chooses it) the first touch is the kiosk reading aloud, not a step of the request: the limit is
on choices, and the touches are choices plus one reading per tile chosen, no more. The shortest
request with no phone is: a service, its one answer, the compound, the building, the unit, 提交.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.kiosk.kiosk_support import Kiosk

MAX_CHOICES = 6


@dataclass
class Count:
    touches: int = 0
    choices: int = 0
    tiles: int = 0


def _state(kiosk: Kiosk) -> str:
    flow = kiosk.flow
    receipt = flow.receipt.number if flow.receipt else None
    return json.dumps([kiosk.screen, flow.snapshot(), receipt], sort_keys=True)


def _touch(kiosk: Kiosk, count: Count, widget) -> None:
    before = _state(kiosk)
    kiosk.tap(widget)
    count.touches += 1
    if _state(kiosk) != before:
        count.choices += 1


def _choose(kiosk: Kiosk, count: Count, key: str) -> None:
    """Touch the tile ``key`` as a resident would: again if the first touch only read it out."""
    before = _state(kiosk)
    count.tiles += 1
    _touch(kiosk, count, kiosk.button(key=key))
    if _state(kiosk) == before:
        _touch(kiosk, count, kiosk.button(key=key))
    assert _state(kiosk) != before, f"two touches on {key!r} chose nothing"


def _shortest_request(kiosk: Kiosk) -> Count:
    count = Count()
    assert kiosk.screen == "home"
    _choose(kiosk, count, "water_electric")
    _choose(kiosk, count, kiosk.flow.question.choices[0].key)
    _choose(kiosk, count, kiosk.flow.compounds[0].code)
    _choose(kiosk, count, kiosk.flow.compound.buildings[0].code)
    _choose(kiosk, count, kiosk.flow.building.units[0].code)
    assert kiosk.screen == "review"
    _touch(kiosk, count, kiosk.app.root.current_screen.ids.submit)
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the receipt")
    assert "contact_phone" not in next(iter(kiosk.server.filed.values()))
    return count


def test_a_sighted_resident_files_the_shortest_request_in_six_touches(make_kiosk):
    kiosk = make_kiosk(SERVICEPOINT_KIOSK__TWO_TOUCH="false")
    count = _shortest_request(kiosk)
    assert count.touches == count.choices <= MAX_CHOICES


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_with_two_touch_the_shortest_request_is_six_choices_and_each_tile_read_once(
        make_kiosk, language):
    kiosk = make_kiosk(SERVICEPOINT_KIOSK__TWO_TOUCH="true")
    if kiosk.app.lang != language:
        kiosk.tap(kiosk.app.root.current_screen.ids.language)
    count = _shortest_request(kiosk)
    assert count.choices <= MAX_CHOICES
    # One reading per tile: five tiles were read out once each before being chosen.
    assert count.touches == count.choices + count.tiles
    assert count.tiles == 5
