"""Render every kiosk screen, in both languages and both text sizes, to PNG files (headless,
real OpenGL).

    .venv/bin/python -m kiosk.tooling.screenshots     # -> docs/screenshots/kiosk/<lang>/<scene>.png
                                                      #    and <lang>-large/ (大字)
    .venv/bin/python -m kiosk.tooling.screenshots --size 1024x600 --out /tmp/shots

Uses the built-in demo server (kiosk.tooling.demo) and a fixed date, so the pictures only change
when the screens do. Scenes are listed in kiosk.tooling.scenes.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["main", "render"]

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "docs" / "screenshots" / "kiosk"
DEMO_MOMENT = datetime(2026, 11, 25, 9, 30)


def headless(size: tuple[int, int]) -> None:
    """Kivy on an offscreen SDL window of ``size``; call before anything imports Kivy."""
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="sp-kivy-home-"))
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0")


def pump(frames: int = 3) -> None:
    from kivy.base import EventLoop

    for _ in range(frames):
        EventLoop.idle()


def demo_app(data: Path) -> tuple[Any, Any]:
    """(app, clock): the kiosk on the built-in demo server with a manual clock, its data in
    ``data``, prepared and with its catalog loaded. Call :func:`headless` first."""
    from kiosk.app import KioskApp
    from kiosk.settings import load_kiosk_settings
    from kiosk.tooling.demo import DemoServer
    from kiosk.tooling.scenes import ManualClock

    settings = load_kiosk_settings(REPO / "config" / "servicepoint.toml",
                                   env={"SERVICEPOINT_DATA_DIR": str(data)})
    clock = ManualClock()
    app = KioskApp(settings, transport=DemoServer(public_url=settings.http.public_url).transport(),
                   now=clock, wall_clock=lambda: DEMO_MOMENT)
    app.prepare()
    deadline = time.monotonic() + 20
    while not app.catalog_loaded and time.monotonic() < deadline:
        pump(1)
    return app, clock


def render(out: Path, size: tuple[int, int] = (800, 480),
           languages: Sequence[str] = ("zh_CN", "en"),
           large: Sequence[bool] = (False,)) -> list[Path]:
    """Write one PNG per scene, language and text size under ``out`` (``<lang>/``, and
    ``<lang>-large/`` for 大字); return the paths."""
    headless(size)
    from kivy.core.window import Window

    from kiosk.tooling.scenes import SCENES

    data = Path(tempfile.mkdtemp(prefix="sp-kiosk-shots-"))
    app, clock = demo_app(data)
    written: list[Path] = []
    try:
        for language, big in ((lang, big) for big in large for lang in languages):
            app.set_language(language)
            if app.large_text != big:
                app.toggle_large_text()
            folder = out / (f"{language}-large" if big else language)
            folder.mkdir(parents=True, exist_ok=True)
            for name, scene in SCENES.items():
                scene(app, clock)
                pump(4)
                shot = Window.screenshot(name=str(data / "shot.png"))
                target = folder / f"{name}.png"
                shutil.move(shot, target)
                written.append(target)
                log.info("wrote %s", target)
    finally:
        # on_stop rather than App.stop(): the window may be shared (tests), and KV's cached
        # `app` must be let go of.
        app.dispatch("on_stop")
        Window.remove_widget(app.root)
        shutil.rmtree(data, ignore_errors=True)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.tooling.screenshots",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--size", default="800x480", help="window size, WxH")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("kivy", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    written = render(args.out, (width, height), large=(False, True))
    log.info("%d screenshots in %s", len(written), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
