"""The admin pages for people (issue 16): volunteers, staff accounts, residents; the 管理 page
itself; each change in the audit log, each admin route closed to everyone but admins."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import cookie_sign_in


def test_the_admin_page_lists_the_sections_in_both_languages(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    page = client.get("/admin")
    assert page.status_code == 200
    assert "志愿者" in page.text and "操作记录" in page.text and 'href="/admin"' in page.text
    english = client.get("/admin?lang=en")
    assert "Volunteers" in english.text and "Audit log" in english.text


@pytest.mark.parametrize("who", ["staff", "leader1", "lijianguo"])
def test_only_admins_open_the_admin_page(client: TestClient, who: str) -> None:
    cookie_sign_in(client, who)
    assert client.get("/admin").status_code == 403
    assert 'href="/admin"' not in client.get("/account").text
