"""Issue 14 item 14: the pages send a Content-Security-Policy that allows only their own files,
and (tests/web/conftest.py's page fixtures) the browser walks report no violation of it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import watch_csp


def test_pages_send_a_policy_of_their_own_files_only(client: TestClient) -> None:
    policy = client.get("/login").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    missing = client.get("/r/no-such-token-at-all-here")
    assert "Content-Security-Policy" in missing.headers  # error pages too


@pytest.mark.browser
def test_the_watch_hears_injected_markup(live_url: str, browser) -> None:  # type: ignore[no-untyped-def]
    """The fixtures' check is not vacuous: markup slipped into a page cannot run or restyle,
    and the browser says so."""
    context = browser.new_context()
    violations = watch_csp(context)
    page = context.new_page()
    page.goto(f"{live_url}/login")
    page.evaluate("""() => {
        const s = document.createElement("script"); s.textContent = "window.ran = 1";
        document.body.appendChild(s);
        document.body.insertAdjacentHTML("beforeend", '<p style="color:red">x</p>');
    }""")
    page.wait_for_timeout(200)
    ran = page.evaluate("() => window.ran")
    context.close()
    assert ran is None
    assert any("script-src" in v for v in violations), violations
    assert any("style-src" in v for v in violations), violations
