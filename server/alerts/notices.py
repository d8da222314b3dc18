"""What the people who work a resident's request are told, all pure: the wording of each notice.

The request side (``server.services.notices``) gathers a request's facts from the database and
chooses who hears it (:mod:`server.alerts.contacts`); this module only writes the words, Chinese
first and English after, as the staff alerts are (:func:`server.alerts.policy.compose_alert`)::

    facts = RequestFacts(ticket_id=7, number="K1-0042", category_zh="水电维修",
                         category_en="Water & electrical repair", place="劳动新村 1栋 1单元",
                         filed_at=filed, urgent=False)
    message = compose_notice(kind=NoticeKind.NEW_REQUEST, facts=facts, site=site, at=now,
                             link=f"{public_url}/staff/tickets/7", timezone="Asia/Shanghai",
                             key="site-01:event-9:new_request")

A notice carries no phone number: the volunteer sees the resident's number on the task page,
where each reveal is logged, not in a group chat's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.alerts.model import AlertMessage, NoticeKind
from server.alerts.policy import SiteInfo

__all__ = ["RequestFacts", "compose_notice", "notice_key"]


@dataclass(frozen=True)
class RequestFacts:
    """What a notice says about one request."""

    ticket_id: int
    number: str
    category_zh: str
    category_en: str
    place: str  # "劳动新村 1栋 1单元", or "" while staff have not placed it
    filed_at: datetime
    urgent: bool
    target_hours: int | None = None
    volunteer: str = ""  # the volunteer's given name (dispatch, decline, resolve)
    note: str = ""  # the leader's dispatch note, the decline's reason


def notice_key(site_id: str, *, ticket_id: int | str, kind: NoticeKind, level: int,
               event_id: int | None) -> str:
    """A notice's outbox key: one per history row it tells of, or per ticket and ladder level
    for the staff's overdue notices (which no history row starts)."""
    if event_id is not None:
        return f"{site_id}:event-{event_id}:{kind.value}"
    return f"{site_id}:ticket-{ticket_id}:{kind.value}:{level}"


def _age(since: datetime, at: datetime) -> tuple[str, str]:
    minutes = max(int((at - since).total_seconds() // 60), 0)
    if minutes < 1:
        return "刚刚", "just now"
    if minutes < 120:
        return f"{minutes} 分钟前", f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} 小时前", f"{hours} h ago"
    return f"{hours // 24} 天前", f"{hours // 24} days ago"


def compose_notice(*, kind: NoticeKind, facts: RequestFacts, site: SiteInfo, at: datetime,
                   link: str, key: str, timezone: str, level: int = 0) -> AlertMessage:
    """The notice of ``kind`` about one request; ``level`` above 0 is an overdue notice to the
    staff's escalation ladder (level 1 is its first rung, the duty staff)."""
    zone = ZoneInfo(timezone)
    urgent_zh, urgent_en = ("【紧急】", "URGENT ") if facts.urgent else ("", "")
    filed = facts.filed_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    age_zh, age_en = _age(facts.filed_at, at)
    what = [
        f"编号 Number：{facts.number}",
        f"类别 Category：{facts.category_zh} {facts.category_en}",
        f"地点 Place：{facts.place or '待工作人员确定 / to be placed by staff'}",
        f"提交 Filed：{filed}（{age_zh} / {age_en}）",
    ]
    number, cat_zh, cat_en = facts.number, facts.category_zh, facts.category_en
    if kind is NoticeKind.NEW_REQUEST:
        title = f"{urgent_zh}新请求 {number} {cat_zh} | {urgent_en}New request {number}: {cat_en}"
        lines = [*what, f"站点 Site：{site.name_zh} {site.name_en}",
                 f"请派单 Please dispatch：{link}"]
    elif kind is NoticeKind.DISPATCHED:
        title = (f"{urgent_zh}派单给您 {number} {cat_zh} | "
                 f"{urgent_en}A task for you: {number} {cat_en}")
        lines = list(what)
        if facts.note:
            lines.append(f"队长留言 Note：{facts.note}")
        lines.append(f"打开任务（接单、退回、完成）Open the task (accept, decline, done)：{link}")
    elif kind is NoticeKind.DECLINED:
        who = facts.volunteer or "志愿者"
        title = (f"{urgent_zh}{who} 退回了 {number} {cat_zh} | "
                 f"{urgent_en}{facts.volunteer or 'The volunteer'} declined {number}")
        lines = [*what, f"原因 Reason：{facts.note or '未填写 / none given'}",
                 f"请重新派单 Please dispatch it again：{link}"]
    elif kind is NoticeKind.OVERDUE:
        escalated_zh, escalated_en = ("【升级】", "[Escalated] ") if level > 0 else ("", "")
        title = (f"{urgent_zh}{escalated_zh}超时未接单 {number} {cat_zh} | "
                 f"{urgent_en}{escalated_en}Not accepted in time: {number} {cat_en}")
        lines = list(what)
        if facts.target_hours is not None:
            lines.append(f"目标 Target：{facts.target_hours} 小时内接单 / "
                         f"accepted within {facts.target_hours} h")
            late = at - (facts.filed_at + timedelta(hours=facts.target_hours))
            minutes = max(int(late.total_seconds() // 60), 0)
            if level > 0:
                lines.append(f"已超时 {minutes} 分钟无人接单 / "
                             f"Not accepted {minutes} min past its target")
        lines.append(f"请派单或跟进 Please dispatch or follow up：{link}")
    elif kind is NoticeKind.RECEIVED:
        title = f"已为您登记 {number} | Your request {number} is filed"
        lines = [f"{site.name_zh}：工作人员已为您登记{cat_zh}请求（{number}），"
                 f"查看进度：{link}",
                 f"The service point has filed your request {number} ({cat_en}) for you. "
                 f"Follow it here: {link}"]
    else:
        title = f"您的请求 {number} 已完成 | Your request {number} is done"
        who_zh = f"志愿者{facts.volunteer}" if facts.volunteer else "志愿者"
        who_en = f"Volunteer {facts.volunteer}" if facts.volunteer else "The volunteer"
        lines = [f"{site.name_zh}：{who_zh}已完成您的{cat_zh}请求（{number}），"
                 f"请确认并评价：{link}",
                 f"{who_en} has done your request {number} ({cat_en}). "
                 f"Please confirm and rate it: {link}"]
    return AlertMessage(key=key, kind=kind, urgent=facts.urgent, level=level, site_id=site.id,
                        ticket_id=str(facts.ticket_id), title=title, body="\n".join(lines),
                        created_at=at)
