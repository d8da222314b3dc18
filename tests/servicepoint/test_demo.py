"""``servicepoint demo`` end to end, as ``make demo`` runs it but headless and at ``--fast``:
the story happens (two sensor tickets; a request tapped in at the kiosk, dispatched, accepted
and done, each step's notice printed), the phone link is printed, and Ctrl-C leaves no process
behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.ports import free_port

STORY_DONE = "The story is complete"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent's wait is missing.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.broker
@pytest.mark.kiosk
def test_demo_plays_the_story_and_ctrl_c_leaves_nothing_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    if (REPO / "data").is_dir():
        shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("demo"))
    else:
        data.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SERVICEPOINT_", "KIVY_", "SDL_"))
           and k not in ("DISPLAY", "WAYLAND_DISPLAY")}  # headless, like CI
    env["SERVICEPOINT_DATA_DIR"] = str(data)
    out, err = tmp_path / "demo.out", tmp_path / "demo.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        demo = subprocess.Popen(
            [sys.executable, "-m", "servicepoint", "demo", "--fast", "--duration", "160",
             "--port", str(free_port())], cwd=REPO, env=env, stdout=stdout, stderr=stderr)
        try:
            deadline = time.monotonic() + 170
            while STORY_DONE not in out.read_text() and demo.poll() is None:
                assert time.monotonic() < deadline, f"no story after 170 s:\n{out.read_text()}"
                time.sleep(0.5)
            demo.send_signal(signal.SIGINT)  # Ctrl-C
            assert demo.wait(timeout=40) == 0, err.read_text()[-3000:]
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.wait()
    printed, logged = out.read_text(), err.read_text()

    assert STORY_DONE in printed, printed
    token = re.search(r"Phone link \(the QR code\): http://127\.0\.0\.1:\d+/r/([A-Za-z0-9_-]{32,})",
                      printed)
    assert token, printed
    assert "Ticket M" in printed and "【紧急】" in printed  # the urgent extinguisher alert
    # The request came from the kiosk's screen: its resident's taps, its outbox, its number.
    assert re.search(r"filed request K1-\d{4} at the kiosk, tapping its screen", printed), printed

    children = {name: int(pid) for name, pid in
                re.findall(r"started (\w+) \(pid (\d+)\)", logged)}
    assert set(children) == {"broker", "server", "sensors", "kiosk"}, logged
    left = [name for name, pid in children.items() if _alive(pid) or _group_alive(pid)]
    assert not left, f"still running after Ctrl-C: {left}"

    with sqlite3.connect(data / "demo" / "servicepoint.db") as db:
        conditions = {c for (c,) in db.execute(
            "SELECT condition FROM tickets WHERE kind = 'maintenance'")}
        assert {"low_level", "missing"} <= conditions
        # The request behind the printed phone link went through all three hands.
        (status, ticket_id, channel), = db.execute(
            "SELECT t.status, t.id, r.channel FROM tickets t JOIN service_requests r"
            " ON r.ticket_id = t.id WHERE r.phone_token = ?", (token.group(1),)).fetchall()
        assert (status, channel) == ("resolved", "kiosk")
        number, = db.execute("SELECT number FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        assert f"filed request {number} at the kiosk" in printed
        steps = [a for (a,) in db.execute(
            "SELECT action FROM ticket_events WHERE ticket_id = ? ORDER BY id", (ticket_id,))]
        assert steps[:4] == ["file", "dispatch", "accept", "resolve"]
        # Each hand was told, through the server's notice loop, as the board printed it.
        squad = "Notice to squad 1's group (第一小分队群, its WeCom robot)"
        assert f"{squad}:\n      新请求 {number}" in printed, printed
        assert re.search(r"Notice to volunteer 建国 \(lijianguo, his own robot\):\n      "
                         rf"派单给您 {number}.*?http://127\.0\.0\.1:\d+/v/t/[A-Za-z0-9_-]{{40,}}",
                         printed, re.S), printed
        assert f"Notice to the resident (SMS):\n      您的请求 {number} 已完成" in printed
        urgent = db.execute("SELECT count(*) FROM alerts WHERE condition = 'missing'"
                            " AND urgent AND kind = 'raised'").fetchone()[0]
        assert urgent == 1

    # With no screen, the kiosk's screen is kept as a picture, and the demo says where.
    picture = data / "demo" / "kiosk-screen.png"
    assert str(picture) in printed, printed
    from PIL import Image

    with Image.open(picture) as shot:
        assert shot.size == (800, 480)
        colours = shot.convert("RGB").getcolors(maxcolors=1_000_000) or []
        assert len(colours) > 50  # the drawn home screen, not a blank surface

    # The library is ready to try: the demo books are on the shelf and a reader has a card.
    card = re.search(r"reader card (P\d{10}) \((\S+\.png)\)", printed)
    assert card, printed
    from pyzbar.pyzbar import decode

    with Image.open(card.group(2)) as page:
        assert [s.data.decode() for s in decode(page)] == [card.group(1)]
    with sqlite3.connect(data / "demo" / "servicepoint.db") as db:
        assert db.execute("SELECT count(*) FROM library_copies").fetchone()[0] == 19
