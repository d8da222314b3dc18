"""The catalogue services' refusals (server/services/admin_forms.py) shown on an admin form.

The services for places, categories, the site's settings and Open311 clients check their own
forms and answer with problem codes (``FormRefused``) or the record as someone else saved it
(``StaleEdit``); :func:`show_refusal` puts them on the kit's :class:`AdminForm`
(server/web/admin/forms.py), so the page shows each mistake beside its field in the reader's
language and the other person's change beside what was typed.
"""

from __future__ import annotations

from server.services.admin_forms import FormRefused, StaleEdit, version_of
from server.web.admin.forms import AdminForm
from server.web.words import N_

__all__ = ["PROBLEM_WORDS", "show_refusal"]

# A problem code in the reader's words (msgids, translated by the form's macros).
PROBLEM_WORDS = {
    "required": N_("请填写这一项"),
    "choose": N_("请选择一项"),
    "too_long": N_("太长了，请写短一些"),
    "taken": N_("这个代码已经有了，请换一个"),
    "unknown": N_("没有找到这一项，请从列表中选择"),
    "bad_key": N_("只能用小写英文字母、数字和下划线，以字母开头"),
    "bad_code": N_("只能用英文字母、数字、短横线和下划线"),
    "bad_client_name": N_("只能用英文字母、数字、点、短横线和下划线，最多 60 个字符"),
    "not_number": N_("请填写一个整数"),
    "hours_range": N_("请填写 1 到 720 之间的小时数"),
    "bad_phone": N_("请填写电话号码，只用数字、空格、短横线或开头的 +"),
    "bad_clock": N_("请按 时:分 填写，例如 22:00"),
    "bad_lat": N_("纬度应在 -90 到 90 之间，例如 28.1985"),
    "bad_long": N_("经度应在 -180 到 180 之间，例如 113.027"),
    "bad_radius_m": N_("请填写 1 到 5000 之间的米数"),
    "bad_floors": N_("请填写 1 到 60 之间的层数"),
    "both_or_neither": N_("经度和纬度要么都填，要么都不填"),
    "too_many_aliases": N_("别名最多 20 个，每个最多 60 个字符"),
    "lines": N_("问题和答案有几行写得不对，见下面的说明"),
}
UNKNOWN_PROBLEM = N_("这一项填写有误")


def show_refusal(form: AdminForm, refusal: FormRefused | StaleEdit, *,
                 saved_as_form: dict[str, str] | None = None) -> None:
    """Mark ``form`` with the services' refusal. For a stale edit, ``saved_as_form`` is the
    record as saved, in the form's fields (default: the refusal's own snapshot)."""
    if isinstance(refusal, StaleEdit):
        saved = saved_as_form if saved_as_form is not None else {
            k: "" if v is None else str(v) for k, v in refusal.current.items()}
        # The kit's check compares versions as text: a version here is a hash of the record.
        form.check_version(version_of(refusal.current), saved=saved)  # type: ignore[arg-type]
        return
    for name, problem in refusal.problems.items():
        form.refuse(name, PROBLEM_WORDS.get(problem, UNKNOWN_PROBLEM))
