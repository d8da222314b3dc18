"""The tank's level alarm lines on its admin page (issue 16: tanks' capacity, levels, cleaning
interval): a line out of order is answered beside the field with what was typed kept; good lines
are saved, audit-logged, and a blank one means the file's line again."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.audit_log import AuditEntry
from server.sensing.models import Tank
from tests.web.conftest import cookie_sign_in, csrf_of

URL = "/admin/equipment/tanks/tank-1"
FORM = {"version": "1", "name": "1号二次供水蓄水池", "building_code": "C01-B01",
        "capacity_l": "20000", "cleaning_interval_days": ""}


def _save(client: TestClient, **levels: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(URL).text)
    return client.post(URL, data={**FORM, **levels, "csrf_token": token},
                       follow_redirects=False)


def test_the_admin_sets_a_tanks_level_lines_in_order(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    bad = _save(client, low_raise_percent="40", low_clear_percent="30")
    assert bad.status_code == 422 and "报警线要按顺序" in bad.text
    assert 'value="40"' in bad.text and 'value="30"' in bad.text
    junk = _save(client, high_raise_percent="120")
    assert junk.status_code == 422 and "请填写 0 到 100 之间的百分数" in junk.text
    good = _save(client, low_raise_percent="40", low_clear_percent="45")
    assert good.status_code == 303
    with client.app.state.sessions() as db:
        tank = db.get(Tank, "tank-1")
        assert tank is not None and (tank.low_raise_percent, tank.low_clear_percent) == (40, 45)
        assert tank.high_raise_percent is None  # blank: the file's 90 %
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "tank.edit")).first()
        assert entry is not None and entry.after["low_raise_percent"] == 40
    assert 'value="40"' in client.get(URL).text
