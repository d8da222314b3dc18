"""A district on one machine: two service points and a centre, every part real.

- each service point: its own Mosquitto broker, bridged to the centre with the shipped
  ``config/mosquitto/bridge.conf.example`` (only TLS left out and the reconnect delay shortened),
  through an :class:`~tests.district.uplink.Uplink` the test can cut; and the sensor node's own
  code (outbox, publisher) on gpiozero mock pins;
  and the kiosk's own delivery code (kiosk/outbox.py, kiosk/courier.py, kiosk/api.py: what the
  kiosk app runs when a resident taps 提交), with the site's own kiosk key, reaching the centre's
  HTTP through a second cuttable line (the Pi's one uplink carries both);
- the centre: a Mosquitto broker with passwords and ``config/district/central-acl.template``, and
  two server replicas (``servicepoint server`` subprocesses) sharing one subscription, on one
  PostgreSQL database seeded once with both sites (site-01, the replicas' home site, with the
  demo data; site-02 added as the district admin adds a site, with its register and people).
  Each site's kiosk reaches a different replica, as a proxy in front of them would spread them.

    district = District(tmp_path, database_url).start()  # a migrated database, demo site
    district.sites["site-02"].cut()                     # bridge and kiosk line both down
    district.sites["site-02"].mock.set_bay("s02-ext-1", present=False)
    district.sites["site-02"].kiosk.file("S02-C01-B01-U1")   # kept in its outbox
    district.close()
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from foundation.settings import MqttSettings
from kiosk.api import ServerClient
from kiosk.courier import Courier
from kiosk.flow import Receipt
from kiosk.outbox import Outbox as KioskOutbox
from sensors.config import SensorsConfig
from sensors.discovery import discovery_messages
from sensors.mockhw import MockSite
from sensors.node import SensorNode
from sensors.outbox import Outbox
from sensors.publisher import Publisher
from server.db import make_engine, session_factory
from server.models import Ticket
from server.sensing.models import ReadingRow
from server.services.site_data import apply_site_data, load_site_data
from server.services.sites import HomeSite, ensure_home_site, new_kiosk_key
from server.sites.models import Site
from server.sites.rules import SiteScope
from server.sites.scoping import scope_session
from tests.district.uplink import Uplink
from tests.sensors.helpers import TEST_SENSORS_TOML, make_config
from tests.support.broker import MosquittoBroker
from tests.support.server import REPO, ServerProcess

log = logging.getLogger(__name__)
PEOPLE_02 = Path(__file__).with_name("site-02-people.toml")
STREET = "劳动路街道"
DEVELOPMENT_KIOSK_KEY = "development-kiosk-key"  # the home site's, as the replicas' settings say
PREFIX = "servicepoint"
SERVER_USER = "servicepoint-server"
GROUP = "central"
# The shipped thresholds with durations short enough for a test (rules.toml: 120 s and 600 s).
FAST_RULES = """
[tank]
level_raise_after_s = 1
level_clear_after_s = 1
[extinguisher]
missing_raise_after_s = 1
missing_clear_after_s = 1
"""


def add_site_02(sessions: sessionmaker[Session], *, people: bool = True) -> str:
    """Put the second site in a database that has the demo site: the home site set as a
    replica's start sets it, site-02 added as the district admin adds one (a row of ``sites``
    and a kiosk key, returned), and its register (and people) loaded in a session acting for
    it, as ``servicepoint seed`` does for a site."""
    with sessions() as db:
        home = ensure_home_site(db, home=HomeSite(id="site-01", name_zh="劳动路社区服务站",
                                                  name_en="Laodong Road",
                                                  timezone="Asia/Shanghai"))
        home.street = STREET
        db.add(Site(id="site-02", name_zh="湘江社区服务站", name_en="Xiangjiang",
                    street=STREET, timezone="Asia/Shanghai"))
        db.flush()
        key = new_kiosk_key(db, site=db.get(Site, "site-02"), now=datetime.now(UTC))
        db.commit()
    with sessions() as db:
        scope_session(db, SiteScope(sites=frozenset({"site-02"}), acting="site-02"))
        registers = [REPO / "config" / "district" / "site-02.toml"]
        for register in registers + ([PEOPLE_02] if people else []):
            apply_site_data(db, data=load_site_data(register))
        db.commit()
    return key


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll a condition (never a fixed sleep for correctness); fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def render(template: Path, **words: str) -> str:
    text = template.read_text(encoding="utf-8")
    for key, value in words.items():
        text = text.replace(f"@{key}@", value)
    left = re.findall(r"@[A-Z_]+@", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")))
    assert not left, f"{template.name}: unfilled {left}"
    return text


def bridge_config(*, site_id: str, port: int, password: str) -> str:
    """The shipped bridge example as an installer fills it in, on plain TCP and with a short
    reconnect delay (a test cannot wait 5 s and more for each reconnect)."""
    text = render(REPO / "config" / "mosquitto" / "bridge.conf.example", SITE_ID=site_id,
                  PREFIX=PREFIX, CENTRAL_HOST="127.0.0.1", CENTRAL_PORT=str(port),
                  BRIDGE_PASSWORD=password)
    lines = []
    for line in text.splitlines():
        if line.startswith(("bridge_cafile", "bridge_tls_version")):
            continue
        if line.startswith("restart_timeout"):
            line = "restart_timeout 1 2"
        lines.append(line)
    return "\n".join(lines) + "\n"


def node_config(node_id: str, assets: dict[str, str]) -> SensorsConfig:
    """The sensor tests' node (a tank and two bays), renamed, reporting every second so there
    is a steady stream to queue while the uplink is down."""
    text = TEST_SENSORS_TOML.replace('id = "node-t"', f'id = "{node_id}"')
    for old, new in assets.items():
        text = text.replace(f'id = "{old}"', f'id = "{new}"')
    return make_config(text, state_interval_s=1, health_interval_s=2)


class Kiosk:
    """One site's kiosk as far as filing goes: the kiosk app's own outbox, courier and HTTP
    client (what its 提交 runs), with the site's kiosk key, sending through ``line``."""

    def __init__(self, folder: Path, *, site_id: str, kiosk_id: str, key: str,
                 line: Uplink) -> None:
        self.site_id, self.line = site_id, line
        self.client = ServerClient(f"http://127.0.0.1:{line.port}", kiosk_key=key, timeout=3.0)
        self.outbox = KioskOutbox(folder / f"{kiosk_id}.outbox.sqlite3", kiosk_id=kiosk_id)
        self.courier = Courier(self.client, self.outbox,
                               public_url=f"http://127.0.0.1:{line.port}")

    def file(self, unit_code: str, *, category: str = "water_electric",
             phone: str | None = None) -> Receipt:
        """A resident's request as the kiosk's flow builds it (kiosk/flow/request.py)."""
        body: dict[str, Any] = {"client_id": uuid.uuid4().hex, "category": category,
                                "unit_code": unit_code, "answers": {"problem": "leak"},
                                "description": "", "channel": "kiosk"}
        if phone:
            body["contact_phone"] = phone
        return self.courier.file(body)

    def flush(self) -> int:
        return self.courier.flush()

    def close(self) -> None:
        self.client.close()
        self.outbox.close()
        self.line.close()


@dataclass
class ServicePoint:
    """One Pi: its broker bridged to the centre through a cuttable uplink, its sensor node, and
    its kiosk on a line of its own to the centre's HTTP."""

    site_id: str
    node_id: str
    assets: dict[str, str]  # the test node's asset id -> this site's (district-unique) id
    broker: MosquittoBroker
    uplink: Uplink
    config: SensorsConfig
    kiosk: Kiosk
    factory: MockFactory = field(default_factory=MockFactory)
    mock: MockSite | None = None
    outbox: Outbox | None = None
    node: SensorNode | None = None
    publisher: Publisher | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def asset(self, name: str) -> str:
        return self.assets[name]

    def cut(self) -> None:
        """The Pi's uplink goes down: the bridge and the kiosk's HTTP both."""
        self.uplink.cut()
        self.kiosk.line.cut()

    def restore(self) -> None:
        self.uplink.restore()
        self.kiosk.line.restore()

    def start_node(self, folder: Path) -> None:
        self.mock = MockSite(self.config, self.factory)
        for tank in self.config.tanks:
            self.mock.set_depth(tank.id, 120.0)  # 80 %
            self.mock.set_turbidity(tank.id, 0.5)
            self.mock.set_float(tank.id, "overflow", False)
            self.mock.set_float(tank.id, "low_level", False)
        for bay in self.config.bays:
            self.mock.set_bay(bay.id, present=True, pressure_ok=True, door_open=False)
        self.outbox = Outbox(folder / f"{self.node_id}.outbox.sqlite3")
        self.node = SensorNode(self.config, site_id=self.site_id, topic_prefix=PREFIX,
                               outbox=self.outbox, pin_factory=self.factory,
                               cpu_temperature=lambda: 47.5)
        self.mock.sync()
        self.publisher = Publisher(
            self.outbox, mqtt_settings=MqttSettings(url=self.broker.url), site_id=self.site_id,
            node_id=self.node_id,
            discovery=discovery_messages(self.config, site_id=self.site_id, prefix=PREFIX,
                                         discovery_prefix="homeassistant"),
            discovery_delay_s=0.3, reconnect_min_s=0.1, reconnect_max_s=0.5).start()
        self.thread = threading.Thread(target=self.node.run, args=(self.stop,), daemon=True,
                                       name=f"node-{self.node_id}")
        self.thread.start()

    def halt_node(self) -> int:
        """Stop measuring and let the outbox empty into the Pi's broker; the last seq sent."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(5)
        assert self.outbox is not None
        wait_until(lambda: self.outbox.depth == 0, 20, f"{self.node_id}'s outbox to empty")
        return self.outbox.last_seq

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(5)
        if self.publisher is not None:
            self.publisher.stop(timeout=1)
        if self.node is not None:
            self.node.close()
        if self.outbox is not None:
            self.outbox.close()
        self.factory.reset()
        self.kiosk.close()
        self.uplink.close()
        self.broker.stop()


class District:
    def __init__(self, workdir: Path, database_url: str) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.passwords = {SERVER_USER: "server-secret", "site-01": "bridge-01-secret",
                          "site-02": "bridge-02-secret"}
        self.central = MosquittoBroker(
            workdir / "central", users=self.passwords, persistence=True,
            acl=render(REPO / "config" / "district" / "central-acl.template", PREFIX=PREFIX,
                       SERVER_USER=SERVER_USER),
            # Subscriptions in the log tell the test when each replica is listening.
            extra="log_type notice\nlog_type subscribe")
        self.sites: dict[str, ServicePoint] = {}
        self.replicas: list[ServerProcess] = []
        self.engine: Engine = make_engine(database_url)
        self.kiosk_keys: dict[str, str] = {"site-01": DEVELOPMENT_KIOSK_KEY}

    # --- bringing it up ---------------------------------------------------------------------

    def start(self) -> District:
        started = time.monotonic()
        self.central.start()
        self._seed()
        log.info("database seeded after %.1fs", time.monotonic() - started)
        self._start_replicas("replica-a", "replica-b")
        log.info("replicas subscribed after %.1fs", time.monotonic() - started)
        for (site_id, node_id, assets), replica in zip((
                ("site-01", "pump-room-01", {"tank-1": "tank-1", "ext-1": "ext-1",
                                             "ext-2": "ext-2"}),
                ("site-02", "pump-room-02", {"tank-1": "s02-tank-1", "ext-1": "s02-ext-1",
                                             "ext-2": "s02-ext-2"})), self.replicas, strict=True):
            self._add_site(site_id, node_id, assets, replica)
        for site in self.sites.values():
            site.start_node(self.workdir)
        log.info("district up after %.1fs", time.monotonic() - started)
        return self

    def _seed(self) -> None:
        # The database comes migrated with the demo site (tests/server/conftest.py's template,
        # made by the same functions as `servicepoint seed --demo`). The home site is set as a
        # replica's start sets it; site 2 is added as the district admin adds one (a row of
        # `sites` and a kiosk key), and its register and people are loaded in a session acting
        # for it, as `servicepoint seed` does, before any replica starts.
        self.kiosk_keys["site-02"] = add_site_02(session_factory(self.engine))
        (self.workdir / "rules.toml").write_text(FAST_RULES)

    def _start_replicas(self, *names: str) -> None:
        for name in names:
            replica = ServerProcess(self.workdir / name, seed=False, env={
                "SERVICEPOINT_DATABASE_URL": self.database_url,
                "SERVICEPOINT_MQTT_URL": self.central.url_for(SERVER_USER),
                "SERVICEPOINT_INGEST__CLIENT_ID": name,
                "SERVICEPOINT_INGEST__SHARED_GROUP": GROUP,
                "SERVICEPOINT_INGEST__ALL_SITES": "true",
                "SERVICEPOINT_INGEST__RULES_FILE": str(self.workdir / "rules.toml"),
                "SERVICEPOINT_INGEST__TICK_INTERVAL_S": "0.2",
            })
            self.replicas.append(replica)
        # Started side by side: each takes seconds to import on a loaded machine.
        with ThreadPoolExecutor(len(self.replicas)) as pool:
            for future in [pool.submit(r.start, timeout=90) for r in self.replicas]:
                future.result()
        for name in names:
            wait_until(lambda n=name: f"{n} 1 $share/{GROUP}/{PREFIX}/+/+/#"
                       in self.central.log_path.read_text(errors="replace"), 30,
                       f"{name} to subscribe at the centre")

    def _add_site(self, site_id: str, node_id: str, assets: dict[str, str],
                  replica: ServerProcess) -> None:
        uplink = Uplink(self.central.port).start()
        broker = MosquittoBroker(
            self.workdir / site_id, persistence=True,
            extra=bridge_config(site_id=site_id, port=uplink.port,
                                password=self.passwords[site_id])).start()
        kiosk = Kiosk(self.workdir, site_id=site_id, kiosk_id=f"K{site_id[-2:]}",
                      key=self.kiosk_keys[site_id], line=Uplink(replica.port).start())
        site = ServicePoint(site_id, node_id, assets, broker, uplink,
                            node_config(node_id, assets), kiosk)
        self.sites[site_id] = site
        wait_until(lambda: f"as {site_id}" in self.central.log_path.read_text(errors="replace"),
                   30, f"{site_id}'s bridge to reach the centre")

    # --- looking at the central database ------------------------------------------------------

    def seqs(self, node_id: str) -> list[int]:
        with self.engine.connect() as db:
            return list(db.scalars(select(ReadingRow.seq).where(ReadingRow.node_id == node_id)
                                   .order_by(ReadingRow.seq)))

    def tickets(self, condition: str) -> list[tuple[str, str, str]]:
        """(site, asset, status) of every ticket for a condition."""
        with self.engine.connect() as db:
            return [tuple(row) for row in db.execute(  # type: ignore[misc]
                select(Ticket.site_id, Ticket.asset_id, Ticket.status)
                .where(Ticket.condition == condition).order_by(Ticket.id))]

    def requests(self) -> list[tuple[str, str]]:
        """(site, number) of every resident's request at the centre."""
        with self.engine.connect() as db:
            return [tuple(row) for row in db.execute(  # type: ignore[misc]
                select(Ticket.site_id, Ticket.number).where(Ticket.kind == "request")
                .order_by(Ticket.id))]

    def count_readings(self, node_id: str) -> int:
        with self.engine.connect() as db:
            return int(db.scalar(select(func.count()).select_from(ReadingRow)
                                 .where(ReadingRow.node_id == node_id)) or 0)

    # --- taking it down -----------------------------------------------------------------------

    def close(self) -> None:
        for site in self.sites.values():
            site.close()
        for replica in self.replicas:
            replica.stop()
        self.central.stop()
        self.engine.dispose()

    def __enter__(self) -> District:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
