"""Open311's Idempotency-Key is a capability too (issue 14 item 4): a key reused with another
body is a 409 that tells nothing of the first request; the same body is the same request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.open311.service import issue_key
from tests.server.conftest import FakeClock

POST = "/open311/v2/requests.json"


@pytest.fixture
def key(client: TestClient, app: Any, clock: FakeClock) -> Iterator[str]:
    with app.state.sessions() as db:
        yield issue_key(db, name="city-platform", now=clock())


def test_an_idempotency_key_reused_with_another_body_is_refused(client: TestClient,
                                                                key: str) -> None:
    headers = {"Idempotency-Key": "city-platform-req-78"}
    form = {"api_key": key, "service_code": "haircut", "address_id": "C01-B01",
            "attribute[when]": "any", "phone": "13800001234"}
    first = client.post(POST, data=form, headers=headers)
    other = client.post(POST, data={**form, "service_code": "water_electric",
                                    "attribute[problem]": "leak", "phone": "13900009999"},
                        headers=headers)
    again = client.post(POST, data=form, headers=headers)
    assert (first.status_code, other.status_code, again.status_code) == (201, 409, 201)
    filed = first.json()[0]
    assert filed["service_request_id"] not in other.text
    assert filed["service_notice"] not in other.text
    assert again.json()[0]["service_request_id"] == filed["service_request_id"]
