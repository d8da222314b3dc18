"""What an installer sees when a configuration file is wrong or a secret is public (issue 14,
items 9 and 16): the ``servicepoint`` command, run as on a Pi, stops with one line naming the
file and the key and exit code 78, never a uvicorn traceback; production refuses the demo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICEPOINT = Path(sys.executable).with_name("servicepoint")
CATEGORY = """[[category]]
code = "repair"
name_zh = "维修"
name_en = "Repair"
skill = "repair"
target_hours = 24
[[category.question]]
code = "kind"
label_zh = "类型"
label_en = "Kind"
choices = [["leak", "漏水", "Leak"], {second}]
"""
GOOD_SECRETS = {"SERVICEPOINT_SECRET_KEY": "s" * 40, "SERVICEPOINT_SECURITY__KIOSK_KEY": "k" * 32}


class Site:
    """A settings folder with its own categories, library rules, demo file and database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "servicepoint.toml"
        self.config.write_text('data_dir = "data"\n[ingest]\nenabled = false\n',
                               encoding="utf-8")
        self.categories = root / "categories.toml"
        self.categories.write_text(CATEGORY.format(second='["dry", "干", "Dry"]'),
                                   encoding="utf-8")
        shutil.copy(REPO / "config" / "demo-site.toml", root / "demo-site.toml")

    def run(self, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPOINT_")}
        return subprocess.run(
            [str(SERVICEPOINT), *argv], capture_output=True, text=True, timeout=120,
            cwd=self.root, env={**base, "SERVICEPOINT_CONFIG": str(self.config), **env})


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


def one_config_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 78, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "configuration error" in line]
    assert len(errors) == 1, done.stderr
    return errors[0]


@pytest.mark.parametrize(("file", "text", "key"), [
    ("categories.toml", CATEGORY.format(second='["leak", "漏", "Leak again"]'),
     "category[repair].question.0.choices"),
    ("library.toml", "[loans]\nmax_items = 0\n", "loans.max_items"),
    ("servicepoint.toml", "[site]\ntimezone = 'Asia/Changsha'\n", "site.timezone"),
])
def test_a_bad_config_file_stops_the_server_with_one_line_naming_file_and_key(
        site: Site, file: str, text: str, key: str) -> None:
    (site.root / file).write_text(text, encoding="utf-8")
    line = one_config_line(site.run("server", "--port", "1"))
    assert f"{site.root / file}: {key}: " in line


def test_production_refuses_seed_demo(site: Site) -> None:
    line = one_config_line(site.run("seed", "--demo", SERVICEPOINT_ENVIRONMENT="production",
                                    **GOOD_SECRETS))
    assert "seed --demo is refused" in line
    assert not (site.root / "data" / "servicepoint.db").exists()


def test_production_server_does_not_start_while_demo_sign_ins_work(site: Site) -> None:
    seeded = site.run("seed", "--demo")
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    line = one_config_line(site.run("server", "--port", "1", SERVICEPOINT_ENVIRONMENT="production",
                                    **GOOD_SECRETS))
    assert "sign-ins: admin, " in line and "demo passwords" in line
