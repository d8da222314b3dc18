"""/metrics as Prometheus reads it (server/sensing/metrics.py, server/api/timing.py): request
durations by route template (never a resident's token), the outbox's waiting alerts read when
scraped, database pool waits, the counters under the names the docs give; and the alert rules an
installer copies (config/prometheus/) name only what the server exposes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from server.settings import ServerSettings
from tests.server.conftest import file_request

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO / "config" / "prometheus"


def scrape(client: TestClient) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    """The page parsed as Prometheus does: family name -> its samples."""
    reply = client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    return {family.name: [(s.name, dict(s.labels), s.value) for s in family.samples]
            for family in text_string_to_metric_families(reply.text)}


def test_request_durations_are_labelled_by_route_template_and_status(
        client: TestClient) -> None:
    filed = file_request(client)
    token = str(filed["phone_token"])
    for _ in range(3):
        assert client.get(f"/r/{token}").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    families = scrape(client)
    durations = families["servicepoint_http_request_duration_seconds"]
    counts = {(labels["route"], labels["method"], labels["status"]): value
              for name, labels, value in durations if name.endswith("_count")}
    assert counts[("/r/{token}", "GET", "200")] == 3
    assert counts[("/api/v1/requests", "POST", "201")] == 1
    assert counts[("unmatched", "GET", "404")] == 1
    # The token a resident's phone carries never becomes a label.
    assert not any(token in labels["route"] for _n, labels, _v in durations)


def test_the_pool_wait_and_the_counters_keep_their_documented_names(client: TestClient) -> None:
    file_request(client)
    text = client.get("/metrics").text
    families = scrape(client)
    waits = {name: value for name, _labels, value in
             families["servicepoint_db_pool_wait_seconds"]}
    assert waits["servicepoint_db_pool_wait_seconds_count"] >= 1  # the filing took a connection
    # Counters read as they always have: name{labels} value, and 0 before anything happened.
    assert "servicepoint_mqtt_messages_stored_total 0.0" in text
    assert "servicepoint_ingest_lag_seconds_count 0.0" in text
    assert not re.search(r"^\w+_created[{ ]", text, re.MULTILINE)  # no doubled series


def test_alerts_waiting_in_the_outbox_are_counted_when_scraped(
        client: TestClient, settings: ServerSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    before = {labels["outbox"]: value for _n, labels, value in
              scrape(client)["servicepoint_outbox_pending"]}
    assert before == {"alerts": 0.0, "notifications": 0.0}
    # A kiosk's call for staff is an urgent alert; with no notifier running it waits.
    monkeypatch.setenv("SERVICEPOINT_ALERT_DUTY_WECOM_URL", "wecombot://dutykey")
    reply = client.post("/api/v1/kiosk/help", headers={"X-Kiosk-Key": settings.security.kiosk_key},
                        json={"kiosk_id": "K1", "place": "劳动路服务站门口", "screen": "review"})
    assert reply.json()["alerted"] is True
    after = {labels["outbox"]: value for _n, labels, value in
             scrape(client)["servicepoint_outbox_pending"]}
    assert after["alerts"] >= 1 and after["notifications"] == 0


WORKER = """
import sys
from server.sensing.metrics import Metrics
metrics = Metrics()
metrics.inc("servicepoint_filings_refused_total", by="address", route="api")
metrics.observe("servicepoint_http_request_duration_seconds", 0.02, route="/r/{token}",
                method="GET", status="200")
if sys.argv[1] == "render":
    print(metrics.render())
"""


def test_worker_processes_figures_are_summed(tmp_path: Path) -> None:
    """Several workers (server/workers.py): whichever answers /metrics gives every one's sum."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(REPO)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER, "count"], env=env, check=True, cwd=REPO)
    text = subprocess.run([sys.executable, "-c", WORKER, "render"], env=env, check=True,
                          cwd=REPO, capture_output=True, text=True).stdout
    assert 'servicepoint_filings_refused_total{by="address",route="api"} 3.0' in text
    assert re.search(r'servicepoint_http_request_duration_seconds_count\{method="GET",'
                     r'route="/r/\{token\}",status="200"\} 3.0', text)


def _exposed(client: TestClient) -> set[str]:
    """Every series name the server can expose, whether or not it has a sample yet."""
    suffixes = {"histogram": ("_bucket", "_sum", "_count"), "counter": ("_total",)}
    names: set[str] = set()
    for family in text_string_to_metric_families(client.get("/metrics").text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ()))
    return names


def test_the_shipped_alert_rules_parse_and_name_only_what_the_server_exposes(
        client: TestClient) -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    exposed = _exposed(client) | {"up"}  # Prometheus's own, for a server that stops answering
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 2
    functions = {"rate", "sum", "by", "histogram_quantile", "increase", "max_over_time", "le",
                 "job", "and", "or", "on", "max", "without"}
    for rule in alerts:
        assert rule["alert"] and rule["expr"] and rule["annotations"]["summary"]
        expr = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^]]*\]', "", str(rule["expr"]))
        names = {word for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr)
                 if word not in functions}
        assert names and names <= exposed, (rule["alert"], names - exposed)
    scrape_config = yaml.safe_load((PROMETHEUS / "servicepoint.yml").read_text())
    job = scrape_config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and job["static_configs"][0]["targets"]
    assert "alerts.yml" in " ".join(scrape_config["rule_files"])


def test_servicepoint_server_with_two_workers_sums_them_on_every_scrape(tmp_path: Path) -> None:
    """``servicepoint server`` with two worker processes (server/workers.py): each worker
    answers some requests, yet every scrape, whichever worker answers it, counts them all."""
    from tests.support.server import ServerProcess

    server = ServerProcess(tmp_path / "server", env={
        "SERVICEPOINT_HTTP__WORKERS": "2", "SERVICEPOINT_INGEST__ENABLED": "false",
        "NO_PROXY": "127.0.0.1"}).start()
    try:
        before = _healthz_count(server.url)
        for _ in range(12):  # fresh connections, so both workers take some
            assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
        seen = {_healthz_count(server.url) - before for _ in range(6)}
        assert seen == {12}
        workers = set(re.findall(r"worker (\d+) (?:holds the duties|serves HTTP only)",
                                 server.log_path.read_text()))
        assert len(workers) == 2
    finally:
        server.stop()


def _healthz_count(url: str) -> float:
    text = httpx.get(url + "/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "servicepoint_http_request_duration_seconds_count"
               and sample.labels["route"] == "/healthz")


def test_the_deployment_guide_lists_every_metric_the_server_exposes(client: TestClient) -> None:
    """docs/DEPLOYMENT.md's table is what an installer reads: no metric missing, none made up."""
    guide = (REPO / "docs" / "DEPLOYMENT.md").read_text()
    section = guide[guide.index("## 11. Metrics"):guide.index("## District")]
    documented = set(re.findall(r"^\| `(servicepoint_\w+)`", section, re.MULTILINE))
    exposed = set()
    for family in text_string_to_metric_families(client.get("/metrics").text):
        exposed.add(family.name + "_total" if family.type == "counter" else family.name)
    assert documented == exposed
