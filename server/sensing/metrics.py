"""Counters of the ingest, exposed on /metrics in the Prometheus text format."""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["Metrics"]

_HELP = {
    "servicepoint_mqtt_messages_received_total": "MQTT messages received by ingest",
    "servicepoint_mqtt_messages_stored_total": "readings stored (first delivery)",
    "servicepoint_mqtt_messages_duplicate_total": "redelivered readings ignored",
    "servicepoint_mqtt_messages_rejected_total": "messages that broke the contract, by reason",
    "servicepoint_sensor_node_new_sequences_total":
        "sensor nodes that started a new sequence (a lost or new outbox), by node",
    "servicepoint_ingest_batches_total": "database batches committed by ingest",
    "servicepoint_tickets_raised_total": "maintenance tickets raised by rules",
    "servicepoint_alerts_created_total": "staff alerts created",
    "servicepoint_alert_deliveries_total": "alert deliveries, by outcome",
    "servicepoint_ingest_errors_total": "batches that failed and were retried",
}


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.gauges: dict[str, float] = {}

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        with self._lock:
            self._counts[(name, tuple(sorted(labels.items())))] += amount

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            if labels:
                return self._counts[(name, tuple(sorted(labels.items())))]
            return sum(v for (n, _), v in self._counts.items() if n == name)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            names = sorted({n for n, _ in self._counts} | set(_HELP))
            for name in names:
                lines.append(f"# HELP {name} {_HELP.get(name, name)}")
                lines.append(f"# TYPE {name} counter")
                series = [(labels, v) for (n, labels), v in sorted(self._counts.items())
                          if n == name]
                if not series:
                    lines.append(f"{name} 0")
                for labels, value in series:
                    label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                    lines.append(f"{name}{{{label_text}}} {value:g}" if label_text
                                 else f"{name} {value:g}")
            for name, value in sorted(self.gauges.items()):
                lines.append(f"# TYPE {name} gauge")
                lines.append(f"{name} {value:g}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
