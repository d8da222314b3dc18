"""Issue 14 item 13: tokens and client ids never reach the logs; a short hash of them does."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from foundation.redact import redact_path, short_hash
from kiosk.outbox import Outbox
from tests.server.conftest import file_request


def test_a_refused_phone_form_logs_a_hash_not_the_token(client: TestClient,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    token = str(file_request(client)["phone_token"])
    with caplog.at_level(logging.WARNING):
        reply = client.post(f"/r/{token}/confirm", data={"rating": "5"})
    assert reply.status_code == 403
    assert "refused" in caplog.text and token not in caplog.text
    assert f"/r/{short_hash(token)}/confirm" in caplog.text


def test_the_kiosk_outbox_logs_a_hash_not_the_client_id(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    client_id = "k1-0123456789abcdef"
    outbox = Outbox(tmp_path / "outbox.db", kiosk_id="k1")
    with caplog.at_level(logging.INFO, logger="kiosk.outbox"):
        outbox.enqueue({"client_id": client_id, "category": "water_electric"})
        outbox.mark_rejected(client_id, reason="test")
    assert client_id not in caplog.text
    assert short_hash(client_id) in caplog.text


def test_only_token_like_segments_are_hashed() -> None:
    assert redact_path("/staff/tickets/12") == "/staff/tickets/12"
    assert redact_path("/v/t/abcdefghijklmnop0123/accept") == (
        f"/v/t/{short_hash('abcdefghijklmnop0123')}/accept")
