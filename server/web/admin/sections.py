"""The sections the 管理 page (``/admin``) lists, in order. Each admin part adds one line for each
of its pages; the words are marked for the web catalog and shown in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.web.words import N_, pgettext_noop

__all__ = ["SECTIONS", "AdminSection"]


@dataclass(frozen=True)
class AdminSection:
    href: str
    # (context, msgid): the section's name, marked with pgettext_noop("admin section", …) so
    # it may be a plural or a heading where the same Chinese elsewhere is not.
    title: tuple[str, str]
    hint: str  # a msgid (N_); both are translated where they are shown


SECTIONS: list[AdminSection] = [
    AdminSection("/admin/volunteers", pgettext_noop("admin section", "志愿者"),
                 N_("添加志愿者，修改技能、小分队和网格，停用或恢复")),
    AdminSection("/admin/users", pgettext_noop("admin section", "工作人员账号"),
                 N_("添加账号、分配角色、停用、重置密码")),
    AdminSection("/admin/residents", pgettext_noop("admin section", "居民信息"),
                 N_("按姓名或电话查找，查看、导出或删除一位居民的信息")),
    AdminSection("/admin/audit", pgettext_noop("admin section", "操作记录"),
                 N_("谁在什么时候改了什么，查看了谁的信息")),
]
