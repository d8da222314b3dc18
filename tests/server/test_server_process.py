"""The commands an installer runs: seed the demo, start the server, and walk a request through
with plain HTTP, as the README shows with curl. Then restart: nothing is lost."""

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
