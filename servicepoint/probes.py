"""What the doctor's checks look at and what they answer: :class:`CheckResult` (OK, WARN or FAIL,
a message and a fix), :class:`Probes` (everything asked of the machine, which tests replace), and
:class:`Deployment` (each program's own settings, read from the same file and environment).

Used by servicepoint/checks.py (the checks) and servicepoint/doctor.py (the command).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from kiosk.settings import KioskAppSettings, load_kiosk_settings
from sensors.settings import NodeSettings, load_node_settings
from server.settings import ServerSettings, load_server_settings

__all__ = ["ENV_FILE", "CheckResult", "Deployment", "Probes", "load_deployment"]

Status = Literal["OK", "WARN", "FAIL"]
ENV_FILE = "/etc/servicepoint/env"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check. ``fix`` says what to do, empty when nothing needs doing."""

    name: str
    status: Status
    message: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4} {self.name:<8} {self.message}"
        return f"{text} Fix: {self.fix}" if self.fix else text


def _run_command(argv: Sequence[str]) -> str | None:
    """Standard output of a command, or None when it is missing, fails or hangs."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _http_get(url: str, timeout: float) -> tuple[int | None, str]:
    """The HTTP status of a GET of ``url`` (certificates verified), or None and why not."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 (http(s) only)
            return reply.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))


def _pi_model() -> str | None:
    try:
        model = Path("/proc/device-tree/model").read_bytes().decode(errors="replace")
    except OSError:
        return None
    model = model.rstrip("\x00").strip()
    return model if model.startswith("Raspberry Pi") else None


@dataclass
class Probes:
    """Everything the checks ask the machine, so tests can answer instead."""

    now: Callable[[], datetime] = datetime.now
    command: Callable[[Sequence[str]], str | None] = _run_command
    disk_usage: Callable[[Path], Any] = shutil.disk_usage
    pi_model: Callable[[], str | None] = _pi_model
    module_present: Callable[[str], bool] = field(
        default=lambda name: importlib.util.find_spec(name) is not None)
    path_exists: Callable[[Path], bool] = field(default=lambda path: path.exists())
    broker_timeout: float = 3.0
    # GET a URL: (status, "") or (None, why not); the public_url check asks <public_url>/healthz.
    http_get: Callable[[str, float], tuple[int | None, str]] = _http_get


@dataclass(frozen=True)
class Deployment:
    """What the doctor checks, seen the way each program sees it: the same file and environment
    read by the server's, the sensor node's and the kiosk's own settings."""

    server: ServerSettings
    node: NodeSettings
    kiosk: KioskAppSettings


def load_deployment(env: Mapping[str, str] | None = None) -> Deployment:
    """Each app's settings from the file and environment; ConfigError names the first bad key."""
    return Deployment(server=load_server_settings(env=env), node=load_node_settings(env=env),
                      kiosk=load_kiosk_settings(env=env))
