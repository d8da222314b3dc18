"""Two server replicas on one PostgreSQL database race where a single server never does
(SQLite takes one writer at a time, so these run on PostgreSQL only)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, insert, select

from sensors import contract
from server.db import make_engine
from server.sensing.models import ReadingRow, RuleStateRow
from server.sensing.processing import Inbound
from tests.district.conftest import CentralRig


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_losing_the_race_for_a_sites_rule_state_keeps_the_batchs_readings(
        central: CentralRig, db_url: str) -> None:
    other_replica = make_engine(db_url)
    raced = []

    def other_replica_first(session, _context, _instances) -> None:  # type: ignore[no-untyped-def]
        # Between this replica's look-up of the site's rule state (none yet) and its insert,
        # the other replica inserts and commits the row: the insert here then hits the key.
        if not raced and any(isinstance(o, RuleStateRow) for o in session.new):
            raced.append(True)
            with other_replica.begin() as conn:
                conn.execute(insert(RuleStateRow).values(
                    site_id="site-02", state={}, updated_at=central.clock()))

    with central.sessions() as db:
        event.listen(db, "before_flush", other_replica_first)
        message = central.site2.tank("s02-tank-1", 60.0)
        stored = central.processor.process(db, [Inbound(
            message, contract.topic_for(message, prefix="servicepoint"), central.clock())])
    other_replica.dispose()
    assert raced, "the race was not staged"
    assert stored == 1
    with central.sessions() as db:
        assert db.scalar(select(func.count()).select_from(ReadingRow)
                         .where(ReadingRow.node_id == "pump-room-02")) == 1
        assert db.scalar(select(func.count()).select_from(RuleStateRow)
                         .where(RuleStateRow.site_id == "site-02")) == 1
