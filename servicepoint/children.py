"""The processes ``servicepoint demo`` starts: each in its own process group, so it and anything
it starts stop together; and the small waits the supervisor needs (a free port, an HTTP answer).

Used by servicepoint/demo.py (the supervisor); imports nothing of the apps.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["Child", "free_port_from", "wait_http"]

log = logging.getLogger("servicepoint.demo")


@dataclass
class Child:
    """One process the demo starts, in its own process group so that it and anything it
    starts can be stopped together."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log_path.open("ab")
        self.process = subprocess.Popen(self.argv, stdout=handle, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env={**os.environ, **self.env},
                                        start_new_session=True)
        handle.close()
        log.info("started %s (pid %s), log: %s", self.name, self.process.pid, self.log_path)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        pid = self.process.pid
        if self.alive():
            _signal_group(pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0fs; killing it", self.name, timeout)
        # Whatever is left in its group (the process itself, or anything it started) goes now.
        _signal_group(pid, signal.SIGKILL)
        self.process.wait()
        log.info("stopped %s", self.name)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pid, signum)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def free_port_from(start: int) -> int:
    port = start
    while not _port_free(port):
        port += 1
    return port


def wait_http(url: str, child: Child, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited; see {child.log_path}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{child.name} did not answer at {url} within {timeout:.0f}s")
