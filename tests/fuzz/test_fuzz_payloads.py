"""The MQTT payload parser against near-valid JSON: real payloads with their text damaged the way
a buggy node, a truncated packet or a hostile client would damage it. ``contract.decode`` must
answer a proper message or ContractError, nothing else; and the server's processor must store or
dead-letter whatever comes, never raise.

Already covered in tests/sensors/test_sensors_contract.py: arbitrary bytes on arbitrary topics,
and field-level mutations of the parsed JSON object. What is new here works on the text.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from sensors import contract
from sensors.contract import ContractError
from server.alerts import SiteInfo, alerts_config_from_mapping
from server.alerts.outbox import AlertBook
from server.db import make_engine, session_factory
from server.rules import load_rules_config
from server.sensing.metrics import Metrics
from server.sensing.models import DeadLetter, ReadingRow
from server.sensing.processing import Inbound, Processor, Rejected
from tests.sensors.test_sensors_contract import EXAMPLES
from tests.server.conftest import CONFIG

JSON_EXAMPLES = [m for m in EXAMPLES if not isinstance(m, contract.Availability)]
WEIRD_LITERALS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0", "0.0",
                  "1" * 400, "-" + "9" * 30, "2e308", "true", "false", "null", '""', "[]", "{}",
                  "0x10", "01", "1.", ".5", "+1", "1_000", '"1"', "[1]", '{"a":1}']
WEIRD_STRINGS = ["", " ", "\\u0000", "\\ud800", "\\udfff\\ud800", "\\u00e9", "TANK-1", "tank_1",
                 "tank-1/x", "+", "#", "a" * 41, "a" * 5000, "2026-02-30T00:00:00+08:00",
                 "2026-11-25T17:30:05", "2026-11-25T17:30:05+25:00", "9999-12-31T23:59:59Z",
                 "0001-01-01T00:00:00+00:00", "tank_state", "bay_event", "\\n", "\\\\", "\\\""]
NUMBER = re.compile(r"(?<=[:\[,])-?\d+(\.\d+)?([eE][+-]?\d+)?")
STRING = re.compile(r'(?<=:)"[^"\\]*"')


@st.composite
def near_valid(draw: st.DrawFn) -> tuple[str, bytes]:
    message = draw(st.sampled_from(JSON_EXAMPLES))
    topic = contract.topic_for(message, prefix="servicepoint")
    text = contract.encode(message).decode()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "insert", "delete", "number", "string",
                                     "duplicate_key", "wrap", "nest", "trailing", "bom",
                                     "whitespace", "swap_quotes"]))
        if kind == "truncate" and text:
            text = text[:draw(st.integers(0, len(text) - 1))]
        elif kind == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(list('{}[],:"\\ \x00\x7fé'))) + text[at:]
        elif kind == "delete" and text:
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
        elif kind == "number":
            spots = list(NUMBER.finditer(text))
            if spots:
                spot = draw(st.sampled_from(spots))
                text = text[:spot.start()] + draw(st.sampled_from(WEIRD_LITERALS)) \
                    + text[spot.end():]
        elif kind == "string":
            spots = list(STRING.finditer(text))
            if spots:
                spot = draw(st.sampled_from(spots))
                value = draw(st.sampled_from(WEIRD_STRINGS) | st.sampled_from(WEIRD_LITERALS))
                quoted = value if value in WEIRD_LITERALS else f'"{value}"'
                text = text[:spot.start()] + quoted + text[spot.end():]
        elif kind == "duplicate_key" and text.endswith("}"):
            key = draw(st.sampled_from(["v", "kind", "seq", "ts", "site_id", "node_id",
                                        "asset_id", "event", "present", "level_percent"]))
            value = draw(st.sampled_from(WEIRD_LITERALS))
            text = text[:-1] + f',"{key}":{value}' + "}"
        elif kind == "wrap":
            text = f"[{text}]"
        elif kind == "nest":
            depth = draw(st.integers(1, 3000))
            text = text.replace('"v":1', '"v":' + "[" * depth + "1" + "]" * depth, 1)
        elif kind == "trailing":
            text += draw(st.sampled_from(["x", "}", " {}", "\n\n", "\x00", "//c"]))
        elif kind == "bom":
            text = "\ufeff" + text
        elif kind == "whitespace":
            text = text.replace(",", " ,\n\t ")
        elif kind == "swap_quotes":
            text = text.replace('"', "'", draw(st.integers(1, 4)))
    raw = text.encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()):
        raw = raw.decode("utf-8", errors="ignore").encode("utf-16") if draw(
            st.booleans()) else raw
    return topic, raw


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
def test_decode_answers_a_message_or_contract_error(case: tuple[str, bytes]) -> None:
    topic, payload = case
    try:
        message = contract.decode(topic, payload)
    except ContractError as exc:
        assert str(exc)
        return
    info = contract.parse_topic(topic)
    assert (message.site_id, message.node_id) == (info.site_id, info.node_id)
    assert getattr(message, "asset_id", None) == info.asset_id
    assert contract.decode(topic, contract.encode(message)) == message


@pytest.fixture(scope="module")
def processor(tmp_path_factory: pytest.TempPathFactory,
              sqlite_template: Path) -> Iterator[tuple[Processor, object]]:
    path = tmp_path_factory.mktemp("fuzz-processor") / "servicepoint.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    metrics = Metrics()
    book = AlertBook(config=alerts_config_from_mapping({}, env={}, timezone="Asia/Shanghai"),
                     site=SiteInfo(id="site-01", name_zh="站", name_en="Site"),
                     timezone="Asia/Shanghai", public_url="http://sp.test", metrics=metrics)
    yield Processor(site_id="site-01",
                    rules=load_rules_config(CONFIG / "rules.toml", timezone="Asia/Shanghai"),
                    alerts=book, metrics=metrics, evidence_interval_s=600, auto_resolve=[],
                    node_report_interval_s=60,
                    clock=lambda: datetime(2026, 11, 25, 9, 0, tzinfo=UTC)), session_factory(engine)
    engine.dispose()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cases=st.lists(near_valid(), min_size=1, max_size=8))
def test_the_processor_stores_or_dead_letters_whatever_comes(processor, cases) -> None:  # type: ignore[no-untyped-def]
    """The ingest callback's own steps: decode, then one batch in one transaction."""
    proc, sessions = processor
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    items: list[Inbound | Rejected] = []
    for topic, payload in cases:
        try:
            items.append(Inbound(contract.decode(topic, payload), topic, now))
        except ContractError as exc:
            items.append(Rejected(topic, payload[:contract.MAX_PAYLOAD_BYTES], str(exc), now))
    with sessions() as db:  # type: ignore[operator]
        before = (db.scalar(select(func.count()).select_from(ReadingRow)),
                  db.scalar(select(func.count()).select_from(DeadLetter)))
        proc.process(db, items)
    with sessions() as db:  # type: ignore[operator]
        after = (db.scalar(select(func.count()).select_from(ReadingRow)),
                 db.scalar(select(func.count()).select_from(DeadLetter)))
    rejected = sum(isinstance(i, Rejected) for i in items)
    assert after[1] - before[1] >= rejected  # every refusal kept for staff to read
    assert after[0] >= before[0]
