"""Pictures on every tile: each service and answer the kiosk offers has its own pictogram, drawn
for this project (kiosk/tooling/pictograms.py), shown beside its words in the words' colour."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from kivy.core.window import Window
from PIL import Image

from kiosk import theme
from kiosk.pictograms import FALLBACK, FOLDER, names, pictogram
from kiosk.tooling import pictograms as drawing

REPO = Path(__file__).resolve().parents[2]


def _kiosk_codes_and_keys() -> list[str]:
    config = tomllib.loads((REPO / "config" / "categories.toml").read_text(encoding="utf-8"))
    wanted = []
    for category in config["category"]:
        if not category.get("kiosk", True):
            continue
        wanted.append(category["code"])
        for question in category.get("question", []):
            wanted += [choice[0] for choice in question["choices"]]
    return wanted


def _pixels(image: Image.Image) -> list[tuple[int, ...]]:
    """The pixels as tuples (getdata() is deprecated in Pillow 13)."""
    width = len(image.getbands())
    raw = image.tobytes()
    return [tuple(raw[i:i + width]) for i in range(0, len(raw), width)]


def test_every_service_and_answer_on_the_kiosk_has_its_own_picture():
    missing = [key for key in _kiosk_codes_and_keys() if key not in names()]
    assert not missing, (f"no pictogram for {missing}: draw one in kiosk/tooling/pictograms.py "
                         "under that name and run it")


def test_a_name_without_a_picture_gets_the_general_one():
    assert pictogram("a_category_added_tomorrow") == str(FOLDER / f"{FALLBACK}.png")
    assert pictogram(None, "", "leak") == str(FOLDER / "leak.png")


def test_the_shipped_pictures_are_what_the_drawings_make():
    # A drawing changed without its PNG (or a PNG with no drawing) fails here.
    assert drawing.main(["--check"]) == 0
    assert names() == set(drawing.DRAWINGS)


@pytest.mark.parametrize("key", sorted(drawing.DRAWINGS))
def test_each_picture_is_a_clear_line_drawing(key):
    image = Image.open(FOLDER / f"{key}.png")
    assert image.size == (drawing.SIZE, drawing.SIZE) and image.mode == "RGBA"
    pixels = _pixels(image)
    inked = sum(1 for *_rgb, a in pixels if a > 128) / drawing.SIZE ** 2
    # Something to see, and lines rather than a blot: the tile's colour shows round them.
    assert 0.04 < inked < 0.6, inked
    # White ink only, so the tile can tint it to its words' colour.
    assert all((r, g, b) == (255, 255, 255) for r, g, b, a in pixels if a > 200)


def test_the_tiles_show_their_pictures_beside_their_words_in_the_words_colour(make_kiosk,
                                                                              tmp_path):
    kiosk = make_kiosk()
    home_tiles = [b for b in kiosk.buttons() if b.tile]
    assert home_tiles and all(b.picture and b.text for b in home_tiles)
    kiosk.tap_key("water_electric")
    leak = kiosk.button(key="leak")
    assert leak.picture == str(FOLDER / "leak.png") and leak.text == "漏水"
    kiosk.pump(3)
    shot = Image.open(Window.screenshot(name=str(tmp_path / "question.png"))).convert("RGB")
    # The picture's square, left of the words (window y is up, the image's y is down).
    size = leak.picture_size
    x0, y0 = leak.to_window(leak.x + 10, leak.center_y - size / 2)
    box = (int(x0), int(Window.height - y0 - size), int(x0 + size), int(Window.height - y0))
    ink = [round(c * 255) for c in theme.ON_CHOICE[:3]]
    pixels = _pixels(shot.crop(box))
    near_ink = sum(1 for p in pixels if all(abs(a - b) < 40 for a, b in zip(p, ink, strict=True)))
    assert near_ink > 0.04 * len(pixels)
    # The words start to the right of the picture: the picture never covers them.
    assert leak.padding[0] >= size
