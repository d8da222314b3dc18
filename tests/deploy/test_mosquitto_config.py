"""The shipped broker config (config/mosquitto/) loaded by a real Mosquitto, with its ACL.

The test renders the files the way scripts/install-pi.sh does (the same @WORD@ substitutions and
mosquitto_passwd), changes only the paths and the port so it can run in a temp folder, and then
checks what an installer relies on: no anonymous clients, a node cannot write as another node,
the server reads the sensors and writes alerts, retained states survive a restart.
"""

from __future__ import annotations

import getpass
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.support.broker import MOSQUITTO, MOSQUITTO_PASSWD
from tests.support.ports import free_port, wait_for_port

pytestmark = pytest.mark.broker

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "config" / "mosquitto" / "mosquitto.conf"
ACL_TEMPLATE = REPO / "config" / "mosquitto" / "acl.template"
INSTALL = REPO / "scripts" / "install-pi.sh"

SITE, PREFIX, DISCOVERY, SERVER = "site-01", "servicepoint", "homeassistant", "servicepoint-server"
USERS = {SERVER: "server-pw-1", "pump-room": "node-pw-1", "roof": "node-pw-2",
         "homeassistant": "ha-pw-1"}


def render_acl(*, home_assistant: bool = False) -> str:
    text = ACL_TEMPLATE.read_text()
    if home_assistant:  # what the comment in the template tells an installer to do
        block = re.search(r"^#user homeassistant\n(#topic .*\n)+", text, re.MULTILINE)
        assert block, "the optional Home Assistant block is gone from acl.template"
        text = text.replace(block.group(0), re.sub(r"^#", "", block.group(0), flags=re.M))
    for word, value in {"@PREFIX@": PREFIX, "@SITE_ID@": SITE, "@DISCOVERY@": DISCOVERY,
                        "@SERVER_USER@": SERVER}.items():
        text = text.replace(word, value)
    return text


def render_conf(workdir: Path, port: int) -> str:
    text = CONF.read_text()
    swaps = {
        "password_file /etc/servicepoint/mosquitto/passwd": f"password_file {workdir}/passwd",
        "acl_file /etc/servicepoint/mosquitto/acl": f"acl_file {workdir}/acl",
        "listener 1883 127.0.0.1": f"listener {port} 127.0.0.1",
        "persistence_location /var/lib/mosquitto/": f"persistence_location {workdir}/",
    }
    for old, new in swaps.items():
        assert old in text, f"config/mosquitto/mosquitto.conf no longer has {old!r}"
        text = text.replace(old, new)
    if os.geteuid() == 0:
        # As root Mosquitto drops to the 'mosquitto' user, who cannot read a root-owned temp
        # folder. On the Pi systemd starts it as that user directly, so nothing drops there.
        text += f"\nuser {getpass.getuser()}\n"
    return text


class Broker:
    def __init__(self, workdir: Path, *, home_assistant: bool = False) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        (workdir / "acl").write_text(render_acl(home_assistant=home_assistant))
        passwd = workdir / "passwd"
        passwd.write_text("")
        passwd.chmod(0o600)
        for user, password in USERS.items():
            subprocess.run([MOSQUITTO_PASSWD, "-b", str(passwd), user, password], check=True,
                           capture_output=True)
        (workdir / "mosquitto.conf").write_text(render_conf(workdir, self.port))

    def start(self) -> None:
        log = (self.workdir / "mosquitto.log").open("ab")
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.workdir / "mosquitto.conf")],
                                        stdout=log, stderr=log)
        try:
            wait_for_port(self.port, timeout=10)
        except TimeoutError:
            raise AssertionError((self.workdir / "mosquitto.log").read_text()) from None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)


@pytest.fixture
def deployed_broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@dataclass
class Client:
    client: mqtt.Client
    received: list[tuple[str, bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, topic: str, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(t == topic for t, _ in self.received):
                return True
            self.arrived.wait(0.05)
            self.arrived.clear()
        return False

    def topics(self) -> list[str]:
        return [t for t, _ in self.received]


def connect(broker: Broker, user: str | None, subscribe: str | None = None,
            password: str | None = None) -> tuple[Client, object]:
    """Log in (with the user's password unless one is given); return client and CONNACK reason."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{user}-{time.time()}")
    if user is not None:
        client.username_pw_set(user, password or USERS[user])
    wrapper = Client(client)
    answer: dict[str, object] = {}
    ready = threading.Event()
    subscribed = threading.Event()

    def on_connect(c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        answer["reason"] = reason
        if subscribe and not reason.is_failure:  # type: ignore[attr-defined]
            c.subscribe(subscribe, qos=1)
        else:
            subscribed.set()
        ready.set()

    def on_subscribe(*_args: object) -> None:
        subscribed.set()

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        wrapper.received.append((message.topic, message.payload))
        wrapper.arrived.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert ready.wait(5), "no CONNACK"
    assert subscribed.wait(5), "no SUBACK"
    return wrapper, answer["reason"]


def close(*clients: Client) -> None:
    for wrapper in clients:
        wrapper.client.disconnect()
        wrapper.client.loop_stop()


def publish(wrapper: Client, topic: str, payload: bytes = b"{}", *, retain: bool = False) -> None:
    info = wrapper.client.publish(topic, payload, qos=1, retain=retain)
    info.wait_for_publish(5)


def test_install_script_fills_in_every_word_of_the_acl_template() -> None:
    words = set(re.findall(r"@[A-Z_]+@", ACL_TEMPLATE.read_text()))
    script = INSTALL.read_text()
    assert words == {"@PREFIX@", "@SITE_ID@", "@DISCOVERY@", "@SERVER_USER@"}
    for word in words:
        assert f"s/{word}/" in script, f"install-pi.sh does not replace {word}"
    assert "@" not in "".join(line for line in render_acl().splitlines()
                              if not line.startswith("#"))


def test_anonymous_client_is_refused(deployed_broker: Broker) -> None:
    client, reason = connect(deployed_broker, None)
    assert reason.is_failure  # type: ignore[attr-defined]
    close(client)


def test_wrong_password_is_refused(deployed_broker: Broker) -> None:
    client, reason = connect(deployed_broker, "pump-room", password="node-pw-2")
    assert reason.is_failure  # type: ignore[attr-defined]
    close(client)


def test_node_cannot_publish_under_another_nodes_topics(deployed_broker: Broker) -> None:
    server, reason = connect(deployed_broker, SERVER, subscribe=f"{PREFIX}/#")
    assert not reason.is_failure  # type: ignore[attr-defined]
    node, reason = connect(deployed_broker, "pump-room")
    assert not reason.is_failure  # type: ignore[attr-defined]
    forbidden = [f"{PREFIX}/{SITE}/roof/state/tank-1",            # another node
                 f"{PREFIX}/site-02/pump-room/state/tank-1",      # another site
                 f"{PREFIX}/{SITE}/alerts/tank-1"]                # the server's alerts
    allowed = f"{PREFIX}/{SITE}/pump-room/state/tank-1"
    for topic in forbidden:
        publish(node, topic, b'{"forged": true}')
    publish(node, allowed)
    # One connection delivers in order: once the allowed message is here, the forbidden ones,
    # sent before it, would have arrived had the broker let them through.
    assert server.wait_for(allowed)
    assert server.topics() == [allowed]
    close(server, node)


def test_node_may_announce_to_home_assistant(tmp_path: Path) -> None:
    broker = Broker(tmp_path, home_assistant=True)
    broker.start()
    try:
        ha, reason = connect(broker, "homeassistant", subscribe=f"{DISCOVERY}/+/+/+/config")
        assert not reason.is_failure  # type: ignore[attr-defined]
        node, _ = connect(broker, "pump-room", subscribe=f"{DISCOVERY}/status")
        other_site = f"{DISCOVERY}/sensor/servicepoint-site-02-pump-room/tank-1-level/config"
        own = f"{DISCOVERY}/sensor/servicepoint-{SITE}-pump-room/tank-1-level/config"
        publish(node, other_site)
        publish(node, own)
        assert ha.wait_for(own)
        assert ha.topics() == [own]
        # Home Assistant says it is back; the node hears it (to announce again).
        publish(ha, f"{DISCOVERY}/status", b"online")
        assert node.wait_for(f"{DISCOVERY}/status")
        close(ha, node)
    finally:
        broker.stop()


def test_a_node_cannot_delete_another_nodes_home_assistant_entities(tmp_path: Path) -> None:
    """Issue 14 #18: an empty retained config deletes an entity in Home Assistant. A node may
    write only the configs under its own level, not the roof node's, nor the old shared
    layout's."""
    broker = Broker(tmp_path, home_assistant=True)
    broker.start()
    try:
        roof, _ = connect(broker, "roof")
        roofs = f"{DISCOVERY}/binary_sensor/servicepoint-{SITE}-roof/ext-9-missing/config"
        publish(roof, roofs, b'{"unique_id": "servicepoint-site-01-ext-9-missing"}',
                retain=True)
        close(roof)
        pump_room, _ = connect(broker, "pump-room")
        old_layout = f"{DISCOVERY}/binary_sensor/servicepoint-{SITE}/ext-9-missing/config"
        own = f"{DISCOVERY}/sensor/servicepoint-{SITE}-pump-room/tank-1-level/config"
        for topic in (roofs, old_layout):
            publish(pump_room, topic, b"", retain=True)  # the delete
        publish(pump_room, own, b"{}", retain=True)
        close(pump_room)
        ha, _ = connect(broker, "homeassistant", subscribe=f"{DISCOVERY}/#")
        assert ha.wait_for(own) and ha.wait_for(roofs)
        assert dict(ha.received)[roofs] != b""  # the roof node's entity is still announced
        assert old_layout not in ha.topics()
        close(ha)
    finally:
        broker.stop()


def test_home_assistant_reads_and_writes_only_its_status(tmp_path: Path) -> None:
    """Issue 14 #2: the Home Assistant login reads the site's readings and the discovery
    configs, and writes its own status topic and nothing else: no reading under its name or a
    node's, no discovery config, no alert."""
    broker = Broker(tmp_path, home_assistant=True)
    broker.start()
    try:
        server, _ = connect(broker, SERVER, subscribe=f"{PREFIX}/{SITE}/#")
        ha, _ = connect(broker, "homeassistant", subscribe=f"{PREFIX}/{SITE}/#")
        node, _ = connect(broker, "pump-room", subscribe=f"{DISCOVERY}/#")
        for topic in (f"{PREFIX}/{SITE}/homeassistant/state/tank-1",
                      f"{PREFIX}/{SITE}/pump-room/state/tank-1",
                      f"{PREFIX}/{SITE}/alerts/1",
                      f"{DISCOVERY}/sensor/servicepoint-{SITE}-homeassistant/x-level/config",
                      f"{DISCOVERY}/sensor/servicepoint-{SITE}-pump-room/tank-1-level/config"):
            publish(ha, topic, b'{"forged": true}')
        publish(ha, f"{DISCOVERY}/status", b"online")
        reading = f"{PREFIX}/{SITE}/pump-room/state/ext-1"
        publish(node, reading)
        assert server.wait_for(reading) and ha.wait_for(reading)  # HA reads the readings
        assert node.wait_for(f"{DISCOVERY}/status")
        assert server.topics() == [reading]
        assert node.topics() == [f"{DISCOVERY}/status"]
        close(server, ha, node)
    finally:
        broker.stop()


def test_the_server_cannot_pose_as_a_node_named_after_it(deployed_broker: Broker) -> None:
    """The node patterns apply to every login; the server's own name is denied them."""
    watch, _ = connect(deployed_broker, SERVER, subscribe=f"{PREFIX}/{SITE}/#")
    publish(watch, f"{PREFIX}/{SITE}/{SERVER}/state/tank-1", b'{"forged": true}')
    alert = f"{PREFIX}/{SITE}/alerts/7"
    publish(watch, alert, b"{}")
    assert watch.wait_for(alert)
    assert watch.topics() == [alert]
    close(watch)


def test_server_reads_sensor_topics_and_writes_alerts(deployed_broker: Broker) -> None:
    server, _ = connect(deployed_broker, SERVER, subscribe=f"{PREFIX}/{SITE}/#")
    node, _ = connect(deployed_broker, "pump-room")
    node_watch, _ = connect(deployed_broker, "roof", subscribe=f"{PREFIX}/#")
    reading = f"{PREFIX}/{SITE}/pump-room/event/tank-1"
    publish(node, reading)
    assert server.wait_for(reading)
    alert = f"{PREFIX}/{SITE}/alerts/tank-1"
    spoof = f"{PREFIX}/{SITE}/pump-room/state/tank-1"
    publish(server, spoof, b'{"forged": true}')   # the server cannot pose as a node
    publish(server, alert, b'{"kind": "overflow"}')
    assert server.wait_for(alert)
    assert spoof not in server.topics()
    # A node reads nothing of the site: not the other node's readings and not the alerts.
    time.sleep(0.2)
    assert node_watch.topics() == []
    close(server, node, node_watch)


def test_retained_state_survives_a_broker_restart(deployed_broker: Broker) -> None:
    node, _ = connect(deployed_broker, "pump-room")
    topic = f"{PREFIX}/{SITE}/pump-room/state/tank-1"
    publish(node, topic, b'{"level": 81}', retain=True)
    close(node)
    deployed_broker.stop()  # SIGTERM: Mosquitto writes its store on a clean stop
    deployed_broker.start()
    server, _ = connect(deployed_broker, SERVER, subscribe=f"{PREFIX}/{SITE}/#")
    assert server.wait_for(topic)
    assert server.received == [(topic, b'{"level": 81}')]
    close(server)


def test_server_reads_through_a_shared_subscription(deployed_broker: Broker) -> None:
    # Server replicas share one subscription (ingest.shared_group); the ACL must allow it too.
    server, _ = connect(deployed_broker, SERVER,
                        subscribe=f"$share/ingest/{PREFIX}/{SITE}/+/#")
    node, _ = connect(deployed_broker, "pump-room")
    reading = f"{PREFIX}/{SITE}/pump-room/state/ext-1"
    publish(node, reading)
    assert server.wait_for(reading)
    close(server, node)
