"""Every screen, in both languages, against the elder-friendly numbers of the brief."""

from __future__ import annotations

import pytest

from kiosk.i18n import LANGUAGES
from kiosk.tooling.scenes import SCENES
from tests.kiosk.kiosk_support import audit


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_meets_the_elder_friendly_numbers(make_kiosk, language):
    kiosk = make_kiosk()
    app = kiosk.app
    app.set_language(language)
    problems: list[str] = []
    seen = set()
    for name, scene in SCENES.items():
        scene(app, kiosk.clock)
        kiosk.pump(3)
        seen.add(kiosk.screen)
        problems += [f"{name}: {p}" for p in audit(kiosk)]
    assert not problems, "\n".join(problems)
    assert seen == set(app.root.screen_names), "a screen was never checked"
