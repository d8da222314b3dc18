"""Who may call what over HTTP, enumerated from the app itself rather than listed by hand, so a
staff route added tomorrow is checked without anyone remembering to.

Already covered elsewhere: a hand-picked list of staff routes, squad-leader grids and the login
throttle (tests/server/test_access.py); staff web pages (tests/web/test_access.py); the
phone-token lookup throttle (tests/server/test_requests.py, tests/web/test_phone.py).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from server.api.deps import kiosk_or_staff
from tests.server.conftest import file_request, sign_in

STAFF_ROLES = {"admin", "staff", "squad_leader"}


def _roles_of(call: Any) -> set[str] | None:
    """The roles a ``require_roles(...)`` check admits, read from its closure."""
    if getattr(call, "__qualname__", "").startswith("require_roles.") and call.__closure__:
        for cell in call.__closure__:
            if isinstance(cell.cell_contents, tuple):
                return set(cell.cell_contents)
    if getattr(call, "__qualname__", "").startswith("_roles.") and call.__closure__:
        for cell in call.__closure__:
            if isinstance(cell.cell_contents, tuple):
                return set(cell.cell_contents)
    return None


def _guards(dependant: Any) -> list[set[str]]:
    found = []
    for sub in dependant.dependencies:
        if sub.call is kiosk_or_staff:
            found.append(set(STAFF_ROLES))
        roles = _roles_of(sub.call)
        if roles is not None:
            found.append(roles)
        found += _guards(sub)
    return found


def staff_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route in the OpenAPI schema that only staff roles may call."""
    schema_paths = app.openapi()["paths"]
    routes = []
    for path, methods, dependant in _api_routes(app.routes):
        if path not in schema_paths:
            continue
        guards = _guards(dependant)
        if guards and all(g <= STAFF_ROLES for g in guards):
            routes.extend((method, path) for method in sorted(methods))
    return routes


def _api_routes(routes: Any) -> list[tuple[str, set[str], Any]]:
    """(full path, methods, dependant) of every API route. Older FastAPI flattens included
    routers into ``app.routes``; newer keeps them as branches whose effective contexts carry
    the full path."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((route.path, set(route.methods), route.dependant))
        elif hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                original = context.original_route
                if isinstance(original, APIRoute):
                    found.append((context.path or original.path, set(original.methods),
                                  original.dependant))
    return found


def _fill(path: str) -> str:
    """A plausible value for each path parameter (the guard runs before any lookup)."""
    values = {"asset_id": "ext-1", "ticket_id": "1", "alert_id": "1", "hold_id": "1",
              "volunteer_id": "1", "copy_id": "1", "barcode": "1", "patron_id": "1"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def test_the_enumeration_finds_the_staff_routes(app) -> None:  # type: ignore[no-untyped-def]
    found = staff_routes(app)
    paths = {path for _method, path in found}
    # A sanity check on the introspection itself, with routes known to be staff-only.
    assert {"/api/v1/tickets/{ticket_id}/dispatch", "/api/v1/figures/monthly",
            "/api/v1/dead-letters", "/api/v1/site/status"} <= paths
    assert "/api/v1/me/tasks" not in paths and "/api/v1/requests" not in paths
    assert len(found) >= 15


def test_every_staff_route_refuses_anonymous_callers_and_volunteers(
        client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    file_request(client)
    volunteer = sign_in(client, "lijianguo")
    failures = []
    for method, path in staff_routes(app):
        url = _fill(path)
        body = None if method in ("GET", "DELETE") else {}
        anonymous = client.request(method, url, json=body)
        as_volunteer = client.request(method, url, json=body, headers=volunteer)
        if anonymous.status_code != 401:
            failures.append(f"anonymous {method} {path} -> {anonymous.status_code}")
        if as_volunteer.status_code != 403:
            failures.append(f"volunteer {method} {path} -> {as_volunteer.status_code}")
        for reply in (anonymous, as_volunteer):
            assert reply.json()["error"]["code"], (method, path, reply.text)
    assert failures == []


def test_a_resident_token_reads_only_its_own_request(client: TestClient) -> None:
    mine = file_request(client, contact_name="王阿姨", contact_phone="13800001234")
    theirs = file_request(client, unit_code="C05-B01-U1", contact_name="李大爷",
                          contact_phone="13900005678")
    token = str(mine["phone_token"])
    seen = client.get(f"/api/v1/track/{token}")
    assert seen.status_code == 200 and seen.json()["number"] == mine["number"]
    assert theirs["number"] not in seen.text and "李大爷" not in seen.text
    # The phone token is a capability for one request, not a sign-in.
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/tickets", headers=bearer).status_code == 401
    assert client.get("/api/v1/tickets/1", headers=bearer).status_code == 401
    # A near miss of a real token finds nothing, and acting with one's own token touches only
    # one's own request.
    near = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/api/v1/track/{near}").status_code == 404
    assert client.post(f"/api/v1/track/{token}/cancel", json={"reason": "不用了"}
                       ).status_code == 200
    other = client.get(f"/api/v1/track/{theirs['phone_token']}").json()
    assert other["status"] == "new"


def test_the_public_open311_list_shows_no_contact_details_or_tokens(client: TestClient) -> None:
    filed = file_request(client, contact_name="王阿姨", contact_phone="13800001234",
                         client_id=uuid.uuid4().hex)
    listing = client.get("/open311/v2/requests.json")
    assert listing.status_code == 200
    text = listing.text
    for secret in ("13800001234", "王阿姨", str(filed["phone_token"])):
        assert secret not in text
    one = client.get(f"/open311/v2/requests/{filed['number']}.json")
    assert one.status_code == 200 and "13800001234" not in one.text
    assert str(filed["phone_token"]) not in one.text


@pytest.mark.parametrize("username", ["lijianguo", "leader1"])
def test_volunteers_and_leaders_cannot_read_dead_letters_or_edit_assets(
        client: TestClient, username: str) -> None:
    headers = sign_in(client, username)
    assert client.get("/api/v1/dead-letters", headers=headers).status_code == 403
    edit = client.put("/api/v1/assets/tanks/tank-1", headers=headers,
                      json={"name": "改名的水池", "capacity_l": 1, "cleaning_interval_days": 90})
    assert edit.status_code == 403
    staff = sign_in(client, "staff")
    assets = client.get("/api/v1/assets", headers=staff)
    assert assets.status_code == 200 and "tank-1" in assets.text
    assert "改名的水池" not in assets.text

