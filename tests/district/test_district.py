"""The district on one machine: two service points bridged to a centre, two server replicas
racing on one PostgreSQL database, each site's kiosk filing at the centre with its own key.
Requests land under their site, and each site's staff see their own. One site's uplink (bridge
and kiosk line) is cut while things happen there and at the other site; when it comes back every
reading and every kept request arrives exactly once and every condition has exactly one
ticket."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.district.district import District, wait_until
from tests.support.postgres import PostgresCluster

log = logging.getLogger(__name__)


@pytest.fixture
def district(tmp_path: Path, postgres_cluster: PostgresCluster,
             postgres_template: str) -> Iterator[District]:  # noqa: F811
    name = f"district_{uuid.uuid4().hex[:10]}"
    postgres_cluster.execute_autocommit(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    instance = District(tmp_path, postgres_cluster.url(name))
    try:
        instance.start()
        yield instance
    finally:
        instance.close()
        postgres_cluster.execute_autocommit(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _stored(replica_url: str) -> float:
    """How many readings this replica stored (its Prometheus counter)."""
    text = httpx.get(replica_url + "/metrics", timeout=5).text
    match = re.search(r"^servicepoint_mqtt_messages_stored_total(?:\{\})? (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.mark.broker
@pytest.mark.postgres
def test_each_sites_kiosk_and_node_reach_the_centre_under_their_site_and_a_cut_loses_nothing(
        district: District) -> None:
    started = time.monotonic()

    def step(what: str) -> None:
        log.info("%s after %.1fs", what, time.monotonic() - started)

    one, two = district.sites["site-01"], district.sites["site-02"]
    assert one.mock is not None and two.mock is not None
    for site in (one, two):
        wait_until(lambda s=site: district.count_readings(s.node_id) >= 3, 30,
                   f"{site.site_id}'s readings at the centre")

    step("readings flowing")
    # Each site's kiosk files at the centre with its own key; the request is its site's.
    first = {site.site_id: site.kiosk.file(unit, phone=phone) for site, unit, phone in (
        (one, "C01-B01-U1", "13800001111"), (two, "S02-C01-B01-U1", "13800002222"))}
    assert not any(receipt.offline for receipt in first.values())
    assert sorted(district.requests()) == sorted(
        (site_id, receipt.number) for site_id, receipt in first.items())
    staff_one = district.replicas[1].login("staff", "staff-demo")  # either replica will do
    staff_two = district.replicas[0].login("s02-staff", "s02-staff-demo")
    for headers, mine, theirs in ((staff_one, "site-01", "site-02"),
                                  (staff_two, "site-02", "site-01")):
        listing = httpx.get(district.replicas[0].url + "/api/v1/tickets", headers=headers,
                            timeout=10)
        assert listing.status_code == 200, listing.text
        assert first[mine].number in listing.text
        assert first[theirs].number not in listing.text
        assert ("13800002222" if theirs == "site-02" else "13800001111") not in listing.text

    step("kiosk requests filed")
    # The uplink of site 2 goes down: its bridge and its kiosk's line. Its broker keeps taking
    # the node's readings, its kiosk's outbox the residents' requests.
    two.cut()
    time.sleep(0.5)  # readings already on the wire land before the count below
    arrived_before_cut = district.count_readings(two.node_id)
    two.mock.set_depth(two.config.tanks[0].id, 15.0)  # 10 %: below the low-level line
    two.mock.set_bay(two.asset("ext-1"), present=False)  # an extinguisher taken out
    one.mock.set_bay(one.asset("ext-1"), present=False)  # and one at site 1, connected

    # Site 1 is not held up by site 2's outage.
    wait_until(lambda: district.tickets("missing"), 30, "site 1's missing ticket")
    assert district.tickets("missing") == [("site-01", "ext-1", "new")]
    kept = [two.kiosk.file("S02-C01-B02-U1"), two.kiosk.file("S02-C01-B01-U2")]
    assert all(receipt.offline for receipt in kept)
    assert two.kiosk.outbox.pending_count() == 2 and two.kiosk.flush() == 0
    assert not one.kiosk.file("C01-B02-U1").offline  # site 1's kiosk is not held up
    time.sleep(3)  # site 2 goes on measuring, ~3 readings a second, into its broker's queue
    assert district.count_readings(two.node_id) == arrived_before_cut, \
        "readings crossed a cut uplink"
    assert not district.tickets("low_level")

    step("cut for 3s")
    two.restore()
    assert two.kiosk.flush() == 2 and two.kiosk.flush() == 0  # the outbox empties, once
    wait_until(lambda: district.tickets("low_level"), 30, "site 2's low-level ticket")
    wait_until(lambda: len(district.tickets("missing")) == 2, 30, "site 2's missing ticket")

    step("site 2's tickets raised")
    # Let the queued and the new readings settle, then count every one.
    last = {site.node_id: site.halt_node() for site in (one, two)}
    for node_id, last_seq in last.items():
        wait_until(lambda n=node_id, s=last_seq: district.count_readings(n) >= s, 30,
                   f"all {last_seq} readings of {node_id}")
        seqs = district.seqs(node_id)
        assert seqs == list(range(1, last_seq + 1)), f"{node_id}: lost or doubled readings"
    assert last["pump-room-02"] > arrived_before_cut + 5  # the queue really held readings

    step("every reading counted")
    # Every request once, under its site, with the number its kiosk gave the resident.
    filed = district.requests()
    assert len(filed) == len(set(number for _site, number in filed)) == 5
    assert sorted(number for site, number in filed if site == "site-02") == sorted(
        [first["site-02"].number, *(receipt.number for receipt in kept)])
    # Each condition raised exactly one ticket, although both replicas saw its readings.
    assert district.tickets("low_level") == [("site-02", "s02-tank-1", "new")]
    assert sorted(district.tickets("missing")) == [("site-01", "ext-1", "new"),
                                                   ("site-02", "s02-ext-1", "new")]
    stored = [_stored(replica.url) for replica in district.replicas]
    assert all(n > 0 for n in stored), f"one replica did all the work: {stored}"
    assert sum(stored) == sum(last.values())
