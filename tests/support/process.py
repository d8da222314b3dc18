"""Stopping a child process the way a service manager would: politely, then firmly."""

from __future__ import annotations

import signal
import subprocess


def stop(process: subprocess.Popen[bytes] | None, *, timeout: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL if it will not go."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def kill(process: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL at once: a power cut, as far as the process can tell."""
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()
