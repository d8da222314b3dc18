"""Issue 14 item 8: wrong passwords cannot lock someone out from elsewhere, parallel guesses are
counted as they arrive, and password checks (64 MiB of Argon2 each) run only a few at a time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from server import security
from tests.server.conftest import FakeClock

LOGIN = "/api/v1/auth/login"


def _from(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, client=(address, 40000))


def test_a_right_password_from_another_address_gets_in(app, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    with _from(app, "10.0.0.66") as intruder, _from(app, "10.0.0.5") as desk:
        codes = [intruder.post(LOGIN, json={"username": "staff", "password": "x"}).status_code
                 for _ in range(7)]
        assert codes == [401] * 5 + [429] * 2
        assert desk.post(LOGIN, json={"username": "staff", "password": "staff-demo"}
                         ).status_code == 200
        # The intruder's address is still held back, for the right password too, until later.
        assert intruder.post(LOGIN, json={"username": "staff", "password": "staff-demo"}
                             ).status_code == 429
        clock.advance(minutes=6)
        assert intruder.post(LOGIN, json={"username": "staff", "password": "staff-demo"}
                             ).status_code == 200


def test_one_address_trying_many_usernames_is_held_back(app) -> None:  # type: ignore[no-untyped-def]
    with _from(app, "10.0.0.66") as intruder:
        codes = [intruder.post(LOGIN, json={"username": f"user{n}", "password": "x"}).status_code
                 for n in range(25)]
    assert codes.count(401) == 20 and codes[20:] == [429] * 5


def test_parallel_wrong_passwords_are_counted_as_they_arrive(app) -> None:  # type: ignore[no-untyped-def]
    with _from(app, "10.0.0.66") as intruder, ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda _: intruder.post(
            LOGIN, json={"username": "staff", "password": "x"}).status_code, range(20)))
    assert 1 <= codes.count(401) <= 5 and codes.count(429) == 20 - codes.count(401)


def test_password_checks_run_a_few_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    running = peak = 0
    lock = threading.Lock()
    real_verify = security._hasher.verify

    def watched(password_hash: str, password: str) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        try:
            return real_verify(password_hash, password)
        finally:
            with lock:
                running -= 1

    hashed = security.hash_password("right-password")

    class Watched:
        verify = staticmethod(watched)

    monkeypatch.setattr(security, "_hasher", Watched())
    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(lambda n: security.verify_password(
            hashed, "right-password" if n % 2 else "wrong"), range(24)))
    assert results == [n % 2 == 1 for n in range(24)]
    assert peak == 2  # 24 at once would hold 24 x 64 MiB
