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
    AdminSection("/admin/places", pgettext_noop("admin section", "地点和网格"),
                 N_("小区、楼栋、单元和别名、位置；网格由哪个小分队负责")),
    AdminSection("/admin/categories", pgettext_noop("admin section", "服务类别"),
                 N_("名称、所需技能、接单时限、一体机是否显示、问题和答案；停用")),
    AdminSection("/admin/site", pgettext_noop("admin section", "站点设置"),
                 N_("服务电话、开放时间、告警免打扰时间")),
    AdminSection("/admin/open311", pgettext_noop("admin section", "Open311 接入"),
                 N_("其他系统的接入和密钥：添加、换新密钥、停用")),
    AdminSection("/admin/library", pgettext_noop("admin section", "图书室"),
                 N_("添加书和册数、下架、打印书标和借书卡、登记和停借读者")),
    AdminSection("/admin/import", pgettext_noop("admin section", "批量导入"),
                 N_("从表格导入志愿者、小区楼栋单元和图书：先预览每一行，再全部导入")),
    AdminSection("/staff/equipment", pgettext_noop("admin section", "消防和供水设备"),
                 N_("灭火器台账和二维码标签、月检、送修和报废到期；蓄水池清洗和水质检测")),
]
