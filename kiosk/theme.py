"""Colours and minimum sizes of the kiosk, and the WCAG contrast formula that checks them.

The numbers are the elder-friendly rules of the brief (MIIT 适老化, WCAG 2.2): touch targets at
least 60×60 dp and 8 dp apart, body text at least 18 dp, titles at least 30 dp, contrast at least
4.5:1. The KV file takes its colours from here and the accessibility test checks against the
same constants, so the two cannot drift apart. No Kivy import: the test helpers use it too.
"""

from __future__ import annotations

__all__ = [
    "BODY_SP",
    "LARGE_TEXT_SCALE",
    "MIN_BODY_DP",
    "MIN_CONTRAST",
    "MIN_GAP_DP",
    "MIN_TARGET_DP",
    "MIN_TITLE_DP",
    "PICTURE_DP",
    "TITLE_SP",
    "contrast_ratio",
    "darker",
    "rgba",
]

MIN_TARGET_DP = 60
MIN_GAP_DP = 8
MIN_BODY_DP = 18
MIN_TITLE_DP = 30
MIN_CONTRAST = 4.5

# What the layout uses: a margin above each minimum.
BODY_SP = 20
BUTTON_SP = 24
TITLE_SP = 32
# 大字: every text size times this (the MIIT 适老化 spec asks for adjustable type); buttons then
# reach the 30 dp of large text.
LARGE_TEXT_SCALE = 1.25
# The largest a tile's pictogram is drawn (kiosk/pictograms).
PICTURE_DP = 64


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


BACKGROUND = rgba("#F7F5F0")
PANEL = rgba("#FFFFFF")
TEXT = rgba("#1A1A1A")
MUTED = rgba("#4A4A4A")
PRIMARY = rgba("#0B4F8A")
ON_PRIMARY = rgba("#FFFFFF")
CHOICE = rgba("#E3EEF9")
ON_CHOICE = rgba("#0B2A4A")
NAV = rgba("#37474F")
GO = rgba("#1B5E20")
WARN_BG = rgba("#FFF3CD")
WARN_TEXT = rgba("#5C3C00")
ERROR = rgba("#A0001C")
DISABLED_BG = rgba("#C4C4C4")
DISABLED_TEXT = rgba("#5A5A5A")
SCRIM = rgba("#000000", 0.6)


def darker(colour: tuple[float, ...] | list[float], factor: float = 0.75) -> list[float]:
    """The pressed look of a button: the same hue, darker (light colours get a visible change)."""
    r, g, b = colour[:3]
    return [r * factor, g * factor, b * factor, colour[3] if len(colour) > 3 else 1.0]


def _luminance(colour: tuple[float, ...] | list[float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


Colour = tuple[float, ...] | list[float]


def contrast_ratio(fg: Colour, bg: Colour) -> float:
    """WCAG 2.x contrast ratio of two opaque colours (1.0 to 21.0)."""
    a, b = _luminance(fg), _luminance(bg)
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)
