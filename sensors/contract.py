"""The MQTT contract between a sensor node and everything that listens to it.

This module is the only thing the server imports from ``sensors``. It knows topics and payloads
and nothing else: no paho, no gpiozero, no I/O. The publisher builds messages with it, the server
checks what it receives with it, and docs/MQTT.md describes the same thing in prose.

Topics (``prefix`` is ``settings.mqtt.topic_prefix``, normally ``servicepoint``)::

    <prefix>/<site_id>/<node_id>/state/<asset_id>   retained   TankState | ExtinguisherBayState
    <prefix>/<site_id>/<node_id>/event/<asset_id>   not kept   TankEvent | ExtinguisherBayEvent
    <prefix>/<site_id>/<node_id>/health             retained   NodeHealth
    <prefix>/<site_id>/<node_id>/availability       retained   Availability ("online"/"offline")
    <prefix>/<site_id>/<node_id>/replay             not kept   any reading again, unchanged
    <prefix>/<site_id>/alerts/<alert_id>            not kept   AlertNotice (the server's)

A node sends the readings the broker acknowledged in the last few minutes once more on its
``replay`` topic after every (re)connect: a broker that lost power before saving them to disk
has lost them, and the server takes each ``(node, epoch, seq)`` once. Only the server listens
there.

The site id sits in the topic so a broker ACL can pin a node's login to ``<prefix>/<site_id>/#``.
``alerts`` is the server's level in a site's topics, so no node may take it as its id: the server
publishes each staff alert there, for dashboards and Home Assistant.

An event says what changed in its asset's state: :data:`TANK_EVENT_FIELDS` and
:data:`BAY_EVENT_FIELDS` map each event to the state field it sets and the value it sets; the
node names its events from them (:func:`tank_event`, :func:`bay_event`), the server reads them.

Payloads are compact UTF-8 JSON objects carrying ``v`` (the schema version, :data:`VERSION`),
``kind``, the ids, a per-node ``seq`` that only goes up within the node's ``epoch`` (a new epoch
begins when the node's outbox is new), and ``ts`` (ISO 8601 with an offset).
The availability payload is the bare word ``online`` or ``offline`` so Home Assistant can use it.

Use::

    message = decode(topic, payload)        # raises ContractError, never anything else
    topic = topic_for(message, prefix="servicepoint")
    payload = encode(message)
    notice = decode_alert(topic, payload)   # the alert topic has its own pair
    topic, payload = alert_topic(prefix, notice.site_id, notice.alert_id), encode_alert(notice)

Errors::

    ServicepointError
    └── ContractError(ValueError)   a topic or payload breaks the contract; str() is a short reason

Longer than the house's 400 lines on purpose: everything that crosses the wire stays in this one
module, so the node, the server and docs/MQTT.md have a single place to agree on.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, TypeAlias

from foundation.errors import ServicepointError

__all__ = [
    "ALERTS_LEVEL",
    "AVAILABILITY_OFFLINE",
    "BAY_EVENT_FIELDS",
    "AVAILABILITY_ONLINE",
    "MAX_PAYLOAD_BYTES",
    "TANK_EVENT_FIELDS",
    "VERSION",
    "AlertKindName",
    "AlertNotice",
    "Availability",
    "BayEventName",
    "Channel",
    "ContractError",
    "ExtinguisherBayEvent",
    "ExtinguisherBayState",
    "Message",
    "NodeHealth",
    "Reading",
    "TankEvent",
    "TankEventName",
    "TankState",
    "TopicInfo",
    "alert_topic",
    "availability_topic",
    "bay_event",
    "body_of",
    "decode",
    "decode_alert",
    "encode",
    "encode_alert",
    "event_topic",
    "health_topic",
    "is_valid_id",
    "node_subscription",
    "parse_topic",
    "replay_topic",
    "retained",
    "state_topic",
    "subscription",
    "tank_event",
    "topic_for",
]

VERSION: Final = 1
MAX_PAYLOAD_BYTES: Final = 4096
AVAILABILITY_ONLINE: Final = "online"
AVAILABILITY_OFFLINE: Final = "offline"
ALERTS_LEVEL: Final = "alerts"

# Ids are safe in a topic level, in a Home Assistant unique id and in a file name.
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_SEQ: Final = 2**63 - 1

Channel: TypeAlias = Literal["state", "event", "health", "availability", "replay", "alert"]
TankEventName: TypeAlias = Literal[
    "overflow_tripped", "overflow_cleared", "low_level_tripped", "low_level_cleared"
]
BayEventName: TypeAlias = Literal[
    "extinguisher_removed",
    "extinguisher_returned",
    "pressure_low",
    "pressure_ok",
    "door_opened",
    "door_closed",
]
AlertKindName: TypeAlias = Literal["raised", "escalated", "cleared"]

# event -> (the state field it changes, its new value). TankState and ExtinguisherBayState
# carry the same fields, so an event and the next state say the same thing.
TANK_EVENT_FIELDS: Final[Mapping[TankEventName, tuple[str, bool]]] = {
    "overflow_tripped": ("overflow", True),
    "overflow_cleared": ("overflow", False),
    "low_level_tripped": ("low_level", True),
    "low_level_cleared": ("low_level", False),
}
BAY_EVENT_FIELDS: Final[Mapping[BayEventName, tuple[str, bool]]] = {
    "extinguisher_removed": ("present", False),
    "extinguisher_returned": ("present", True),
    "pressure_low": ("pressure_ok", False),
    "pressure_ok": ("pressure_ok", True),
    "door_opened": ("door_open", True),
    "door_closed": ("door_open", False),
}
_TANK_EVENTS: Final = frozenset(TANK_EVENT_FIELDS)
_BAY_EVENTS: Final = frozenset(BAY_EVENT_FIELDS)
_TANK_EVENT_OF: Final = {change: name for name, change in TANK_EVENT_FIELDS.items()}
_BAY_EVENT_OF: Final = {change: name for name, change in BAY_EVENT_FIELDS.items()}
_ALERT_KINDS: Final = frozenset({"raised", "escalated", "cleared"})


def tank_event(field: str, value: bool) -> TankEventName:
    """The event a tank sends when ``field`` (``overflow``, ``low_level``) becomes ``value``."""
    try:
        return _TANK_EVENT_OF[(field, value)]
    except KeyError:
        raise ContractError(f"no tank event for {field}") from None


def bay_event(field: str, value: bool) -> BayEventName:
    """The event a bay sends when ``field`` (``present``, ``pressure_ok``, ``door_open``)
    becomes ``value``."""
    try:
        return _BAY_EVENT_OF[(field, value)]
    except KeyError:
        raise ContractError(f"no bay event for {field}") from None


class ContractError(ServicepointError, ValueError):
    """A topic or payload does not follow the contract. ``str(error)`` is a short reason."""


def is_valid_id(value: object) -> bool:
    """True for a site, node or asset id: lowercase letters, digits and '-', at most 40."""
    return isinstance(value, str) and _ID.match(value) is not None and "\n" not in value


# --------------------------------------------------------------------------------------- topics


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """What a topic says: whose it is and which channel. ``asset_id`` only for state and event;
    on the server's ``alert`` channel there is no node, and ``alert_id`` says which alert."""

    prefix: str
    site_id: str
    node_id: str | None
    channel: Channel
    asset_id: str | None = None
    alert_id: int | None = None


def _check_ids(prefix: str, *ids: str) -> None:
    if not _PREFIX.match(prefix):
        raise ContractError(f"bad topic prefix {prefix[:40]!r}")
    for value in ids:
        if not is_valid_id(value):
            raise ContractError(f"bad id {value[:40]!r}")


def _check_node(prefix: str, site_id: str, node_id: str, *ids: str) -> None:
    _check_ids(prefix, site_id, node_id, *ids)
    if node_id == ALERTS_LEVEL:
        raise ContractError(f"{ALERTS_LEVEL!r} is the server's level, not a node id")


def state_topic(prefix: str, site_id: str, node_id: str, asset_id: str) -> str:
    _check_node(prefix, site_id, node_id, asset_id)
    return f"{prefix}/{site_id}/{node_id}/state/{asset_id}"


def event_topic(prefix: str, site_id: str, node_id: str, asset_id: str) -> str:
    _check_node(prefix, site_id, node_id, asset_id)
    return f"{prefix}/{site_id}/{node_id}/event/{asset_id}"


def health_topic(prefix: str, site_id: str, node_id: str) -> str:
    _check_node(prefix, site_id, node_id)
    return f"{prefix}/{site_id}/{node_id}/health"


def availability_topic(prefix: str, site_id: str, node_id: str) -> str:
    _check_node(prefix, site_id, node_id)
    return f"{prefix}/{site_id}/{node_id}/availability"


def replay_topic(prefix: str, site_id: str, node_id: str) -> str:
    _check_node(prefix, site_id, node_id)
    return f"{prefix}/{site_id}/{node_id}/replay"


def alert_topic(prefix: str, site_id: str, alert_id: int) -> str:
    """Where the server publishes a staff alert."""
    _check_ids(prefix, site_id)
    _alert_id("alert_id", alert_id)
    return f"{prefix}/{site_id}/{ALERTS_LEVEL}/{alert_id}"


def subscription(prefix: str, site_id: str | None = None) -> str:
    """The filter that catches every node's topics (of one site, or of all sites)."""
    if site_id is None:
        _check_ids(prefix)
        return f"{prefix}/+/+/#"
    _check_ids(prefix, site_id)
    return f"{prefix}/{site_id}/+/#"


def node_subscription(prefix: str, site_id: str, node_id: str) -> str:
    """The filter for one node's topics; also the natural ACL pattern for that node's login."""
    _check_node(prefix, site_id, node_id)
    return f"{prefix}/{site_id}/{node_id}/#"


def parse_topic(topic: str, *, prefix: str | None = None) -> TopicInfo:
    """Split a contract topic into its parts; raise ContractError for anything else."""
    if not isinstance(topic, str):
        raise ContractError("topic is not a string")
    if len(topic) > 256:
        raise ContractError("topic too long")
    parts = topic.split("/")
    if len(parts) not in (4, 5):
        raise ContractError(f"unknown topic {topic[:80]!r}")
    head, site_id, node_id, channel = parts[:4]
    if prefix is not None and head != prefix:
        raise ContractError(f"topic prefix is not {prefix!r}")
    if len(parts) == 4 and node_id == ALERTS_LEVEL:
        _check_ids(head, site_id)
        if not channel.isdigit() or len(channel) > 18 or channel.startswith("0"):
            raise ContractError(f"bad alert id {channel[:40]!r}")
        return TopicInfo(head, site_id, None, "alert", alert_id=int(channel))
    _check_node(head, site_id, node_id)
    if len(parts) == 5:
        asset_id = parts[4]
        if channel not in ("state", "event"):
            raise ContractError(f"unknown topic {topic[:80]!r}")
        if not is_valid_id(asset_id):
            raise ContractError(f"bad id {asset_id[:40]!r}")
        return TopicInfo(head, site_id, node_id, "state" if channel == "state" else "event",
                         asset_id)
    if channel == "health":
        return TopicInfo(head, site_id, node_id, "health")
    if channel == "availability":
        return TopicInfo(head, site_id, node_id, "availability")
    if channel == "replay":
        return TopicInfo(head, site_id, node_id, "replay")
    raise ContractError(f"unknown topic {topic[:80]!r}")


# ------------------------------------------------------------------------------------- messages


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What every JSON message carries: whose it is, its place in the node's sequence, and when."""

    site_id: str
    node_id: str
    # Which run of the node's outbox ``seq`` counts in: a node whose outbox was lost starts a
    # new epoch and numbers from 1 again, and (node, epoch, seq) stays unique. 0 is the epoch
    # of payloads from nodes older than this field.
    epoch: int = 0
    seq: int
    ts: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TankState(Reading):
    """The storage tank (二次供水蓄水池) as the node sees it now.

    ``level_percent``/``volume_l`` are ``None`` when the level sensor gives no valid reading;
    ``overflow``/``low_level``/``turbidity_ntu`` are ``None`` when that part is not fitted.
    """

    asset_id: str
    level_percent: float | None
    volume_l: float | None
    capacity_l: float
    overflow: bool | None
    low_level: bool | None
    turbidity_ntu: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtinguisherBayState(Reading):
    """One extinguisher bay: the bracket, the gauge contact, the cabinet door (None: not fitted)."""

    asset_id: str
    present: bool
    pressure_ok: bool | None
    door_open: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TankEvent(Reading):
    """A float switch changed: sent at once, on top of the retained state."""

    asset_id: str
    event: TankEventName
    level_percent: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtinguisherBayEvent(Reading):
    """An extinguisher was removed or returned, its gauge left the green zone, its door moved."""

    asset_id: str
    event: BayEventName


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeHealth(Reading):
    """The node itself. ``outbox_thinned`` counts periodic readings dropped while offline."""

    uptime_s: float
    cpu_temp_c: float | None
    outbox_depth: int
    outbox_thinned: int


@dataclass(frozen=True, slots=True)
class Availability:
    """The broker-kept ``online``/``offline`` flag (birth message and last will)."""

    site_id: str
    node_id: str
    online: bool


Message: TypeAlias = (
    TankState | ExtinguisherBayState | TankEvent | ExtinguisherBayEvent | NodeHealth | Availability
)

# kind -> (class, channel). The kind names the payload; the channel must match the topic.
_KINDS: Final[dict[str, tuple[type[Reading], Channel]]] = {
    "tank_state": (TankState, "state"),
    "bay_state": (ExtinguisherBayState, "state"),
    "tank_event": (TankEvent, "event"),
    "bay_event": (ExtinguisherBayEvent, "event"),
    "node_health": (NodeHealth, "health"),
}
_KIND_OF: Final[dict[type[Reading], str]] = {cls: kind for kind, (cls, _) in _KINDS.items()}
_FIELD_NAMES: Final[dict[type[Reading], tuple[str, ...]]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _KIND_OF}


def topic_for(message: Message, *, prefix: str) -> str:
    """The topic a message is published on."""
    if isinstance(message, Availability):
        return availability_topic(prefix, message.site_id, message.node_id)
    if isinstance(message, NodeHealth):
        return health_topic(prefix, message.site_id, message.node_id)
    if isinstance(message, TankState | ExtinguisherBayState):
        return state_topic(prefix, message.site_id, message.node_id, message.asset_id)
    return event_topic(prefix, message.site_id, message.node_id, message.asset_id)


def retained(message: Message) -> bool:
    """State, health and availability are kept by the broker; events are not."""
    return not isinstance(message, TankEvent | ExtinguisherBayEvent)


def body_of(message: Reading) -> dict[str, Any]:
    """The JSON object a reading's payload holds (what :func:`encode` serialises), as a dict.

    Not validated again: for a message that came out of :func:`decode` (the server keeps it as
    the stored reading's payload without a round trip through JSON)."""
    kind = _KIND_OF.get(type(message))
    if kind is None:
        raise ContractError(f"not a contract message: {type(message).__name__}")
    body: dict[str, Any] = {"v": VERSION, "kind": kind}
    for name in _FIELD_NAMES[type(message)]:
        value = getattr(message, name)
        body[name] = value.isoformat() if isinstance(value, datetime) else value
    return body


def encode(message: Message) -> bytes:
    """The payload bytes for a message (validated first, so a node cannot send a bad one)."""
    if isinstance(message, Availability):
        _check_ids("x", message.site_id, message.node_id)
        return (AVAILABILITY_ONLINE if message.online else AVAILABILITY_OFFLINE).encode()
    body = body_of(message)
    _validate(type(message), body)
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ContractError("payload too large")
    return data


# ----------------------------------------------------------------------------------- decoding

_Check = Callable[[str, object], object]


def _id(name: str, value: object) -> str:
    if not is_valid_id(value):
        raise ContractError(f"{name} is not a valid id")
    assert isinstance(value, str)
    return value


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ContractError(f"{name} must be true or false")
    return value


def _number(low: float, high: float) -> _Check:
    def check(name: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ContractError(f"{name} must be a number")
        number = float(value)  # int beyond float range raises OverflowError
        if not math.isfinite(number) or not low <= number <= high:
            raise ContractError(f"{name} out of range [{low}, {high}]")
        return number

    def safe(name: str, value: object) -> float:
        try:
            return check(name, value)
        except OverflowError:
            raise ContractError(f"{name} out of range [{low}, {high}]") from None

    return safe


def _integer(low: int, high: int) -> _Check:
    def check(name: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ContractError(f"{name} must be an integer")
        if not low <= value <= high:
            raise ContractError(f"{name} out of range [{low}, {high}]")
        return value

    return check


def _optional(inner: _Check) -> _Check:
    def check(name: str, value: object) -> object:
        return None if value is None else inner(name, value)

    return check


def _one_of(allowed: frozenset[str]) -> _Check:
    def check(name: str, value: object) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise ContractError(f"{name} is not one of {sorted(allowed)}")
        return value

    return check


def _timestamp(name: str, value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ContractError(f"{name} must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value)
        offset = moment.utcoffset()
    except (ValueError, OverflowError, TypeError):
        raise ContractError(f"{name} is not an ISO 8601 timestamp") from None
    if offset is None:
        raise ContractError(f"{name} has no timezone offset")
    if not 2000 <= moment.year <= 2999:
        raise ContractError(f"{name} out of range")
    return moment


_COMMON: Final[dict[str, _Check]] = {
    "site_id": _id,
    "node_id": _id,
    "seq": _integer(0, _MAX_SEQ),
    "ts": _timestamp,
}
_EPOCH = _integer(0, _MAX_SEQ)
_PERCENT = _number(0.0, 100.0)
_LITRES = _number(0.0, 1e8)
_NTU = _number(0.0, 10000.0)
_FIELDS: Final[dict[type[Reading], dict[str, _Check]]] = {
    TankState: {
        "asset_id": _id,
        "level_percent": _optional(_PERCENT),
        "volume_l": _optional(_LITRES),
        "capacity_l": _LITRES,
        "overflow": _optional(_bool),
        "low_level": _optional(_bool),
        "turbidity_ntu": _optional(_NTU),
    },
    ExtinguisherBayState: {
        "asset_id": _id,
        "present": _bool,
        "pressure_ok": _optional(_bool),
        "door_open": _optional(_bool),
    },
    TankEvent: {
        "asset_id": _id,
        "event": _one_of(_TANK_EVENTS),
        "level_percent": _optional(_PERCENT),
    },
    ExtinguisherBayEvent: {
        "asset_id": _id,
        "event": _one_of(_BAY_EVENTS),
    },
    NodeHealth: {
        "uptime_s": _number(0.0, 1e10),
        "cpu_temp_c": _optional(_number(-60.0, 200.0)),
        "outbox_depth": _integer(0, _MAX_SEQ),
        "outbox_thinned": _integer(0, _MAX_SEQ),
    },
}


def _validate(cls: type[Reading], body: Mapping[str, object]) -> dict[str, Any]:
    """Check every field of a JSON body for ``cls``; return the constructor arguments."""
    values: dict[str, Any] = {}
    for name, check in (_COMMON | _FIELDS[cls]).items():
        if name not in body:
            raise ContractError(f"missing field {name}")
        values[name] = check(name, body[name])
    # Optional, so version-1 payloads of older nodes still decode (as epoch 0) and older servers
    # ignore it: adding it needed no new version.
    if "epoch" in body:
        values["epoch"] = _EPOCH("epoch", body["epoch"])
    return values


def _reject_constant(name: str) -> object:
    raise ContractError(f"{name} is not valid JSON")


def _load_json(payload: bytes) -> object:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise ContractError("payload is not UTF-8") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ContractError:
        raise
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and over-long integer literals.
        raise ContractError("payload is not valid JSON") from None


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytearray | memoryview):
        payload = bytes(payload)
    if not isinstance(payload, bytes):
        raise ContractError("payload is not bytes")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError("payload too large")
    return payload


def _versioned_body(payload: bytes) -> dict[str, Any]:
    body = _load_json(payload)
    if not isinstance(body, dict):
        raise ContractError("payload is not a JSON object")
    version = body.get("v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ContractError("missing version v")
    if version != VERSION:
        raise ContractError(f"unsupported version {version}")
    return body


def decode(topic: str, payload: bytes) -> Message:
    """Turn a received topic and payload into a message, or raise ContractError.

    Checks the topic, the size, the JSON, the version, every field's type and range, that the
    timestamp has an offset, and that the ids in the payload match the topic. Fields this version
    does not know are ignored, so adding an optional field does not need a new version.
    """
    info = parse_topic(topic)
    node_id = info.node_id
    if node_id is None:
        raise ContractError("an alert topic carries an alert, not a reading")
    payload = _payload_bytes(payload)
    if info.channel == "availability":
        if payload == AVAILABILITY_ONLINE.encode():
            return Availability(info.site_id, node_id, True)
        if payload == AVAILABILITY_OFFLINE.encode():
            return Availability(info.site_id, node_id, False)
        raise ContractError("availability must be 'online' or 'offline'")
    body = _versioned_body(payload)
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ContractError("unknown kind")
    cls, channel = _KINDS[kind]
    if channel != info.channel and info.channel != "replay":  # a replay carries any reading
        raise ContractError(f"kind {kind} does not belong on a {info.channel} topic")
    values = _validate(cls, body)
    if values["site_id"] != info.site_id or values["node_id"] != node_id:
        raise ContractError("site_id/node_id do not match the topic")
    if "asset_id" in values and info.channel != "replay" and values["asset_id"] != info.asset_id:
        raise ContractError("asset_id does not match the topic")
    message: Message = cls(**values)  # type: ignore[assignment]
    return message


# --------------------------------------------------------------------------------------- alerts


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertNotice:
    """A staff alert as the server publishes it on ``<prefix>/<site_id>/alerts/<alert_id>``.

    ``kind`` is ``raised`` (a condition became a ticket), ``escalated`` (nobody acknowledged:
    the next level is told) or ``cleared``; ``level`` is the escalation level (0 first).
    ``title`` is the alert's title, Chinese first then English. On the wire the alert's id is
    ``id``.
    """

    site_id: str
    alert_id: int
    ticket_id: int
    kind: AlertKindName
    level: int
    urgent: bool
    asset_id: str | None
    condition: str | None
    title: str
    created_at: datetime


_CONDITION = re.compile(r"^[a-z][a-z_]{0,39}$")
_MAX_ID: Final = 10**18 - 1  # what fits the alert id's topic level (18 digits)


def _alert_id(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_ID:
        raise ContractError(f"{name} must be a positive integer")
    return value


def _condition(name: str, value: object) -> str:
    if not isinstance(value, str) or not _CONDITION.match(value):
        raise ContractError(f"{name} is not a condition name")
    return value


def _title(name: str, value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 300:
        raise ContractError(f"{name} must be text of 1 to 300 characters")
    return value


# wire name -> (AlertNotice field, check)
_ALERT_FIELDS: Final[dict[str, tuple[str, _Check]]] = {
    "id": ("alert_id", _alert_id),
    "ticket_id": ("ticket_id", _alert_id),
    "kind": ("kind", _one_of(_ALERT_KINDS)),
    "level": ("level", _integer(0, 99)),
    "urgent": ("urgent", _bool),
    "asset_id": ("asset_id", _optional(_id)),
    "condition": ("condition", _optional(_condition)),
    "title": ("title", _title),
    "created_at": ("created_at", _timestamp),
}


def _alert_values(site_id: str, body: Mapping[str, object]) -> dict[str, Any]:
    values: dict[str, Any] = {"site_id": site_id}
    for wire, (name, check) in _ALERT_FIELDS.items():
        if wire not in body:
            raise ContractError(f"missing field {wire}")
        values[name] = check(wire, body[wire])
    return values


def encode_alert(notice: AlertNotice) -> bytes:
    """The payload of an alert (validated first, so the server cannot publish a bad one)."""
    body: dict[str, Any] = {"v": VERSION}
    for wire, (name, _check) in _ALERT_FIELDS.items():
        value = getattr(notice, name)
        body[wire] = value.isoformat() if isinstance(value, datetime) else value
    _check_ids("x", notice.site_id)
    _alert_values(notice.site_id, body)
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ContractError("payload too large")
    return data


def decode_alert(topic: str, payload: bytes) -> AlertNotice:
    """Turn a received alert topic and payload into an :class:`AlertNotice`, or raise
    ContractError (also for a topic that is not an alert's)."""
    info = parse_topic(topic)
    if info.channel != "alert":
        raise ContractError(f"not an alert topic {topic[:80]!r}")
    values = _alert_values(info.site_id, _versioned_body(_payload_bytes(payload)))
    if values["alert_id"] != info.alert_id:
        raise ContractError("id does not match the topic")
    return AlertNotice(**values)
