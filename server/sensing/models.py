"""Tables of the sensor side: the asset register, reading history, latest state, dead letters,
persisted rule state and the tank cleaning log. Staff alerts have their tables in
:mod:`server.alerts.rows`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, SiteOwned, SiteScoped, utcnow

__all__ = [
    "AssetState",
    "DeadLetter",
    "ExtinguisherBay",
    "ReadingRow",
    "RuleStateRow",
    "SensorNode",
    "TANK_LEVELS",
    "Tank",
    "TankCleaning",
]


# The level alarm lines a tank's register row may set over config/rules.toml's.
TANK_LEVELS = ("low_raise_percent", "low_clear_percent", "high_raise_percent",
               "high_clear_percent")


class Tank(SiteScoped, Base):
    """A secondary-supply storage tank (二次供水蓄水池) in the register."""

    __tablename__ = "tanks"
    asset_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    building_code: Mapped[str | None] = mapped_column(String(40))
    capacity_l: Mapped[float | None] = mapped_column(Float)
    # Raised by every save on the admin pages: a second editor's stale form is refused.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The sensor node whose readings of this tank count (the site file's ``node``; else the
    # first node that reported it). Readings from any other login are dead-lettered.
    node_id: Mapped[str | None] = mapped_column(String(40))
    cleaning_interval_days: Mapped[int | None] = mapped_column(Integer)
    # The level alarm lines staff set in the browser, over config/rules.toml's (None: the file's).
    low_raise_percent: Mapped[float | None] = mapped_column(Float)
    low_clear_percent: Mapped[float | None] = mapped_column(Float)
    high_raise_percent: Mapped[float | None] = mapped_column(Float)
    high_clear_percent: Mapped[float | None] = mapped_column(Float)
    last_cleaned_on: Mapped[date | None] = mapped_column(Date)
    last_passed_test_on: Mapped[date | None] = mapped_column(Date)


class TankCleaning(SiteOwned, Base):
    """One cleaning and disinfection, with the water test that followed it."""

    __tablename__ = "tank_cleanings"
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("tanks.asset_id"), index=True)
    cleaned_on: Mapped[date] = mapped_column(Date)
    water_test_passed: Mapped[bool] = mapped_column(Boolean)
    turbidity_ntu: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExtinguisherBay(SiteScoped, Base):
    """A fire-extinguisher bay and the extinguisher in it."""

    __tablename__ = "extinguisher_bays"
    asset_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    building_code: Mapped[str | None] = mapped_column(String(40))
    extinguisher_type: Mapped[str] = mapped_column(String(20))  # water|dry_powder|co2|clean_agent
    node_id: Mapped[str | None] = mapped_column(String(40))  # as Tank.node_id
    manufactured_on: Mapped[date] = mapped_column(Date)
    last_maintained_on: Mapped[date | None] = mapped_column(Date)
    last_inspected_on: Mapped[date | None] = mapped_column(Date)
    # Taken out of service (scrapped or removed): kept for the records, off the register.
    retired_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # as Tank's


class SensorNode(Base):
    __tablename__ = "sensor_nodes"
    node_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(40))
    online: Mapped[bool | None] = mapped_column(Boolean)
    availability_at: Mapped[datetime | None]
    last_state_at: Mapped[datetime | None]
    # The run of the node's outbox its newest readings count in, and the highest seq of it.
    epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    report_interval_s: Mapped[float] = mapped_column(Float, default=60.0)
    uptime_s: Mapped[float | None] = mapped_column(Float)
    cpu_temp_c: Mapped[float | None] = mapped_column(Float)
    outbox_depth: Mapped[int | None] = mapped_column(Integer)


class ReadingRow(Base):
    """Every reading and event, once: (node, epoch, seq) is unique, so a redelivery changes
    nothing, while a node that starts a new outbox (a new epoch, seq from 1) is heard."""

    __tablename__ = "readings"
    __table_args__ = (UniqueConstraint("node_id", "epoch", "seq",
                                       name="uq_readings_node_epoch_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(40))
    node_id: Mapped[str] = mapped_column(String(40))
    epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    seq: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    ts: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime]
    level_percent: Mapped[float | None] = mapped_column(Float)
    turbidity_ntu: Mapped[float | None] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column()


class AssetState(Base):
    """The latest state of each asset, always current."""

    __tablename__ = "asset_states"
    asset_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    ts: Mapped[datetime]
    seq: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column()


class DeadLetter(Base):
    """A message that broke the contract, kept for staff to read."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    topic: Mapped[str] = mapped_column(String(300))
    payload: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300))


class RuleStateRow(Base):
    """The rules engine's state (pending durations, raised flags), so restarts forget nothing."""

    __tablename__ = "rule_state"
    site_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime]
