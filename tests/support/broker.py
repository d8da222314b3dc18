"""A private Mosquitto broker on a free loopback port, as a child process.

    broker = MosquittoBroker(tmp_path)
    broker.start()
    ... broker.url  # mqtt://127.0.0.1:PORT
    broker.stop()   # or broker.kill() / broker.restart()

With ``users={"name": "password"}`` the broker refuses anonymous clients; ``acl`` is the text of an
ACL file. ``persistence=True`` keeps sessions and queued messages across a restart, as a real
deployment does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support import process
from tests.support.ports import free_port, wait_for_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


class MosquittoBroker:
    def __init__(
        self,
        workdir: Path,
        *,
        users: dict[str, str] | None = None,
        acl: str | None = None,
        persistence: bool = False,
        port: int | None = None,
        extra: str = "",
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.users = users
        self.acl = acl
        self.persistence = persistence
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def url_for(self, user: str) -> str:
        assert self.users is not None
        return f"mqtt://{user}:{self.users[user]}@127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        lines = [f"listener {self.port} 127.0.0.1", "log_dest stderr", "log_type error",
                 "log_type warning", "max_queued_messages 100000"]
        if self.users:
            passwd = self.workdir / "passwd"
            passwd.write_text("")
            passwd.chmod(0o600)
            for user, password in self.users.items():
                subprocess.run([MOSQUITTO_PASSWD, "-b", str(passwd), user, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        if self.acl is not None:
            acl_path = self.workdir / "acl"
            acl_path.write_text(self.acl)
            lines.append(f"acl_file {acl_path}")
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.workdir}/",
                      "autosave_interval 1"]
        else:
            lines.append("persistence false")
        if os.geteuid() == 0 and "user " not in self.extra:
            # As root Mosquitto drops to the `mosquitto` user, which cannot read the password
            # file or write the store in a test's private temp folder (CI runs as root).
            lines.append("user root")
        if self.extra:
            lines.append(self.extra)
        config = self.workdir / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n")
        return config

    def start(self) -> MosquittoBroker:
        config = self._write_config()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=log, stderr=log)
        wait_for_port(self.port, timeout=10)
        return self

    def stop(self) -> None:
        process.stop(self.process)
        self.process = None

    def kill(self) -> None:
        process.kill(self.process)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
