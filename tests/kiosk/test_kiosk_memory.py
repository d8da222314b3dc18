"""What keeps the kiosk small (issue 21): screens made on first use, and the C heap's free pages
handed back once start-up has settled (kiosk/heap.py). The figures themselves are measured by
bench/kiosk_startup.py and bench/kiosk_walk.py, not here."""

from __future__ import annotations

import ctypes
from pathlib import Path

from kiosk.flow import Step
from kiosk.heap import glibc_trim, release_free_memory


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_the_kiosk_starts_with_only_the_screen_it_shows(make_kiosk):
    kiosk = make_kiosk()
    root = kiosk.app.root
    assert [screen.name for screen in root.screens] == [Step.HOME]
    # Every step still has its screen, made when it is first asked for.
    assert {str(name) for name in root.screen_names} >= {step.value for step in Step}
    kiosk.tap_key("water_electric")
    assert kiosk.screen == "question"
    assert {str(screen.name) for screen in root.screens} == {"home", "question"}
    kiosk.tap(root.current_screen.ids.nav.ids.home)
    kiosk.tap_key("water_electric")  # the second visit finds the screen made the first time
    assert sum(str(screen.name) == "question" for screen in root.screens) == 1


def test_a_screen_made_after_large_text_is_large(make_kiosk):
    kiosk = make_kiosk()
    kiosk.tap(kiosk.app.root.current_screen.ids.text_size)  # 大字 on the home screen
    kiosk.tap_key("water_electric")  # the question screen is made only now
    assert kiosk.screen == "question"
    nav = kiosk.app.root.current_screen.ids.nav.ids
    assert min(nav.back.font_size, nav.home.font_size) >= 30 - 0.01


def test_freed_heap_pages_are_given_back_to_the_system():
    trim = glibc_trim()
    assert trim is not None, "the kiosk runs on glibc (Raspberry Pi OS, Debian)"
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    trim(0)
    # 40 MiB in small blocks (below malloc's mmap threshold, so they live on the heap), then all
    # freed but the last, which pins the heap's top: only a trim can give the pages back.
    blocks = [libc.malloc(4096) for _ in range(10_000)]
    for address in blocks:
        ctypes.memset(address, 1, 4096)
    for address in blocks[:-1]:
        libc.free(address)
    before = _rss_mib()
    assert release_free_memory()
    assert _rss_mib() < before - 20
    libc.free(blocks[-1])


def test_without_a_trim_nothing_is_claimed():
    calls: list[int] = []

    def trim(pad: int) -> int:
        calls.append(pad)
        return 0

    assert not release_free_memory(trim)
    assert calls == [0]


def test_the_heap_is_given_back_when_the_kiosk_clears_an_abandoned_journey(make_kiosk,
                                                                            monkeypatch):
    given_back: list[str] = []
    # The settle a second after start is the other caller; kept out so only the idle one counts.
    monkeypatch.setattr("kiosk.app.KioskApp._settle_heap", staticmethod(lambda _dt=0: None))
    kiosk = make_kiosk()
    # What the flow is at when the heap is given back (the screen itself may switch a frame
    # later). Counted from the tap on: a beat of the idle clock before it is not the journey's.
    monkeypatch.setattr("kiosk.app.release_free_memory",
                        lambda: given_back.append(str(kiosk.app.flow.step)) or True)
    kiosk.tap_key("water_electric")
    assert given_back == []  # a tap never waits for it
    kiosk.clock.advance(121)  # the resident walked away: warning, then the idle timeout
    kiosk.wait_until(lambda: kiosk.screen == "home", what="the idle timeout")
    kiosk.wait_until(lambda: given_back, what="the heap given back")
    assert given_back[-1].lower().endswith("home")
