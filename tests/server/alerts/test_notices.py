"""Request notices: their wording (pure), who hears them with the fallbacks (the site file's
channels in a real database), and the settings for them in config/alerts.toml."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.errors import ConfigError
from server.alerts import (
    NoticeKind,
    RequestFacts,
    SiteInfo,
    compose_notice,
    load_alerts_config,
    notice_key,
)
from server.alerts.contacts import ContactBook
from server.alerts.rows import ContactChannel
from server.db import make_engine, session_factory
from server.models import Squad, User, Volunteer
from server.services.site_data import apply_site_data, load_site_data
from tests.conftest import REPO

SITE = SiteInfo(id="site-01", name_zh="劳动路社区服务站", name_en="Laodong Road Service Point")
FILED = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Changsha
FACTS = RequestFacts(ticket_id=7, number="K1-0042", category_zh="水电维修",
                     category_en="Water & electrical repair", place="劳动新村 1栋 1单元",
                     filed_at=FILED, urgent=False, target_hours=4)
LINK = "http://sp.example/staff/tickets/7"


def compose(kind: NoticeKind, facts: RequestFacts = FACTS, *, at: datetime = FILED,
            level: int = 0, link: str = LINK) -> tuple[str, list[str]]:
    message = compose_notice(kind=kind, facts=facts, site=SITE, at=at, link=link, level=level,
                             key="k", timezone="Asia/Shanghai")
    assert message.kind is kind and message.ticket_id == "7" and message.level == level
    return message.title, message.body.splitlines()


def test_a_new_request_says_number_category_place_age_and_where_to_dispatch() -> None:
    title, lines = compose(NoticeKind.NEW_REQUEST, at=FILED + timedelta(minutes=12))
    assert title == "新请求 K1-0042 水电维修 | New request K1-0042: Water & electrical repair"
    assert lines[:4] == ["编号 Number：K1-0042",
                         "类别 Category：水电维修 Water & electrical repair",
                         "地点 Place：劳动新村 1栋 1单元",
                         "提交 Filed：2026-11-25 09:00（12 分钟前 / 12 min ago）"]
    assert lines[-1] == f"请派单 Please dispatch：{LINK}"


def test_an_urgent_unplaced_request_says_so() -> None:
    facts = RequestFacts(**{**FACTS.__dict__, "urgent": True, "place": ""})
    title, lines = compose(NoticeKind.NEW_REQUEST, facts, at=FILED + timedelta(hours=50))
    assert title.startswith("【紧急】新请求") and "| URGENT New request" in title
    assert "地点 Place：待工作人员确定 / to be placed by staff" in lines
    assert lines[3].endswith("（2 天前 / 2 days ago）")


def test_a_dispatch_carries_the_leaders_note_and_the_task_link() -> None:
    facts = RequestFacts(**{**FACTS.__dict__, "volunteer": "建国", "note": "带上扳手"})
    title, lines = compose(NoticeKind.DISPATCHED, facts, link="http://sp.example/v/t/abc")
    assert title == "派单给您 K1-0042 水电维修 | A task for you: K1-0042 Water & electrical repair"
    assert "队长留言 Note：带上扳手" in lines
    assert lines[-1].endswith("：http://sp.example/v/t/abc")
    _, plain = compose(NoticeKind.DISPATCHED)
    assert not any(line.startswith("队长留言") for line in plain)


def test_a_decline_names_who_and_why() -> None:
    facts = RequestFacts(**{**FACTS.__dict__, "volunteer": "建国", "note": "在外地"})
    title, lines = compose(NoticeKind.DECLINED, facts)
    assert title == "建国 退回了 K1-0042 水电维修 | 建国 declined K1-0042"
    assert "原因 Reason：在外地" in lines
    _, silent = compose(NoticeKind.DECLINED)
    assert "原因 Reason：未填写 / none given" in silent


def test_overdue_to_the_leader_then_escalated_to_staff_with_how_late() -> None:
    title, lines = compose(NoticeKind.OVERDUE, at=FILED + timedelta(hours=4, minutes=1))
    assert title.startswith("超时未接单 K1-0042") and "【升级】" not in title
    assert "目标 Target：4 小时内接单 / accepted within 4 h" in lines
    title, lines = compose(NoticeKind.OVERDUE, at=FILED + timedelta(hours=5, minutes=30), level=1)
    assert title.startswith("【升级】超时未接单") and "[Escalated] Not accepted in time" in title
    assert "已超时 90 分钟无人接单 / Not accepted 90 min past its target" in lines


def test_the_residents_message_is_short_with_their_phone_page() -> None:
    facts = RequestFacts(**{**FACTS.__dict__, "volunteer": "建国"})
    title, lines = compose(NoticeKind.RESOLVED, facts, link="http://sp.example/r/tok")
    assert title == "您的请求 K1-0042 已完成 | Your request K1-0042 is done"
    assert lines[0] == ("劳动路社区服务站：志愿者建国已完成您的水电维修请求（K1-0042），"
                        "请确认并评价：http://sp.example/r/tok")
    assert len(lines) == 2


def test_notice_keys_are_one_per_history_row_or_per_ladder_rung() -> None:
    keys = {notice_key("site-01", ticket_id=7, kind=NoticeKind.OVERDUE, level=level,
                       event_id=None) for level in (1, 2)}
    keys.add(notice_key("site-01", ticket_id=7, kind=NoticeKind.OVERDUE, level=0, event_id=9))
    assert keys == {"site-01:ticket-7:overdue:1", "site-01:ticket-7:overdue:2",
                    "site-01:event-9:overdue"}


# --- config/alerts.toml's [requests] ---------------------------------------------------------

SHIPPED = REPO / "config" / "alerts.toml"


def test_residents_are_not_texted_unless_the_variable_is_set() -> None:
    config = load_alerts_config(SHIPPED, env={}, require_secrets=False, timezone="Asia/Shanghai")
    assert config.resident_sms_url is None
    assert config.staff_after == timedelta(minutes=60)
    config = load_alerts_config(
        SHIPPED, env={"SERVICEPOINT_NOTIFY_RESIDENT_SMS_URL": "smseagle://t@gw/{phone}"},
        require_secrets=False, timezone="Asia/Shanghai")
    assert config.resident_sms_url == "smseagle://t@gw/{phone}"


def test_an_sms_url_without_a_place_for_the_number_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text('[requests]\nresident_sms_url_env = "SMS"\nstaff_after_minutes = 30\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_alerts_config(path, env={"SMS": "smseagle://t@gw/13800000000"},
                           timezone="Asia/Shanghai")
    assert caught.value.key == "requests.resident_sms_url_env"
    assert "{phone}" in str(caught.value)


# --- who hears it: the site file's channels and the fallbacks --------------------------------

ENV = {"SERVICEPOINT_NOTIFY_SQUAD1_URL": "wecombot://squad1",
       "SERVICEPOINT_NOTIFY_V01_URL": "dingtalk://v01/",
       "SERVICEPOINT_ALERT_DUTY_WECOM_URL": "wecombot://duty"}


@pytest.fixture
def contacts_db(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    with session_factory(engine)() as db:
        yield db
    engine.dispose()


def book(env: dict[str, str]) -> ContactBook:
    config = load_alerts_config(SHIPPED, env=env, require_secrets=False,
                                timezone="Asia/Shanghai")
    return ContactBook(config=config, site_id="site-01", env=env)


def test_people_fall_back_to_their_squad_and_squads_to_the_duty_staff(
        contacts_db: Session) -> None:
    db, contacts = contacts_db, book(ENV)
    squad1 = db.scalar(select(Squad).where(Squad.code == "squad-1"))
    squad2 = db.scalar(select(Squad).where(Squad.code == "squad-2"))
    reach = contacts.for_squad(db, squad_id=squad1.id, urgent=False)
    assert [r.key for r in reach.recipients] == ["squad:squad-1/wecom"] and not reach.fallback
    reach = contacts.for_squad(db, squad_id=squad2.id, urgent=False)
    assert [r.key for r in reach.recipients] == ["duty/wecom"] and reach.fallback
    assert contacts.for_squad(db, squad_id=None, urgent=True).recipients[0].key == "duty/wecom"

    jianguo = db.scalar(select(Volunteer).where(Volunteer.code == "v01"))
    xiuying = db.scalar(select(Volunteer).where(Volunteer.code == "v02"))
    guoqing = db.scalar(select(Volunteer).where(Volunteer.code == "v05"))
    assert [r.key for r in contacts.for_volunteer(db, jianguo, urgent=False).recipients] == [
        "volunteer:v01/wecom"]
    reach = contacts.for_volunteer(db, xiuying, urgent=False)
    assert [r.key for r in reach.recipients] == ["squad:squad-1/wecom"] and reach.fallback
    assert [r.key for r in contacts.for_volunteer(db, guoqing, urgent=False).recipients] == [
        "duty/wecom"]
    # Leader 1 has no channel of their own: the squad's group hears it.
    assert [r.key for r in contacts.for_leaders(db, squad_id=squad1.id, urgent=False)
            .recipients] == ["squad:squad-1/wecom"]
    # The outbox finds a recipient again by its name, with the URL as the environment has it.
    found = contacts.resolve(db, "volunteer:v01", "wecom")
    assert found is not None and found.url == "dingtalk://v01/"
    assert contacts.resolve(db, "volunteer:v02", "wecom") is None


def test_start_up_names_who_cannot_be_reached(contacts_db: Session) -> None:
    lines = book(ENV).unreachable(contacts_db)
    assert any(line.startswith("squad squad-2") and "duty staff" in line for line in lines)
    assert not any(line.startswith("squad squad-1") for line in lines)
    assert any("told through their squad's channel: v02 秀英, v03 志强, v04 丽华" in line
               for line in lines)
    nobody = book({}).unreachable(contacts_db)
    assert nobody[0].startswith("duty staff: no channel")


def test_a_leaders_own_channel_and_a_reload_of_the_site_file(contacts_db: Session,
                                                             tmp_path: Path) -> None:
    db = contacts_db
    text = (REPO / "config" / "demo-site.toml").read_text(encoding="utf-8")
    text = text.replace('display_name = "第一小分队队长"\n',
                        'display_name = "第一小分队队长"\n'
                        'channels = [{ name = "mail", url_env = "LEADER1_MAIL_URL" }]\n')
    text = text.replace('channels = [{ name = "wecom", url_env = "SERVICEPOINT_NOTIFY_V01_URL" }]',
                        'channels = []')
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    apply_site_data(db, data=load_site_data(path))
    contacts = book({**ENV, "LEADER1_MAIL_URL": "mailtos://u:p@smtp.example?to=l1@example"})
    squad1 = db.scalar(select(Squad).where(Squad.code == "squad-1"))
    assert [r.key for r in contacts.for_leaders(db, squad_id=squad1.id, urgent=False)
            .recipients] == ["user:leader1/mail"]
    leader = db.scalar(select(User).where(User.username == "leader1"))
    assert [c.url_env for c in db.scalars(select(ContactChannel).where(
        ContactChannel.user_id == leader.id))] == ["LEADER1_MAIL_URL"]
    jianguo = db.scalar(select(Volunteer).where(Volunteer.code == "v01"))
    assert db.scalars(select(ContactChannel).where(
        ContactChannel.volunteer_id == jianguo.id)).all() == []


def test_a_channel_in_the_site_file_names_a_variable_never_a_url(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('[[squad]]\ncode = "s1"\nname = "一队"\n'
                    'channels = [{ name = "wecom", url_env = "wecombot://key" }]\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_site_data(path)
    assert caught.value.key == "squad.0.channels.0.url_env"
