"""The kiosk's pictograms: which picture a tile shows, found by name in this folder.

The PNGs beside this file are drawn by kiosk/tooling/pictograms.py (white lines on transparent;
the tile tints them to its text colour). A pictogram is named after what it shows on the kiosk:
a category's code or an answer's key in config/categories.toml (the names that never change when
staff reword a label). A tile asks for the first of its names that has a picture and falls back
to a general "service" picture, so a category or an answer added to the config always has one
until its own is drawn::

    pictogram("water_electric")      # .../kiosk/pictograms/water_electric.png
    pictogram("a_new_category")      # .../kiosk/pictograms/service.png

A new drawing is a function in the tool, listed under the code or key it is for. Pure: no Kivy.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["FALLBACK", "FOLDER", "names", "pictogram"]

FOLDER = Path(__file__).resolve().parent
FALLBACK = "service"


@cache
def names() -> frozenset[str]:
    """Every pictogram shipped (the PNG files' names)."""
    return frozenset(path.stem for path in FOLDER.glob("*.png"))


def pictogram(*candidates: str | None) -> str:
    """The path of the first candidate that has a picture, else the fallback's."""
    shipped = names()
    for name in candidates:
        if name and name in shipped:
            return str(FOLDER / f"{name}.png")
    return str(FOLDER / f"{FALLBACK}.png")
