"""Every screen, in both languages and at both text sizes, against the elder-friendly numbers of
the brief: every scene of kiosk/tooling/scenes (the journeys' helpers add theirs there) is
audited for target sizes and gaps, text sizes, contrast, and text fitting its box."""

from __future__ import annotations

import pytest

from kiosk import theme
from kiosk.i18n import LANGUAGES
from kiosk.tooling.scenes import SCENES
from tests.kiosk.kiosk_support import audit


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_meets_the_elder_friendly_numbers(make_kiosk, language, large):
    kiosk = make_kiosk()
    app = kiosk.app
    app.set_language(language)
    if large:
        app.toggle_large_text()
    problems: list[str] = []
    seen = set()
    for name, scene in SCENES.items():
        scene(app, kiosk.clock)
        kiosk.pump(3)
        seen.add(kiosk.screen)
        problems += [f"{name}{' (大字)' if large else ''}: {p}" for p in audit(kiosk)]
    assert not problems, "\n".join(problems)
    assert seen == set(app.root.screen_names), "a screen was never checked"


def test_large_text_is_larger_on_every_screen_and_keeps_what_was_entered(make_kiosk):
    kiosk = make_kiosk()
    kiosk.tap_key("water_electric")
    title = kiosk.app.root.current_screen.ids.title
    normal = title.font_size
    kiosk.tap(kiosk.app.root.current_screen.ids.nav.ids.text_size)
    assert kiosk.screen == "question" and kiosk.flow.draft.category == "water_electric"
    title = kiosk.app.root.current_screen.ids.title
    assert title.font_size == pytest.approx(normal * theme.LARGE_TEXT_SCALE)
    # The tiles' and the chrome's words reach large text's 30 dp (MIIT 适老化).
    nav = kiosk.app.root.current_screen.ids.nav.ids
    assert min(b.font_size for b in kiosk.buttons() if b.tile) >= 30 - 0.01
    assert min(nav.back.font_size, nav.home.font_size, nav.text_size.font_size) >= 30 - 0.01
    assert kiosk.button(key="leak").picture  # the tiles keep their pictures
    toggle = kiosk.app.root.current_screen.ids.nav.ids.text_size
    assert toggle.text == kiosk.tr("text_normal")
    kiosk.tap(toggle)
    assert kiosk.app.root.current_screen.ids.title.font_size == pytest.approx(normal)
