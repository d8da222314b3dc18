"""``servicepoint posters`` (issue 15): one A4 poster per building of the demo site, each with a
QR code a phone camera reads, which opens the phone form with that building already chosen."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pyzbar.pyzbar import decode
from sqlalchemy import select

from server.app import create_app
from server.db import make_engine, session_factory
from server.models import Building
from server.printing import A4
from server.settings import load_server_settings
from servicepoint.cli import main
from tests.server.conftest import CONFIG, sqlite_template  # noqa: F401  (fixture)

PUBLIC_URL = "https://sp.example.cn"


@pytest.fixture
def site_db(sqlite_template: Path, tmp_path: Path,  # noqa: F811
            monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The demo site's database, and the settings a deployment's command would read."""
    target = tmp_path / "servicepoint.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite:///{target}"
    for name, value in {"SERVICEPOINT_CONFIG": str(CONFIG / "servicepoint.toml"),
                        "SERVICEPOINT_DATABASE_URL": url,
                        "SERVICEPOINT_DATA_DIR": str(tmp_path / "data"),
                        "SERVICEPOINT_ENVIRONMENT": "test",
                        "SERVICEPOINT_HTTP__PUBLIC_URL": PUBLIC_URL}.items():
        monkeypatch.setenv(name, value)
    yield url


def _buildings(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with session_factory(engine)() as db:
        found = {b.code: b.name for b in db.scalars(select(Building))}
    engine.dispose()
    return found


def test_every_building_gets_a_poster_whose_qr_opens_the_form_with_it_chosen(
        site_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "posters"
    assert main(["posters", "--site", "site-01", "--out", str(out)]) == 0
    buildings = _buildings(site_db)
    assert len(buildings) > 20  # the demo's 14 compounds
    pngs = sorted(out.glob("poster-*.png"))
    assert [p.stem.removeprefix("poster-") for p in pngs] == sorted(buildings)
    assert len(list(out.glob("poster-*.pdf"))) == len(buildings)
    assert f"{len(buildings)} posters" in capsys.readouterr().out

    app = create_app(load_server_settings(), background=False)
    with TestClient(app) as client:
        for png in pngs:
            code = png.stem.removeprefix("poster-")
            with Image.open(png) as poster:
                assert poster.size == A4 and round(poster.info["dpi"][0]) == 300
                found = decode(poster)
            assert len(found) == 1, png.name
            url = found[0].data.decode()
            assert url == f"{PUBLIC_URL}/new?building={code}"
            parts = urlsplit(url)
            form = client.get(f"{parts.path}?{parts.query}")
            assert form.status_code == 200, (code, form.text[:300])
            # The building is chosen: named on the page and carried by the form.
            assert f'name="building" value="{code}"' in form.text
            assert buildings[code] in form.text
    app.state.engine.dispose()


def test_one_building_again_and_the_wrong_site_is_refused(
        site_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "one"
    assert main(["posters", "--site", "site-01", "--out", str(out), "--building",
                 "C01-B02"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["poster-C01-B02.pdf",
                                                     "poster-C01-B02.png"]
    assert main(["posters", "--site", "site-01", "--out", str(out), "--building",
                 "C99-B09"]) == 1
    assert "no such buildings: C99-B09" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["posters", "--site", "site-77", "--out", str(out)])
    assert refused.value.code == 2
    assert "site-77" in capsys.readouterr().err
