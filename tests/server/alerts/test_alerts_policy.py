"""Alert policy: wording, escalation ladder, quiet hours, retry backoff, outbox keys."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors import contract
from server.alerts import (
    AlertKind,
    AlertMessage,
    AlertSubject,
    EscalationLadder,
    InvalidPolicy,
    QuietHours,
    Recipient,
    RetryPolicy,
    SiteInfo,
    compose_alert,
    delivery_key,
    due_levels,
    in_quiet_hours,
    next_attempt_at,
    next_escalation_at,
    recipients_for_level,
    release_at,
    retry_delay,
)
from server.rules import (
    ChangeKind,
    Condition,
    ConditionChange,
    DueCondition,
    Severity,
)

SITE = SiteInfo("site-01", "劳动路社区服务站", "Laodong Road Community Service Point")
T0 = datetime(2026, 11, 25, 1, 12, tzinfo=UTC)  # 09:12 in Changsha
TZ = "Asia/Shanghai"


def compose(**kwargs: Any) -> AlertMessage:
    """compose_alert for the site above, in its time zone."""
    return compose_alert(timezone=TZ, **kwargs)
OVERFLOW = ConditionChange(
    asset_id="tank-1", condition=Condition.OVERFLOW, kind=ChangeKind.RAISED,
    severity=Severity.URGENT, at=T0, since=T0 - timedelta(seconds=10),
    evidence={"level_percent": 99.0, "overflow_float_up": True, "volume_l": None},
)


def changsha(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) + timedelta(hours=-8)


# --- wording -------------------------------------------------------------------------------


def test_raised_alert_for_an_urgent_condition() -> None:
    subject = AlertSubject.from_change(OVERFLOW, asset_name="1号蓄水池")
    alert = compose(kind=AlertKind.RAISED, subject=subject, site=SITE, ticket_id=42, at=T0,
                          link="http://sp.local/t/42")
    assert alert.urgent
    assert alert.key == "site-01:ticket-42:raised:0"
    assert alert.title == ("【紧急】劳动路社区服务站：蓄水池溢流 | URGENT Tank overflowing")
    lines = alert.body.splitlines()
    assert lines[0] == "蓄水池溢流（1号蓄水池）"
    assert lines[1] == "Tank overflowing (tank-1)"
    assert "时间 Time：2026-11-25 09:12" in lines
    assert "开始 Since：2026-11-25 09:11" in lines
    assert "工单 Ticket：#42" in lines
    assert "读数 Evidence：level_percent=99.0, overflow_float_up=True" in lines
    assert lines[-1] == "请确认 Please acknowledge：http://sp.local/t/42"
    assert (alert.asset_id, alert.condition, alert.ticket_id) == ("tank-1", "overflow", "42")


def test_escalated_alert_says_how_long_nobody_answered() -> None:
    subject = AlertSubject.from_change(OVERFLOW)
    alert = compose(kind=AlertKind.ESCALATED, subject=subject, site=SITE, ticket_id=42,
                          at=T0 + timedelta(minutes=10), level=1,
                          unacknowledged_for=timedelta(minutes=10))
    assert alert.key == "site-01:ticket-42:escalated:1"
    assert "【升级】" in alert.title and "[Escalated]" in alert.title
    assert "已10分钟无人确认 / Not acknowledged for 10 min" in alert.body
    assert alert.body.splitlines()[-1] == "请在工作台确认 / Please acknowledge on the dashboard"


def test_cleared_alert_for_a_schedule_condition() -> None:
    due = DueCondition(asset_id="tank-1", condition=Condition.CLEANING_DUE,
                       severity=Severity.NORMAL, due_on=date(2026, 12, 1),
                       due_key="tank-1|cleaning_due|2026-12-01", overdue=False)
    alert = compose(kind=AlertKind.CLEARED, subject=AlertSubject.from_due(due), site=SITE,
                          ticket_id="M-7", at=T0)
    assert not alert.urgent
    assert alert.title.startswith("【已恢复】劳动路社区服务站：蓄水池清洗消毒到期 | [Cleared]")
    assert "到期 Due：2026-12-01" in alert.body
    assert "请确认" not in alert.body


def test_a_ticket_without_an_asset() -> None:
    subject = AlertSubject(title_zh="请求逾期未接单", title_en="Request not accepted in time",
                           urgent=False)
    alert = compose(kind=AlertKind.RAISED, subject=subject, site=SITE, ticket_id=5, at=T0)
    assert alert.body.splitlines()[:2] == ["请求逾期未接单", "Request not accepted in time"]


def test_delivery_key_names_alert_and_recipient_but_no_secret() -> None:
    alert = compose(kind=AlertKind.RAISED, subject=AlertSubject.from_change(OVERFLOW),
                          site=SITE, ticket_id=42, at=T0)
    wang = Recipient("wang", "王站长", "wecom", url="wecombot://SECRETKEY")
    assert delivery_key(alert, wang) == "site-01:ticket-42:raised:0>wang/wecom"
    assert "SECRETKEY" not in repr(wang)


# --- escalation ----------------------------------------------------------------------------

LADDER = EscalationLadder((0, 10, 30))


@pytest.mark.parametrize(("minutes", "levels"), [
    (0, (0,)), (9, (0,)), (10, (0, 1)), (29, (0, 1)), (30, (0, 1, 2)), (600, (0, 1, 2)),
])
def test_levels_come_due_in_turn(minutes: int, levels: tuple[int, ...]) -> None:
    now = T0 + timedelta(minutes=minutes)
    assert due_levels(started_at=T0, acknowledged=False, now=now, ladder=LADDER) == levels


def test_acknowledging_stops_the_ladder() -> None:
    now = T0 + timedelta(minutes=15)
    assert due_levels(started_at=T0, acknowledged=True, now=now, ladder=LADDER) == ()
    assert next_escalation_at(started_at=T0, acknowledged=True, now=now, ladder=LADDER) is None


def test_next_escalation_time() -> None:
    def nxt(minutes: int) -> datetime | None:
        return next_escalation_at(started_at=T0, acknowledged=False,
                                  now=T0 + timedelta(minutes=minutes), ladder=LADDER)

    assert nxt(0) == T0 + timedelta(minutes=10)
    assert nxt(10) == T0 + timedelta(minutes=30)
    assert nxt(30) is None


@pytest.mark.parametrize("steps", [(), (10, 5), (-1, 5)])
def test_impossible_ladders_are_refused(steps: tuple[int, ...]) -> None:
    with pytest.raises(InvalidPolicy):
        EscalationLadder(steps)


def test_recipients_for_a_level() -> None:
    staff = [Recipient("duty", "值班员", "wecom", "wecombot://a", level=0),
             Recipient("head", "站长", "mail", "mailto://b", level=1),
             Recipient("office", "社区办公室", "mail", "mailto://c", level=1, urgent_only=True)]
    assert [r.staff_id for r in recipients_for_level(staff, level=1, urgent=True)] == [
        "head", "office"
    ]
    assert [r.staff_id for r in recipients_for_level(staff, level=1, urgent=False)] == ["head"]


# --- quiet hours ---------------------------------------------------------------------------

NIGHT = QuietHours(time(22), time(7), TZ)


@pytest.mark.parametrize(("hour", "minute", "quiet"), [
    (21, 59, False), (22, 0, True), (23, 30, True), (0, 0, True), (6, 59, True), (7, 0, False),
    (12, 0, False),
])
def test_quiet_hours_across_midnight(hour: int, minute: int, quiet: bool) -> None:
    assert in_quiet_hours(changsha(hour, minute), NIGHT) is quiet


def test_quiet_hours_within_one_day_and_disabled() -> None:
    nap = QuietHours(time(12), time(14), TZ)
    assert in_quiet_hours(changsha(13), nap)
    assert not in_quiet_hours(changsha(14), nap)
    assert not in_quiet_hours(changsha(3), nap)
    assert not in_quiet_hours(changsha(3), QuietHours(time(0), time(0), TZ))


def test_urgent_alerts_always_go_at_once() -> None:
    now = changsha(2, 30)
    assert release_at(now, urgent=True, quiet=NIGHT) == now


def test_normal_alerts_wait_for_the_morning() -> None:
    assert release_at(changsha(23, 15), urgent=False, quiet=NIGHT) == changsha(7, day=26)
    assert release_at(changsha(2, 30), urgent=False, quiet=NIGHT) == changsha(7)
    assert release_at(changsha(9), urgent=False, quiet=NIGHT) == changsha(9)
    released = release_at(changsha(23, 15), urgent=False, quiet=NIGHT)
    assert released.tzinfo == UTC  # handed back in the caller's zone


# --- retries -------------------------------------------------------------------------------

POLICY = RetryPolicy(first_delay_s=30, factor=2, max_delay_s=600, max_attempts=8, jitter=0.2)


def test_backoff_doubles_up_to_the_cap_then_gives_up() -> None:
    delays = [retry_delay(n, POLICY, rand=lambda: 0.0) for n in range(1, 9)]
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 600, 600)] + [None]


def test_jitter_only_shortens() -> None:
    assert retry_delay(1, POLICY, rand=lambda: 0.5) == timedelta(seconds=27)
    assert retry_delay(6, POLICY, rand=lambda: 0.999999) > timedelta(seconds=480)


def test_next_attempt_time() -> None:
    assert next_attempt_at(T0, 2, POLICY, rand=lambda: 0.0) == T0 + timedelta(seconds=60)
    assert next_attempt_at(T0, 8, POLICY, rand=lambda: 0.0) is None


def test_bad_retry_input_is_refused() -> None:
    with pytest.raises(InvalidPolicy):
        retry_delay(0, POLICY)
    with pytest.raises(ValueError):
        RetryPolicy(first_delay_s=60, max_delay_s=30)


@given(st.integers(min_value=1, max_value=200),
       st.floats(min_value=0, max_value=1, exclude_max=True))
def test_delays_stay_within_bounds(attempt: int, r: float) -> None:
    policy = RetryPolicy(max_attempts=201)
    delay = retry_delay(attempt, policy, rand=lambda: r)
    assert delay is not None
    assert (1 - policy.jitter) * policy.first_delay_s <= delay.total_seconds() <= policy.max_delay_s


def test_the_alert_kinds_are_the_ones_the_mqtt_contract_carries() -> None:
    # The alert book publishes each alert on MQTT with its kind; the contract must accept it.
    assert {k.value for k in AlertKind} == set(get_args(contract.AlertKindName))
