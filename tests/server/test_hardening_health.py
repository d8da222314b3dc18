"""Issue 14 item 17: /healthz notices a full disk. The data folder is a real 4 MB tmpfs in a
private mount namespace (nothing on the host changes); a machine without that capability fails
this test in CI rather than skipping it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import CONFIG

REPO = Path(__file__).resolve().parents[2]


def _private_tmpfs_command(mount: Path, *program: str) -> list[str]:
    script = f'mount -t tmpfs -o size=4m tmpfs "{mount}" && exec "$0" "$@"'
    return ["unshare", "-m", "sh", "-c", script, *program]


def test_healthz_reports_a_full_disk(tmp_path: Path, sqlite_template: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        if os.environ.get("CI"):
            pytest.fail("a private tmpfs needs root and unshare, which CI has")
        pytest.skip("needs root and unshare for a private tmpfs")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        _private_tmpfs_command(mount, sys.executable, "-m", "tests.server.health_on_tmpfs",
                               str(mount), str(sqlite_template),
                               str(CONFIG / "servicepoint.toml")),
        capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    status, before = report["before"]
    assert status == 200 and before["status"] == "ok" and before["disk_write"] == "ok"
    assert 0 < before["disk_free_bytes"] <= 4 * 2**20
    status, after = report["after"]
    assert status == 503, after
    assert after["status"] == "degraded" and after["disk_write"] == "failed"
    assert after["disk_free_bytes"] < 64 * 1024
    assert "No space left" in after["problem"]
