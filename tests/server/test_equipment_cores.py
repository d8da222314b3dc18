"""The equipment's pure cores: a water test judged from GB 5749's limits, the monthly
inspection's checklist, and the due lists staff plan the month with."""

from __future__ import annotations

from datetime import date

import pytest

from server.equipment.checklist import Item, Outcome
from server.equipment.due import due_lists
from server.equipment.water import Indicator, WaterSample, judge
from server.rules import ExtinguisherRecord, ExtinguisherType, load_rules_config
from tests.server.conftest import CONFIG

GOOD = dict(turbidity_ntu=0.4, free_chlorine_mg_l=0.3, coliforms_detected=False,
            colony_cfu_ml=12, colour=5, odour_none=True)


def test_a_clean_sample_passes_every_indicator() -> None:
    verdict = judge(WaterSample(**GOOD))  # type: ignore[arg-type]
    assert verdict.passed and verdict.failed == ()
    assert len(verdict.results) == 6


@pytest.mark.parametrize(("field", "value", "passes"), [
    ("turbidity_ntu", 1.0, True), ("turbidity_ntu", 1.01, False),
    ("free_chlorine_mg_l", 0.05, True), ("free_chlorine_mg_l", 0.04, False),
    ("free_chlorine_mg_l", 2.0, True), ("free_chlorine_mg_l", 2.1, False),
    ("coliforms_detected", True, False),
    ("colony_cfu_ml", 100, True), ("colony_cfu_ml", 101, False),
    ("colour", 15, True), ("colour", 16, False),
    ("odour_none", False, False),
    ("turbidity_ntu", float("nan"), False),
])
def test_each_indicator_is_judged_from_its_limit(field: str, value: object,
                                                 passes: bool) -> None:
    verdict = judge(WaterSample(**{**GOOD, field: value}))  # type: ignore[arg-type]
    assert verdict.passed is passes
    assert verdict.failed == (() if passes else (Indicator(field),))


def test_an_indicator_left_out_fails_the_test() -> None:
    verdict = judge(WaterSample(**{**GOOD, "colony_cfu_ml": None}))  # type: ignore[arg-type]
    assert not verdict.passed and verdict.failed == (Indicator.COLONY_COUNT,)


def test_limits_read_as_a_lab_report_writes_them() -> None:
    texts = {r.indicator: r.limit.text() for r in judge(WaterSample()).results}
    assert texts[Indicator.TURBIDITY] == "≤ 1 NTU"
    assert texts[Indicator.FREE_CHLORINE] == "0.05–2 mg/L"
    assert texts[Indicator.COLONY_COUNT] == "≤ 100 CFU/mL"


def test_the_checklist_fails_on_any_fault_or_unanswered_item() -> None:
    every = {item.value: True for item in Item}
    assert Outcome.of(every).passed
    gauge = Outcome.of({**every, "gauge_green": False})
    assert not gauge.passed and gauge.failed == (Item.GAUGE_GREEN,)
    unanswered = Outcome.of({k: v for k, v in every.items() if k != "label"})
    assert unanswered.failed == (Item.LABEL,)


RULES = load_rules_config(CONFIG / "rules.toml", timezone="Asia/Shanghai")


def _unit(asset_id: str, kind: str, made: date, *, maintained: date | None = None,
          inspected: date | None = None) -> ExtinguisherRecord:
    return ExtinguisherRecord(asset_id, type=ExtinguisherType(kind), manufactured_on=made,
                              last_maintained_on=maintained, last_inspected_on=inspected)


def test_due_lists_hold_what_falls_due_within_thirty_days() -> None:
    today = date(2026, 12, 3)
    lists = due_lists([
        # Dry powder made 2016-12-20: scrapped at 10 years, on 2026-12-20 (GB 50444).
        _unit("old", "dry_powder", date(2016, 12, 20), maintained=date(2024, 12, 1),
              inspected=date(2026, 11, 20)),
        # Water-based made 2023-12-10: first maintenance 3 years on, 2026-12-10.
        _unit("water", "water", date(2023, 12, 10), inspected=date(2026, 11, 1)),
        # Fine for a while, inspected this week.
        _unit("fine", "co2", date(2024, 1, 1), inspected=date(2026, 12, 1)),
        # Never inspected: due at once.
        _unit("new", "dry_powder", date(2026, 6, 1)),
    ], today=today, within_days=30, config=RULES)
    assert [(e.asset_id, e.due_on) for e in lists.scrap] == [("old", date(2026, 12, 20))]
    assert [(e.asset_id, e.due_on) for e in lists.maintenance] == [("water", date(2026, 12, 10))]
    # The unit going for scrap is not sent for maintenance as well.
    assert "old" not in [e.asset_id for e in lists.maintenance]
    # Monthly: every unit comes due within thirty days; the overdue ones lead the list.
    inspection = [(e.asset_id, e.overdue, e.days_left) for e in lists.inspection]
    assert inspection == [("new", True, None), ("water", True, -2), ("old", False, 17),
                          ("fine", False, 29)]


def test_a_label_qr_drawn_as_svg_reads_back_as_the_inspection_address() -> None:
    import re

    from PIL import Image, ImageDraw
    from pyzbar.pyzbar import decode

    from server.equipment.labels import inspection_path, qr_svg

    url = "https://sp.example/staff" + inspection_path("ext-12")[len("/staff"):]
    svg = qr_svg(url, label="ext-12 <劳动新村>")
    assert "<title>ext-12 &lt;劳动新村&gt;</title>" in svg and "style=" not in svg
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))  # type: ignore[union-attr]
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in re.findall(r"M(\d+),(\d+)h1v1h-1z", svg):
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle([left, top, left + scale - 1, top + scale - 1], fill=0)
    assert [found.data.decode() for found in decode(image)] == [url]
