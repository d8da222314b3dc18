"""Kiosk cold start: from launching a fresh Python process to an interactive home screen.

    .venv/bin/python bench/kiosk_startup.py            # 7 runs, headless (SDL offscreen)
    .venv/bin/python bench/kiosk_startup.py --runs 11 --display   # on the Pi's own screen

Each run is a new process, so imports, the window, GL, the CJK font and the KV rules are all
paid again. "Interactive" means: the home screen's service tiles are laid out, a frame has been
drawn, and the event loop is turning. The catalog comes from the on-disk cache, as on every boot
after the first; the server is the built-in demo (no network). Prints the median, min and max
start-up time and the resident memory (VmRSS, and the peak VmHWM) at that moment, and VmRSS
again once start-up has settled (SETTLE_S later, frames pumped, both apps alike), the figure
issue 21's target judges: settled RSS <= bare Kivy's + 25 MiB. Ends with SUMMARY lines for
bench/summary.py.

The kiosk runs as shipped: the pictograms on the tiles and the voice on (espeak-ng speaks the
home screen's greeting as the screen comes up; here into a pipe, ``--stdout``, since the machine
has no sound card). A second kiosk variant with the voice off shows what the voice costs.

The reference, run interleaved with the kiosk: a bare Kivy app (one label in the same CJK font)
from launch to its first frame, i.e. what Python, Kivy, SDL, GL and the font cost before any of
the kiosk's own code.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SETTLE_S = 2.0  # after the ready moment, before the settled reading (both apps alike)


def _memory() -> dict[str, int]:
    status = Path("/proc/self/status").read_text()
    return {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
            if line.startswith(("VmRSS", "VmHWM"))}


def _prepare_kivy(offscreen: bool) -> None:
    """What both children set before Kivy is imported: no argv parsing, logs through Python, no
    log file, the offscreen window where there is no screen, and the kiosk's window config."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    if offscreen:
        os.environ.setdefault("KIVY_WINDOW", "sdl2")
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    sys.path.insert(0, str(REPO))
    from kiosk.cli import configure_kivy

    configure_kivy(fullscreen=not offscreen, size=(800, 480))


def _bare_child(started: float, offscreen: bool) -> None:
    """The reference: a bare Kivy app (one label in the same CJK font) up to its first frame."""
    _prepare_kivy(offscreen)
    from kivy.app import App
    from kivy.base import EventLoop
    from kivy.core.text import DEFAULT_FONT, LabelBase
    from kivy.uix.label import Label

    from kiosk.settings import load_kiosk_settings

    font = load_kiosk_settings(REPO / "config" / "servicepoint.toml").kiosk.font_path

    class Bare(App):
        def build(self) -> Label:
            LabelBase.register(DEFAULT_FONT, str(font))
            return Label(text="社区服务站", font_size=48)

    app = Bare()
    app._run_prepare()
    while app.root.texture is None:
        EventLoop.idle()
    EventLoop.idle()
    ready = time.time() - started
    _report(ready, _memory())


def _settled(ready_at: float) -> dict[str, int]:
    """The memory once start-up has settled: frames pumped for SETTLE_S after the ready moment
    (the kiosk gives its freed heap back one second after start, kiosk/heap.py)."""
    from kivy.base import EventLoop

    while time.time() - ready_at < SETTLE_S:
        EventLoop.idle()
        time.sleep(1 / 60)
    return _memory()


def _report(ready: float, memory: dict[str, int], settled: dict[str, int] | None = None) -> None:
    settled = settled or _settled(time.time())
    print(json.dumps({"ready_s": ready, "rss_kb": memory["VmRSS"], "hwm_kb": memory["VmHWM"],
                      "settled_kb": settled["VmRSS"]}))
    sys.stdout.flush()
    os._exit(0)  # skip Kivy's teardown: it is not part of what is measured


def _child(data_dir: str, started: float, offscreen: bool, voice: bool) -> None:
    _prepare_kivy(offscreen)
    from kivy.base import EventLoop

    from kiosk.app import KioskApp
    from kiosk.settings import load_kiosk_settings
    from kiosk.tooling.demo import DemoServer
    from kiosk.voice import EspeakSpeaker, SilentSpeaker

    settings = load_kiosk_settings(REPO / "config" / "servicepoint.toml",
                                   env={"SERVICEPOINT_DATA_DIR": data_dir,
                                        "SERVICEPOINT_KIOSK__VOICE": str(voice).lower()})
    kiosk = settings.kiosk
    # As kiosk/cli.py picks it; --stdout because a machine without a sound card cannot play.
    speaker = (EspeakSpeaker(kiosk.voice_command + (" --stdout" if offscreen else ""),
                             speed=kiosk.voice_speed, volume=kiosk.voice_volume)
               if kiosk.voice else SilentSpeaker())
    app = KioskApp(settings, transport=DemoServer().transport(), speaker=speaker)
    app.prepare()
    tiles = app.root.get_screen("home").ids.tiles
    while (len(tiles.children) < 8 or tiles.children[0].width <= 0
           or getattr(tiles.children[0], "texture_of_picture", True) is None):  # with pictures
        EventLoop.idle()
    EventLoop.idle()  # one frame drawn with the tiles in place
    ready = time.time() - started
    while not app.catalog_loaded:  # let the first run fill the cache before exiting
        EventLoop.idle()
    _report(ready, _memory())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--display", action="store_true",
                        help="use the real display (full screen) instead of SDL offscreen")
    parser.add_argument("--child", nargs=2, metavar=("DATA_DIR", "STARTED"), help=argparse.SUPPRESS)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--silent", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.bare:
            _bare_child(float(args.child[1]), offscreen=not args.display)
        else:
            _child(args.child[0], float(args.child[1]), offscreen=not args.display,
                   voice=not args.silent)
        return 0
    import _common
    from _common import summary_line

    print(f"machine: {_common.machine()}", flush=True)
    data_dir = tempfile.mkdtemp(prefix="sp-kiosk-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPOINT_")}
    env["KIVY_HOME"] = tempfile.mkdtemp(prefix="sp-kivy-home-")

    def one_run(bare: bool = False, silent: bool = False) -> dict[str, float]:
        cmd = [sys.executable, __file__, "--child", data_dir, repr(time.time())]
        if args.display:
            cmd.append("--display")
        if bare:
            cmd.append("--bare")
        if silent:
            cmd.append("--silent")
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120,
                             check=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    one_run()  # fills the catalog cache and the OS file cache; not counted
    one_run(bare=True)
    results, silents, bares = [], [], []
    for _ in range(args.runs):  # interleaved, so all see the same moments of machine load
        results.append(one_run())
        silents.append(one_run(silent=True))
        bares.append(one_run(bare=True))
    print(f"kiosk cold start to interactive home, {args.runs} fresh processes each "
          f"({'display' if args.display else 'SDL offscreen, Mesa llvmpipe'}), 800x480:")
    for name, rows in (("kiosk", results), ("no voice", silents), ("bare Kivy", bares)):
        ready = [r["ready_s"] for r in rows]
        rss = [r["rss_kb"] / 1024 for r in rows]
        hwm = [r["hwm_kb"] / 1024 for r in rows]
        settled = [r["settled_kb"] / 1024 for r in rows]
        print(f"  {name:9s} start-up median {statistics.median(ready):.2f} s "
              f"(min {min(ready):.2f}, max {max(ready):.2f}); median RSS at ready "
              f"{statistics.median(rss):.1f} MiB, settled {statistics.median(settled):.1f} MiB "
              f"(min {min(settled):.1f}, max {max(settled):.1f}), peak (VmHWM) "
              f"{statistics.median(hwm):.0f} MiB")
    pairs = list(zip(results, bares, strict=True))
    ratio = statistics.median(r["ready_s"] / b["ready_s"] for r, b in pairs)
    extra = statistics.median((r["rss_kb"] - b["rss_kb"]) / 1024 for r, b in pairs)
    extra_settled = statistics.median((r["settled_kb"] - b["settled_kb"]) / 1024
                                      for r, b in pairs)
    print(f"  kiosk / bare Kivy: start-up x{ratio:.2f}; RSS {extra:+.1f} MiB over bare at ready, "
          f"{extra_settled:+.1f} MiB settled ({SETTLE_S:.0f} s later) (per run, then median)")
    print("targets (issue 21): start-up <= 2 s; settled RSS <= bare Kivy + 25 MiB")
    bare_settled = statistics.median(b["settled_kb"] / 1024 for b in bares)
    print(summary_line("kiosk-start", statistics.median(r["ready_s"] for r in results), "s",
                       reference=statistics.median(b["ready_s"] for b in bares),
                       measure="value", at_most=2.0,
                       what="Kiosk cold start to interactive home (reference: bare Kivy)"))
    print(summary_line("kiosk-rss-over-bare", bare_settled + extra_settled, "MiB",
                       reference=bare_settled, measure="over", at_most=25.0,
                       what="Kiosk RSS settled after start, over bare Kivy in the same run"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
