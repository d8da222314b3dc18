"""``GET /api/v1/site`` says whether its links open anywhere or only on the service point's own
network (issue 19), as the doctor and the kiosk's done screen judge it (foundation/reach.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import load_server_settings
from tests.server.conftest import CONFIG


@pytest.mark.parametrize(("public_url", "reach"), [
    ("http://127.0.0.1:8080", "lan"),
    ("http://192.168.1.20", "lan"),
    ("https://sp.example.cn", "anywhere"),
])
def test_the_site_says_who_can_open_its_links(db_url: str, tmp_path: Path, public_url: str,
                                              reach: str) -> None:
    settings = load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": db_url, "SERVICEPOINT_DATA_DIR": str(tmp_path / "data"),
        "SERVICEPOINT_ENVIRONMENT": "test", "SERVICEPOINT_HTTP__PUBLIC_URL": public_url})
    app = create_app(settings, background=False)
    try:
        with TestClient(app) as client:
            site = client.get("/api/v1/site").json()
    finally:
        app.state.engine.dispose()
    assert site["public_url"] == public_url
    assert site["links_reachable"] == reach
