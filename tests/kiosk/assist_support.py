"""The real server for the kiosk's help tests (呼叫工作人员, 查进度): the server's app on a migrated
SQLite database with the demo site, served by uvicorn in a thread on a free port, with a
:class:`~server.alerts.RecordingNotifier` as its notifier (the notice loop runs and delivers to
it, as it would to WeCom) and a clock the test moves.

    with live_server(tmp_path, clock) as (url, notifier):
        kiosk = make_kiosk(real_server_url=url)
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.alerts import RecordingNotifier
from tests.server.conftest import CONFIG, FakeClock, _prepare
from tests.support.ports import free_port, wait_for_port

__all__ = ["DUTY_URL_ENV", "FakeClock", "live_server", "prepared_database"]

DUTY_URL_ENV = "SERVICEPOINT_ALERT_DUTY_WECOM_URL"


def prepared_database(folder: Path) -> Path:
    """A migrated database with the categories and the demo site, made once per folder."""
    path = folder / "template.db"
    if not path.exists():
        _prepare(f"sqlite:///{path}")
    return path


@contextmanager
def live_server(workdir: Path, template: Path, clock: FakeClock
                ) -> Iterator[tuple[str, RecordingNotifier]]:
    import uvicorn

    from server.app import create_app
    from server.settings import load_server_settings

    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "servicepoint.db"
    shutil.copy(template, database)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": f"sqlite:///{database}",
        "SERVICEPOINT_DATA_DIR": str(workdir / "data"),
        "SERVICEPOINT_ENVIRONMENT": "test",
        "SERVICEPOINT_HTTP__PUBLIC_URL": url,
    })
    notifier = RecordingNotifier()
    app = create_app(settings, clock=clock, background=False, notifier=notifier)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    try:
        yield url, notifier
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()
