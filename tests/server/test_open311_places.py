"""The pure place matcher: free text and positions as outside clients write them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.open311.places import BuildingEntry, CompoundEntry, PlaceBook, distance_m, normalize


def _building(compound: str, number: int, *aliases: str, units: int = 2) -> BuildingEntry:
    code = f"{compound}-B{number:02d}"
    return BuildingEntry(code, f"{number}栋", aliases,
                         tuple((f"{code}-U{u}", f"{u}单元") for u in range(1, units + 1)))


BOOK = PlaceBook([
    CompoundEntry("C01", ("劳动新村", "Laodong New Village", "劳动村"),
                  tuple(_building("C01", n) for n in (1, 2, 11)), lat=28.1985, long=113.0270),
    CompoundEntry("C08", ("南湖小区", "南湖"), (_building("C08", 1, "南湖商厦"),),
                  lat=28.1958, long=113.0270, radius_m=100),
    CompoundEntry("C09", ("南湖花园",), ()),
])


@pytest.mark.parametrize(("text", "kind", "code"), [
    ("劳动新村 1号楼 1单元", "unit", "C01-B01-U1"),
    ("劳动新村1栋1单元", "unit", "C01-B01-U1"),
    ("劳动新村１幢２单元", "unit", "C01-B01-U2"),         # full-width digits
    ("劳动新村第一栋二单元", "unit", "C01-B01-U2"),
    ("劳动村 2号栋", "building", "C01-B02"),              # an alias of the compound
    ("劳动新村11栋", "building", "C01-B11"),              # not building 1
    ("劳动新村十一号楼", "building", "C01-B11"),
    ("LAODONG NEW VILLAGE, Building 2, Unit 1", "unit", "C01-B02-U1"),
    ("湖南省长沙市劳动新村", "compound", "C01"),
    ("劳动新村 9栋", "compound", "C01"),                 # no such building: the compound
    ("南湖商厦", "building", "C08-B01"),                  # a building's alias
    ("南湖花园", "compound", "C09"),                      # the longer name wins over 南湖
    ("C01-B02-U2", "unit", "C01-B02-U2"),                # a code is a code
])
def test_text_is_matched_forgivingly(text: str, kind: str, code: str) -> None:
    found = BOOK.match_text(text)
    assert found is not None and (found.kind, found.code) == (kind, code)


@pytest.mark.parametrize("text", ["火星大道 99号", "", "1栋1单元", "Building 1"])
def test_text_naming_no_compound_is_not_placed(text: str) -> None:
    assert BOOK.match_text(text) is None


def test_building_forms_normalize_alike() -> None:
    assert {normalize(t) for t in ("1栋", "1号楼", "1幢", "一栋", "第1栋", "building 1",
                                   "Bldg. 1", "1座")} == {"1栋"}
    assert normalize("二十三号楼") == "23栋"


def test_a_position_goes_to_the_nearest_compound_within_reach() -> None:
    near_c01 = BOOK.nearest(28.1984, 113.0271)
    assert near_c01 is not None and near_c01.code == "C01"
    # 50 m south of C08's centre: nearer to C08 (radius 100 m) than to C01.
    near_c08 = BOOK.nearest(28.19535, 113.0270)
    assert near_c08 is not None and near_c08.code == "C08"
    assert BOOK.nearest(39.9042, 116.4074) is None  # Beijing


def test_distance_is_in_metres() -> None:
    # One thousandth of a degree of latitude is about 111 m.
    assert distance_m(28.0, 113.0, 28.001, 113.0) == pytest.approx(111.2, abs=0.5)


PLACE_WORDS = "劳动新村南湖花园一二十两栋号楼幢座单元第 1２3buildingunit-,"


@given(st.text(alphabet=st.sampled_from(PLACE_WORDS), max_size=40) | st.text(max_size=200))
def test_any_text_gets_an_answer(text: str) -> None:
    found = BOOK.match_text(text)
    assert found is None or found.kind in ("unit", "building", "compound")


@given(st.floats(-90, 90), st.floats(-180, 180))
def test_any_position_gets_an_answer(lat: float, long: float) -> None:
    found = BOOK.nearest(lat, long)
    assert found is None or found.code in ("C01", "C08")
