"""``servicepoint kiosk``: the command line that starts the touchscreen app (kiosk.app).

    servicepoint kiosk                  # settings: SERVICEPOINT_CONFIG or config/servicepoint.toml
    servicepoint kiosk --fullscreen     # as on the Pi (config/kiosk/ has the systemd unit)
    servicepoint kiosk --demo           # a built-in stand-in server, to try the screens
    servicepoint kiosk --screenshot data/kiosk.png   # no screen: keep a picture of what it shows
    servicepoint kiosk --demo --demo-resident 5      # watch a resident file a request by taps

Kivy is configured here, before any of it is imported, because the window's size, full screen
and cursor are fixed when the window is created.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from foundation.errors import ConfigError
from kiosk.settings import load_kiosk_settings

__all__ = ["main"]

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicepoint kiosk",
        description="The touchscreen kiosk residents use to file service requests.",
        epilog="Example: servicepoint kiosk --fullscreen",
    )
    parser.add_argument("--config", help="settings file (default: SERVICEPOINT_CONFIG or "
                                         "config/servicepoint.toml)")
    screen = parser.add_mutually_exclusive_group()
    screen.add_argument("--fullscreen", action="store_true", default=None,
                        help="full screen, no cursor (default: kiosk.fullscreen)")
    screen.add_argument("--windowed", dest="fullscreen", action="store_false",
                        help="a window, for development")
    parser.add_argument("--size", default="800x480", help="window size when windowed (WxH)")
    parser.add_argument("--demo", action="store_true",
                        help="use a built-in stand-in server instead of kiosk.server_url")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="save what the screen shows to this file every few seconds "
                             "(for a machine with no screen, such as the demo's)")
    parser.add_argument("--screenshot-every", type=float, default=3.0, metavar="SECONDS",
                        help="how often --screenshot saves (default: 3)")
    parser.add_argument("--demo-resident", type=float, metavar="SECONDS",
                        help="(the demo) this long after start, a simulated resident files a "
                             "water-repair request by tapping the screen")
    parser.add_argument("--demo-tap-gap", type=float, default=1.5, metavar="SECONDS",
                        help="time between the simulated resident's taps (default: 1.5)")
    parser.add_argument("--demo-report", type=Path, metavar="JSON",
                        help="(the demo) once the resident's request is on the done screen, "
                             "write its number, QR link and offline flag to this file")
    return parser


def keep_screenshot(app: Any, path: Path, every_s: float) -> None:
    """Save the kiosk's screen to ``path`` every ``every_s`` seconds while the app runs.

    Written to a temporary file and renamed, so a person opening the PNG never sees half of one.
    """
    from kivy.clock import Clock

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part.png")

    def save(_dt: float) -> None:
        if app.root is None:
            return
        try:
            app.root.export_to_png(str(partial))
            os.replace(partial, path)
        except Exception:  # a failed picture must never stop the kiosk
            log.exception("could not save the screenshot %s", path)

    Clock.schedule_interval(save, max(0.5, every_s))


def configure_kivy(*, fullscreen: bool, size: tuple[int, int]) -> None:
    """Set Kivy's window and input before the window exists."""
    # Kivy must not read our argv, and its log lines go through Python logging (journald).
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    if fullscreen:
        # On the Pi the touchscreen comes in through the [input] providers of
        # config/kiosk/kivy-config.ini; SDL's mouse events made from the same touches would
        # double every tap, so no mouse provider is added here.
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
    else:
        # A long press with the mouse must not become a red multitouch dot (right click).
        Config.set("input", "mouse", "mouse,disable_multitouch")
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(argv or []))
    settings = load_kiosk_settings(args.config)
    if not settings.kiosk.font_path.is_file():
        raise ConfigError("kiosk.font_path", f"no font file at {settings.kiosk.font_path} "
                          "(install fonts-wqy-microhei)", settings.source)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise ConfigError("--size", "must look like 800x480") from None
    fullscreen = settings.kiosk.fullscreen if args.fullscreen is None else args.fullscreen
    configure_kivy(fullscreen=fullscreen, size=(width, height))

    from kiosk.app import KioskApp
    from kiosk.voice import EspeakSpeaker, SilentSpeaker

    transport = None
    if args.demo:
        from kiosk.tooling.demo import DemoServer

        transport = DemoServer(public_url=settings.http.public_url).transport()
    kiosk = settings.kiosk
    speaker = (EspeakSpeaker(kiosk.voice_command, speed=kiosk.voice_speed,
                             volume=kiosk.voice_volume) if kiosk.voice
               else SilentSpeaker())
    log.info("kiosk %s starting (server %s%s)", settings.kiosk.kiosk_id, settings.kiosk.server_url,
             ", demo" if args.demo else "")
    app = KioskApp(settings, transport=transport, speaker=speaker)
    if args.screenshot:
        keep_screenshot(app, Path(args.screenshot), args.screenshot_every)
        log.info("saving what the kiosk shows to %s every %.0f s", args.screenshot,
                 args.screenshot_every)
    if args.demo_resident is not None:
        from kiosk.tooling.walkthrough import DemoResident

        # Kivy's clock holds its callbacks weakly: the app keeps the resident alive.
        app.demo_resident = DemoResident(app, delay_s=args.demo_resident,
                                         gap_s=args.demo_tap_gap, report=args.demo_report)
    app.run()
    return 0
