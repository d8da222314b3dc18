"""The commands an installer runs: seed the demo, start the server, and walk a request through
with plain HTTP, as the README shows with curl. Then restart: nothing is lost."""

import time
from pathlib import Path

import httpx

from tests.support.server import ServerProcess


def test_run_command_pieces_work_end_to_end(live_server: ServerProcess) -> None:
    base = live_server.url
    filed = httpx.post(base + "/api/v1/requests", json={
        "client_id": "readme-walkthrough-1", "category": "water_electric",
        "unit_code": "C01-B01-U1", "answers": {"problem": "leak"}}).json()
    token = filed["phone_token"]
    leader = live_server.login("leader1", "leader-demo")
    ticket = httpx.get(base + "/api/v1/tickets", headers=leader).json()["tickets"][0]
    httpx.post(f"{base}/api/v1/tickets/{ticket['id']}/dispatch", headers=leader,
               json={"volunteer_id": 1}).raise_for_status()
    volunteer = live_server.login("lijianguo", "volunteer-demo")
    httpx.post(f"{base}/api/v1/tickets/{ticket['id']}/accept", headers=volunteer
               ).raise_for_status()

    live_server.stop()
    live_server.start()  # a restart (or power cut) in the middle of the job

    httpx.post(f"{base}/api/v1/tickets/{ticket['id']}/resolve", headers=volunteer
               ).raise_for_status()  # sessions survive the restart too
    closed = httpx.post(f"{base}/api/v1/track/{token}/confirm", json={"rating": 4}).json()
    assert closed["status"] == "closed"
    assert [h["action"] for h in closed["history"]] == [
        "file", "dispatch", "accept", "resolve", "close"]
    page = httpx.get(filed["status_url"])
    assert page.status_code == 200 and "已关闭" in page.text


def test_a_burst_of_residents_filing_at_once_is_all_filed(tmp_path: Path) -> None:
    """More requests at once than the server has database connections (a queue of residents
    at the kiosk and phones at the same moment): each one is filed, none fails or times out.
    Without admission control, worker threads and pooled connections wait on each other until
    the pool's 30 s timeout and every request in the burst gets a 500. (The residents' phones
    are many addresses; here they all share loopback, so the per-address filing limit is
    lifted.)"""
    live_server = ServerProcess(tmp_path / "server", env={
        "SERVICEPOINT_SECURITY__FILING_PER_ADDRESS": "1000"}).start()
    try:
        _burst(live_server)
    finally:
        live_server.stop()


def _burst(live_server: ServerProcess) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def file(n: int) -> int:
        with httpx.Client(base_url=live_server.url, timeout=60) as client:
            return client.post("/api/v1/requests", json={
                "client_id": f"burst-{n:04d}", "category": "water_electric",
                "unit_code": "C01-B01-U1", "answers": {"problem": "leak"},
                "contact_name": "王阿姨", "contact_phone": "13800001234",
                "channel": "phone"}).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=100) as pool:
        codes = list(pool.map(file, range(200)))
    assert codes == [201] * 200
    assert time.monotonic() - started < 25  # the pool's timeout is 30 s: nobody waited for it
    staff = live_server.login("staff", "staff-demo")
    listed = httpx.get(live_server.url + "/api/v1/tickets", headers=staff,
                       params={"limit": 500}).json()
    assert len([t for t in listed["tickets"] if t["kind"] == "request"]) == 200
