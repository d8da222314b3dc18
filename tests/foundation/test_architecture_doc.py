"""docs/ARCHITECTURE.md stays true at file level: every file or folder it names exists.

A reader follows the flows by opening the files they name; a renamed module must take the doc
with it, or this test fails and says which names went stale.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "ARCHITECTURE.md"
TOP = ("foundation", "server", "sensors", "kiosk", "servicepoint", "tests", "config", "docs")
# A path: one of the top folders, then path segments; a file ends in an extension, a folder in /.
PATH = re.compile(rf"\b(?:{'|'.join(TOP)})/[\w./-]*[\w/]")


def named_paths(text: str) -> set[str]:
    found = set()
    for match in PATH.finditer(text):
        path = match.group(0).rstrip(".")
        if "<" in path or "…" in path:
            continue
        found.add(path)
    return found


def test_every_path_in_the_architecture_doc_exists() -> None:
    paths = named_paths(DOC.read_text(encoding="utf-8"))
    assert len(paths) > 40, "the doc should name the files of both flows"
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert missing == [], f"docs/ARCHITECTURE.md names files that do not exist: {missing}"


def test_both_flows_name_their_stations() -> None:
    text = DOC.read_text(encoding="utf-8")
    flow1, flow2 = text.split("## Flow 1")[1].split("## Flow 2")
    for station in ("server/sensing/ingest.py", "server/sensing/processing.py",
                    "server/sensing/readings.py", "server/sensing/rule_state.py",
                    "server/sensing/maintenance.py", "server/alerts/outbox.py"):
        assert station in flow1, station
    for station in ("kiosk/flow/", "kiosk/api.py", "server/api/routes/public.py",
                    "server/services/requests.py", "server/web/phone.py"):
        assert station in flow2, station
