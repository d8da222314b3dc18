"""Kiosk screen switches: the frame time of a switch, and resident memory after walking every
screen 100 times.

    .venv/bin/python bench/kiosk_walk.py                 # 100 walks, headless (SDL offscreen)
    .venv/bin/python bench/kiosk_walk.py --walks 20      # a quicker look

The app is built as kiosk/tooling/screenshots.py builds it: the built-in demo server (no network), a
manual clock, 800x480, in a fresh process of its own (the measurement runs in a child process so
that nothing the driver imported counts in its memory). One walk puts the app into every scene
of ``kiosk.tooling.scenes.SCENES`` in turn, through the same flow calls a resident's taps make.

Frame time of a switch: from the scene's first flow call until one frame has been drawn and
finished (``EventLoop.idle()`` then ``glFinish()``, so Mesa llvmpipe has really rasterised it).
Kivy's frame-rate cap (maxfps, 60) is switched off for the measurement, so the figure is the work
of the switch and not the wait for the next 1/60 s tick. One frame completes a switch (the frames
after it have nothing left to redraw; the walk pumps three of them before the next scene). A
scene starts from the home screen and replays every tap to its state, saving the draft each
time, so the flow part is an upper bound for one tap's switch; the two parts are printed apart.
Walk 1 is counted as a warm-up for the timings (the first visit to each screen builds its
widgets and glyph textures) and is reported on its own. Memory is VmRSS from /proc/self/status
after walk 1 and after the last walk, with a ``gc.collect()`` before each reading; growth is the
difference. Target (issue 21): growth <= 5 MiB; the resident memory after start is
bench/kiosk_startup.py's figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child(walks: int) -> None:
    sys.path.insert(0, str(REPO))
    import gc
    import logging

    from kiosk.tooling.screenshots import demo_app, headless

    headless((800, 480))
    logging.basicConfig(level=logging.WARNING)
    from kivy.config import Config

    Config.set("graphics", "maxfps", "0")
    from kivy.base import EventLoop
    from kivy.graphics.opengl import glFinish

    from kiosk.tooling.scenes import SCENES

    app, clock = demo_app(Path(tempfile.mkdtemp(prefix="sp-kiosk-walk-")))
    for _ in range(5):
        EventLoop.idle()
    rss_start = _rss_mib()

    def settle() -> None:
        # Let anything a switch scheduled for later frames (layouts, clock callbacks) run, so the
        # next switch starts from a quiet screen and is not charged for this one.
        for _ in range(3):
            EventLoop.idle()

    first: list[float] = []
    later: list[float] = []
    flow_part: list[float] = []  # of ``later``: the flow calls and app.sync() (draft saved)
    draw_part: list[float] = []  # of ``later``: the frame (layout, canvas, GL, glFinish)
    slowest: dict[str, float] = {}
    rss_after_first = rss_start
    rss_trace: list[tuple[int, float]] = []  # (walks done, MiB) every 10 walks
    for walk in range(walks):
        for name, scene in SCENES.items():
            t0 = time.perf_counter()
            scene(app, clock)
            t1 = time.perf_counter()
            EventLoop.idle()
            glFinish()
            t2 = time.perf_counter()
            elapsed = (t2 - t0) * 1000
            if walk == 0:
                first.append(elapsed)
            else:
                later.append(elapsed)
                flow_part.append((t1 - t0) * 1000)
                draw_part.append((t2 - t1) * 1000)
                slowest[name] = max(slowest.get(name, 0.0), elapsed)
            settle()
        if walk == 0:
            gc.collect()
            rss_after_first = _rss_mib()
        if (walk + 1) % 10 == 0 or walks <= 20:
            gc.collect()
            rss_trace.append((walk + 1, _rss_mib()))
    gc.collect()
    rss_end = _rss_mib()
    by_scene = sorted(slowest.items(), key=lambda kv: -kv[1])[:3]
    print(json.dumps({"scenes": len(SCENES), "walks": walks, "first_ms": first,
                      "later_ms": later, "flow_ms": flow_part, "draw_ms": draw_part,
                      "rss_start": rss_start,
                      "rss_after_first": rss_after_first, "rss_end": rss_end,
                      "rss_trace": rss_trace,
                      "slowest": by_scene}))
    sys.stdout.flush()
    os._exit(0)  # skip Kivy's teardown: it is not part of what is measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--walks", type=int, default=100)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.walks)
        return 0
    import _common
    from _common import median, percentile, summary_line

    print(f"machine: {_common.machine()}", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPOINT_")}
    env["KIVY_HOME"] = tempfile.mkdtemp(prefix="sp-kivy-home-")
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, __file__, "--child", "--walks", str(args.walks)],
                         env=env, capture_output=True, text=True, timeout=1800, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    wall = time.monotonic() - t0
    first, later = result["first_ms"], result["later_ms"]
    print(f"kiosk screen walk: {result['scenes']} scenes x {result['walks']} walks in one fresh "
          f"process (SDL offscreen, Mesa llvmpipe, 800x480, maxfps off), {wall:.0f} s in all")
    print(f"  switch frame time, walk 1 (first visits): median {median(first):.1f} ms, "
          f"p95 {percentile(first, 95):.1f} ms, max {max(first):.1f} ms")
    if later:
        print(f"  switch frame time, walks 2-{result['walks']} ({len(later)} switches): median "
              f"{median(later):.1f} ms, p95 {percentile(later, 95):.1f} ms, "
              f"p99 {percentile(later, 99):.1f} ms, max {max(later):.1f} ms")
        flow, draw = result["flow_ms"], result["draw_ms"]
        print(f"    of which the flow calls: median {median(flow):.1f} ms, p95 "
              f"{percentile(flow, 95):.1f} ms; the frame: median {median(draw):.1f} ms, p95 "
              f"{percentile(draw, 95):.1f} ms")
        print("  slowest scenes (max ms): " + ", ".join(
            f"{name} {ms:.1f}" for name, ms in result["slowest"]))
    growth = result["rss_end"] - result["rss_after_first"]
    print(f"  memory: RSS {result['rss_start']:.1f} MiB before walking, "
          f"{result['rss_after_first']:.1f} MiB after walk 1, {result['rss_end']:.1f} MiB after "
          f"walk {result['walks']}; growth {growth:+.1f} MiB")
    if result["rss_trace"]:
        print(f"  RSS every {1 if result['walks'] <= 20 else 10} walk(s) (MiB): " + ", ".join(
            f"{walks}: {mib:.1f}" for walks, mib in result["rss_trace"]))
    print("target (issue 21): growth <= 5 MiB from walk 1 to the last walk")
    print(summary_line("kiosk-walk-growth", growth, "MiB", measure="value", at_most=5.0,
                       what=f"Kiosk RSS growth over {result['walks']} walks of every screen "
                            "(after walk 1 to the last)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
