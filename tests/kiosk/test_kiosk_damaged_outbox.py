"""A kiosk whose outbox file was damaged (power cut, bad SD card) says so on screen, not only in
the log: the resident sees a banner asking them to tell the staff, and staff mode names the file
the damaged outbox was set aside as, so a staff member knows what to fetch. (Issue 14, item 10;
the recovery itself is tested in test_kiosk_outbox.py.)"""

from __future__ import annotations

from pathlib import Path

from tests.kiosk.kiosk_support import pump


def _damaged_outbox(data_dir: Path) -> None:
    folder = data_dir / "kiosk"
    folder.mkdir(parents=True)
    (folder / "outbox.sqlite3").write_bytes(b"not a database, a power cut's leftovers" * 50)


def test_a_damaged_outbox_is_said_on_the_home_screen_and_named_in_staff_mode(make_kiosk,
                                                                              tmp_path):
    data_dir = tmp_path / "kiosk-data"
    _damaged_outbox(data_dir)
    kiosk = make_kiosk(data_dir=data_dir)
    aside = [p.name for p in (data_dir / "kiosk").glob("outbox.sqlite3.damaged-*")]
    assert len(aside) == 1

    banner = kiosk.app.root.current_screen.ids.offline_banner
    pump(2)
    assert kiosk.screen == "home"
    assert banner.height > 0 and banner.opacity == 1
    assert kiosk.tr("outbox_damaged_banner") in [w.text for w in banner.walk() if
                                                 hasattr(w, "text")]

    kiosk.app.open_staff()
    kiosk.type_digits("2468")
    kiosk.tap_text(kiosk.tr("confirm"))
    kiosk.wait_until(lambda: kiosk.app.status_state == "ok", what="the site status")
    state = kiosk.app.root.current_screen.ids.state.text
    assert aside[0] in state


def test_a_sound_outbox_shows_no_banner(make_kiosk, tmp_path):
    kiosk = make_kiosk()
    pump(2)
    banner = kiosk.app.root.current_screen.ids.offline_banner
    assert banner.height == 0 and banner.opacity == 0
    assert kiosk.app.outbox_damaged == ""
