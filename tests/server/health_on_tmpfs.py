"""Run inside a private mount namespace by test_hardening_health.py: the server's data folder
and database on a real 4 MB tmpfs, /healthz asked before and after the file system fills up.

    python -m tests.server.health_on_tmpfs MOUNTPOINT TEMPLATE_DB CONFIG   # prints one JSON line
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from server.api import health
from server.app import create_app
from server.settings import load_server_settings


def main(mount: Path, template: Path, config: Path) -> None:
    shutil.copy(template, mount / "servicepoint.db")
    settings = load_server_settings(config, env={
        "SERVICEPOINT_DATABASE_URL": f"sqlite:///{mount / 'servicepoint.db'}",
        "SERVICEPOINT_DATA_DIR": str(mount), "SERVICEPOINT_ENVIRONMENT": "test"})
    health.MIN_FREE_BYTES = 256 * 1024  # the whole file system is 4 MB
    app = create_app(settings, background=False)
    with TestClient(app) as client:
        before = client.get("/healthz")
        filler = (mount / "filler").open("wb", buffering=0)
        try:
            while True:
                filler.write(b"\0" * 65536)
        except OSError:
            pass
        finally:
            filler.close()
        after = client.get("/healthz")
    print(json.dumps({"before": [before.status_code, before.json()],
                      "after": [after.status_code, after.json()]}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
