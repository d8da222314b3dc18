"""Each program installs and starts with its own extra: a sensor-only Pi has no FastAPI or Kivy.

pyproject.toml keeps in the base dependencies only what every program needs, and each program's
packages in its extra (``server``, ``sensors``, ``kiosk``). Two checks keep that true:

- every third-party module a program's package imports is installed by the base dependencies or
  that program's extra (read from the source, so a new import without its extra fails here);
- the program's command starts its settings with the other programs' packages made
  unimportable (a meta-path finder that refuses them), in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
OURS = {"foundation", "servicepoint", "server", "sensors", "kiosk", "tests"}


def _name(requirement: str) -> str:
    for stop in "[<>=!~; ":
        requirement = requirement.split(stop)[0]
    return requirement.lower().replace("_", "-")


def installed_with(extra: str) -> set[str]:
    project = PYPROJECT["project"]
    return {_name(r) for r in project["dependencies"] + project["optional-dependencies"][extra]}


def third_party_imports(package: str) -> set[str]:
    """Top-level names of the modules ``package`` imports that are neither ours nor stdlib."""
    found: set[str] = set()
    for path in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return {name for name in found
            if name not in OURS and name not in sys.stdlib_module_names and name != "__future__"}


@pytest.mark.parametrize("package", ["server", "sensors", "kiosk"])
def test_every_import_of_a_program_comes_with_its_extra(package: str) -> None:
    distributions = packages_distributions()
    wanted = installed_with(package)
    missing = {}
    for module in sorted(third_party_imports(package)):
        names = {_name(d) for d in distributions.get(module, [])}
        assert names, f"{package} imports {module}, which no installed distribution provides"
        if not names & wanted:
            missing[module] = sorted(names)
    assert not missing, f"add to the [{package}] extra in pyproject.toml: {missing}"


@pytest.mark.parametrize(("extra", "absent"), [
    ("sensors", {"fastapi", "sqlalchemy", "alembic", "uvicorn", "kivy", "httpx"}),
    ("kiosk", {"fastapi", "sqlalchemy", "alembic", "uvicorn", "paho-mqtt", "gpiozero"}),
])
def test_a_programs_extra_leaves_out_the_others_packages(extra: str, absent: set[str]) -> None:
    assert not installed_with(extra) & absent


# Imports the program's command module the way `servicepoint <command>` does, and loads its
# settings, with the other programs' packages refused.
PROBE = textwrap.dedent("""
    import importlib, importlib.abc, json, sys

    BLOCKED = set(sys.argv[2].split(","))

    class Absent(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"{name} is not installed with this extra", name=name)
            return None

    sys.meta_path.insert(0, Absent())
    from servicepoint.cli import COMMANDS

    module, _, function = COMMANDS[sys.argv[1]][0].partition(":")
    getattr(importlib.import_module(module), function)
    settings = importlib.import_module(sys.argv[3])
    loaded = getattr(settings, sys.argv[4])(env={})
    print(json.dumps({"site": loaded.site.id, "modules": sorted(sys.modules)}))
""")


@pytest.mark.parametrize(("command", "blocked", "settings", "load"), [
    ("sensors", "fastapi,sqlalchemy,alembic,uvicorn,starlette,kivy,httpx",
     "sensors.settings", "load_node_settings"),
    ("kiosk", "fastapi,sqlalchemy,alembic,uvicorn,starlette,paho,gpiozero",
     "kiosk.settings", "load_kiosk_settings"),
])
def test_a_program_starts_without_the_other_programs_packages(
        command: str, blocked: str, settings: str, load: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, command, blocked, settings, load],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"site": "site-01"' in done.stdout


def test_the_sensor_node_checks_its_config_without_the_servers_packages() -> None:
    probe = textwrap.dedent("""
        import importlib.abc, sys

        class Absent(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"fastapi", "sqlalchemy", "kivy", "alembic"}:
                    raise ModuleNotFoundError(name, name=name)
                return None

        sys.meta_path.insert(0, Absent())
        from sensors.cli import main
        sys.exit(main(["--check-config"]))
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "node pump-room at site site-01" in done.stdout + done.stderr
