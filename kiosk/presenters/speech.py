"""What the kiosk says aloud, beyond each screen's prompt: a touched tile, and a request number
read so it can be written down. Pure; the app hands the words to kiosk.voice.

    spoken_number("zh_CN", "K1-0001")   # "K，一，杠，零，零，零，一"
    spoken_number("en", "K1-0001")      # "K, one, dash, zero, zero, zero, one"

A number is read one sign at a time, the way a resident reads it off a slip to a neighbour
("K 一 杠 零 零 零 一", never "一千"), with a pause between signs so an elderly listener can
write each one down. The digits' words are in the catalog (say_digit_*), so a translation reads
them in its own language.
"""

from __future__ import annotations

import re

from kiosk.i18n import tr

__all__ = ["plain_label", "spoken_number", "tile_words"]

_MARKUP = re.compile(r"\[/?[a-z]+(=[^\]]*)?\]")


def spoken_number(lang: str, number: str) -> str:
    """``number`` sign by sign: digits as words, a dash as its word, letters as they are."""
    words = []
    for sign in number:
        if sign.isdigit():
            words.append(tr(lang, f"say_digit_{sign}"))
        elif sign == "-":
            words.append(tr(lang, "say_dash"))
        elif sign.isalnum():
            words.append(sign.upper())
    # A pause between signs; Chinese takes its own comma.
    return ("，" if lang == "zh_CN" else ", ").join(words)


def plain_label(text: str) -> str:
    """A button's words as spoken: no markup, lines joined."""
    return " ".join(line.strip() for line in _MARKUP.sub("", text).splitlines() if line.strip())


def tile_words(lang: str, label: str, *, second_touch_chooses: bool) -> str:
    """What a touched tile says: its label, and with two-touch on, how to choose it."""
    text = plain_label(label)
    return tr(lang, "say_tile", label=text) if second_touch_chooses else text
