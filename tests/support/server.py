"""The real server as a child process on a free port, with its own seeded SQLite database.

    server = ServerProcess(tmp_path).start()      # db upgrade + seed --demo + server
    httpx.get(server.url + "/healthz")
    server.stop(); server.start()                  # same database, same port

``env`` adds environment variables (e.g. SERVICEPOINT_MQTT_URL). The process's log is in
``server.log_path``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import process
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, workdir: Path, *, env: dict[str, str] | None = None,
                 seed: bool = True, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "server.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SERVICEPOINT_")},
            "SERVICEPOINT_CONFIG": str(REPO / "config" / "servicepoint.toml"),
            "SERVICEPOINT_DATA_DIR": str(self.workdir / "data"),
            "SERVICEPOINT_HTTP__PUBLIC_URL": self.url,
            "SERVICEPOINT_ENVIRONMENT": "test",
            **(env or {}),
        }
        self.seed = seed
        self._seeded = False
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "servicepoint", *args], env=self.env,
                              cwd=REPO, capture_output=True, text=True, timeout=120, check=True)

    def start(self, timeout: float = 90.0) -> ServerProcess:
        if self.seed and not self._seeded:
            self.command("seed", "--demo")
            self._seeded = True
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "servicepoint", "server", "--port", str(self.port)],
            env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"server not up after {timeout}s")
            time.sleep(0.05)

    def stop(self) -> None:
        process.stop(self.process)
        self.process = None

    def kill(self) -> None:
        process.kill(self.process)
        self.process = None

    def login(self, username: str, password: str) -> dict[str, str]:
        """Authorization headers for a demo user."""
        reply = httpx.post(self.url + "/api/v1/auth/login",
                           json={"username": username, "password": password}, timeout=10)
        reply.raise_for_status()
        return {"Authorization": f"Bearer {reply.json()['access_token']}"}
