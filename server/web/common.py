"""What every web page shares: the language, rendering, CSRF, the sign-in cookie and error pages.

Pages are routes on routers built with :class:`WebRoute`. It turns the errors services raise on
purpose (``server.errors``) into an HTML page in the reader's language instead of the API's
JSON, and a missing sign-in into a redirect to ``/login``; the JSON API keeps its own handlers.

    router = APIRouter(route_class=WebRoute)

    @router.get("/x")
    def x(request: Request, user: WebStaff) -> HTMLResponse:
        return render(request, "x.html", {"user": user})

CSRF: every visitor gets a random ``sp_csrf`` cookie; each form carries
HMAC(secret_key, cookie | session token). A cross-site page can neither read the cookie nor
compute the HMAC, and binding it to the session means a token stops working at sign-out.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from foundation.redact import redact_path
from server.api.deps import NowDep, SessionDep, refuse_read_only_write
from server.errors import Forbidden, NotAuthenticated, ServerError, Throttled
from server.facilities import REPORT_CONDITION_NAMES
from server.lifecycle import HistoryAction, Status
from server.models import DISPATCH_ROLES, STAFF_ROLES, Role, User
from server.rules import Condition, name_of
from server.security import user_for_token
from server.settings import ServerSettings
from server.web.words import N_, pgettext_noop, words_for

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CsrfChecked",
    "LoginRequired",
    "spreadsheet_cell",
    "WebDispatcher",
    "WebRoute",
    "WebStaff",
    "WebUser",
    "WebVolunteer",
    "lang_of",
    "redirect",
    "render",
    "set_session_cookie",
    "clear_session_cookie",
]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LANGS = ("zh", "en")
SESSION_COOKIE = "sp_session"  # the name server.api.deps.session_token also reads
CSRF_COOKIE = "sp_csrf"
LANG_COOKIE = "sp_lang"
CSRF_FIELD = "csrf_token"

templates = Jinja2Templates(directory=str(HERE / "templates"))

# Codes in words, translated per reader from the web catalog (server.web.words): a context
# per family keeps each apart from the same Chinese elsewhere on the pages.
_H = HistoryAction
STATUS_WORDS: dict[str, tuple[str, str]] = {
    Status.NEW: pgettext_noop("ticket status", "新建"),
    Status.DISPATCHED: pgettext_noop("ticket status", "已派单"),
    Status.ACCEPTED: pgettext_noop("ticket status", "已接单"),
    Status.IN_PROGRESS: pgettext_noop("ticket status", "处理中"),
    Status.RESOLVED: pgettext_noop("ticket status", "已完成"),
    Status.CLOSED: pgettext_noop("ticket status", "已关闭"),
    Status.CANCELLED: pgettext_noop("ticket status", "已取消"),
    Status.DUPLICATE: pgettext_noop("ticket status", "重复")}
# Every history action has a label in both languages (tests/server/test_history_labels.py).
ACTION_WORDS: dict[str, tuple[str, str]] = {
    _H.FILE: pgettext_noop("history", "登记"), _H.DISPATCH: pgettext_noop("history", "派单"),
    _H.ACCEPT: pgettext_noop("history", "接单"), _H.DECLINE: pgettext_noop("history", "婉拒"),
    _H.START: pgettext_noop("history", "开始处理"), _H.RESOLVE: pgettext_noop("history", "完成"),
    _H.REOPEN: pgettext_noop("history", "重新处理"), _H.CLOSE: pgettext_noop("history", "关闭"),
    _H.CANCEL: pgettext_noop("history", "取消"),
    _H.DUPLICATE: pgettext_noop("history", "标为重复"), _H.NOTE: pgettext_noop("history", "备注"),
    _H.OVERDUE: pgettext_noop("history", "超时提醒"),
    _H.CLEARED: pgettext_noop("history", "状况解除"),
    _H.ACKNOWLEDGED: pgettext_noop("history", "确认告警"),
    _H.CLEANING_RECORDED: pgettext_noop("history", "记录清洗"),
    _H.EVIDENCE: pgettext_noop("history", "传感器读数"),
    _H.RAISED: pgettext_noop("history", "传感器报警"),
    _H.RESIDENT_REPORT: pgettext_noop("history", "居民报告")}
AGENT_WORDS = {"water": N_("水基型"), "dry_powder": N_("干粉"), "co2": N_("二氧化碳"),
               "clean_agent": N_("洁净气体")}
CHANNEL_WORDS = {"kiosk": N_("一体机"), "phone": N_("手机"), "staff": N_("工作人员代登记"),
                 # TRANSLATORS: the city platform's standard (Open311 GeoReport) a request came by.
                 "open311": N_("Open311")}
ROLE_WORDS: dict[str, tuple[str, str]] = {
    Role.ADMIN: pgettext_noop("role", "站长"), Role.STAFF: pgettext_noop("role", "工作人员"),
    Role.SQUAD_LEADER: pgettext_noop("role", "小分队队长"),
    Role.VOLUNTEER: pgettext_noop("role", "志愿者"),
    Role.STREET_OFFICE: pgettext_noop("role", "街道办"),
    Role.DISTRICT_ADMIN: pgettext_noop("role", "区管理员")}
# Not in the catalog: a condition's names in both languages are the rules' own
# (server.rules.name_of), shared with the alerts and the kiosk's API.
CONDITION_ZH = {c.value: name_of(c)[0] for c in Condition}
CONDITION_EN = {c.value: name_of(c)[1] for c in Condition}
# Residents' reports about a tank or a bay (server/facilities.py) are conditions too.
CONDITION_ZH |= {code: names[0] for code, names in REPORT_CONDITION_NAMES.items()}
CONDITION_EN |= {code: names[1] for code, names in REPORT_CONDITION_NAMES.items()}


# The pages load only their own files: scripts and styles come from /static (no inline script,
# no style attribute), so injected markup cannot run or restyle anything; forms post and pages
# are framed only here. The browser tests fail on any violation.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


# --- language -------------------------------------------------------------------------------


def lang_of(request: Request) -> str:
    """?lang= wins (links shared between people), then the toggle's cookie, then Chinese."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    return kept if kept in LANGS else "zh"


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _toggle_href(request: Request, lang: str) -> str:
    other = "en" if lang == "zh" else "zh"
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in request.query_params.multi_items()
                     if k != "lang")
    here = request.url.path + (f"?{query}" if query else "")
    return f"/lang/{other}?next={quote(here, safe='')}"


# --- CSRF -----------------------------------------------------------------------------------

def _settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def _csrf_for(request: Request, cookie: str) -> str:
    secret = _settings(request).security.secret_key.encode()
    session = request.cookies.get(SESSION_COOKIE, "")
    return hmac.new(secret, f"{cookie}|{session}".encode(), hashlib.sha256).hexdigest()


class CsrfRefused(Forbidden):
    code = "csrf"


async def check_csrf(request: Request) -> None:
    """Refuse a form that did not come from one of our own pages."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = urlsplit(origin).netloc
        if host != request.headers.get("host"):
            log.warning("form to %s refused: origin %s", redact_path(request.url.path),
                        origin[:80])
            raise CsrfRefused("this form came from another site")
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(
            sent.encode(), _csrf_for(request, cookie).encode()):
        log.warning("form to %s refused: missing or stale CSRF token",
                    redact_path(request.url.path))
        raise CsrfRefused("the form has expired; go back, reload the page and try again")


CsrfChecked = Annotated[None, Depends(check_csrf)]


# --- rendering ------------------------------------------------------------------------------

@pass_context
def _local(context: Any, value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time (or its ISO text, as the sensing views give) in the site's time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(context["site"].timezone)).strftime(fmt)


templates.env.filters["local"] = _local
# The templates ship with the code and change only with it: no stat() of the file per page.
templates.env.auto_reload = False


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status: int = 200, user: User | None = None) -> HTMLResponse:
    """Render a page with what every template needs: language, site, user, a CSRF token."""
    lang = lang_of(request)
    settings = _settings(request)
    cookie = request.cookies.get(CSRF_COOKIE)
    fresh = cookie is None
    if fresh:
        cookie = secrets.token_urlsafe(24)
    assert cookie is not None

    words = words_for(lang)
    # The phone and opening hours staff set in the browser over the file's (server/app.py).
    site, hours = settings.site, ""
    facts_cache = getattr(request.app.state, "site_facts", None)
    if facts_cache is not None:
        facts = facts_cache.get()
        site = site.model_copy(update={"phone": facts.phone})
        hours = (facts.opening_hours_en or facts.opening_hours_zh) if lang == "en" else (
            facts.opening_hours_zh)

    def in_words(table: dict[str, tuple[str, str]]) -> Callable[[str], str]:
        """A code (a status, a history action, a role) in the reader's words, else as it is."""
        return lambda code: words.pgettext(*table[code]) if code in table else code

    def condition_text(condition: str) -> str:
        return (CONDITION_EN if lang == "en" else CONDITION_ZH).get(condition, condition)

    def agent_text(agent: str) -> str:
        return words.gettext(AGENT_WORDS[agent]) if agent in AGENT_WORDS else agent

    def channel_text(channel: str) -> str:
        return words.gettext(CHANNEL_WORDS[channel]) if channel in CHANNEL_WORDS else channel

    base: dict[str, Any] = {
        "lang": lang, "_": words.gettext, "pgettext": words.pgettext,
        # Words stored with both languages (a category's names, the site's name): no catalog.
        "pick": lambda zh, en: (en or zh) if lang == "en" else zh,
        "site": site, "opening_hours": hours, "user": user,
        "csrf_token": _csrf_for(request, cookie),
        "csrf_field": CSRF_FIELD, "toggle_href": _toggle_href(request, lang),
        "status_text": in_words(STATUS_WORDS), "action_text": in_words(ACTION_WORDS),
        "role_text": in_words(ROLE_WORDS),
        "condition_text": condition_text, "agent_text": agent_text,
        "channel_text": channel_text,
        "path": request.url.path,
    }
    base.update(context or {})
    response = templates.TemplateResponse(request, name, base, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"  # phone tokens live in URLs
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if fresh:
        response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="lax",
                            secure=_secure(request), path="/")
    return response


def spreadsheet_cell(value: object) -> object:
    """A CSV cell Excel will not read as a formula (CSV injection): text starting with = + - @
    or a tab is quoted with a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def redirect(target: str) -> RedirectResponse:
    """After a form: 303 so that reloading the next page does not post again."""
    return RedirectResponse(target, status_code=303)


def _secure(request: Request) -> bool:
    return _settings(request).http.public_url.startswith("https://")


def set_session_cookie(request: Request, response: Response, token: str, *,
                       max_age_s: int | None = None) -> None:
    """``max_age_s``: how long the browser keeps it (a sliding session's is longer than its
    first lifetime: the server decides when it ends); by default the staff session's hours."""
    hours = _settings(request).security.session_hours
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age_s or hours * 3600, httponly=True,
                        samesite="lax", secure=_secure(request), path="/")


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=_secure(request))


# --- who is signed in -----------------------------------------------------------------------

class LoginRequired(NotAuthenticated):
    """No valid session cookie: the page answers with a redirect to the sign-in form."""


def web_user(request: Request, db: SessionDep, now: NowDep) -> User:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired("sign in first")
    try:
        user = user_for_token(db, token=token, now=now)  # scopes db to the user's sites
    except NotAuthenticated:
        raise LoginRequired("the session has expired") from None
    refuse_read_only_write(request, user)
    return user


WebUser = Annotated[User, Depends(web_user)]


def _roles(*roles: str) -> Callable[[User], Awaitable[User]]:
    async def check(user: WebUser) -> User:  # no I/O: no worker thread
        if user.role not in roles:
            raise Forbidden("this page is not for your role")
        return user

    return check


WebStaff = Annotated[User, Depends(_roles(*STAFF_ROLES))]
WebDispatcher = Annotated[User, Depends(_roles(*DISPATCH_ROLES))]
WebVolunteer = Annotated[User, Depends(_roles(Role.VOLUNTEER))]


# --- errors as pages ------------------------------------------------------------------------

# An error page's title and hint per status.
_ERROR_TEXT = {
    400: (N_("请求有误"), N_("请返回上一页再试一次。")),
    401: (N_("请先登录"), N_("请登录后再打开此页面。")),
    403: (N_("无权访问"), N_("您的账号不能打开此页面或执行此操作。")),
    404: (N_("找不到页面"), N_("链接可能有误或已失效。如需帮助，请致电服务站。")),
    409: (N_("状态已变化"), N_("这张单子刚刚被其他人处理过，请返回并刷新页面。")),
    422: (N_("输入有误"), N_("请返回上一页检查填写的内容。")),
    429: (N_("操作太频繁"), N_("请稍等一两分钟再试。")),
}
_CSRF_TEXT = (N_("页面已过期"),
              N_("为了安全，表单需要从本站最新的页面提交。请返回上一页，刷新后再提交一次。"))


def error_page(request: Request, status: int, detail: str = "", *,
               csrf: bool = False) -> HTMLResponse:
    title, hint = _CSRF_TEXT if csrf else _ERROR_TEXT.get(status, _ERROR_TEXT[400])
    words = words_for(lang_of(request))
    return render(request, "error.html", {
        "status": status, "title": words.gettext(title), "hint": words.gettext(hint),
        "detail": detail}, status=status)


class WebRoute(APIRoute):
    """A page route: purposeful errors become a page, a missing sign-in a redirect."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                back = request.url.path if request.method == "GET" else "/"
                if request.method == "GET" and request.url.query:
                    back += "?" + request.url.query
                return redirect(f"/login?next={quote(back, safe='')}")
            except CsrfRefused as exc:
                return error_page(request, 403, exc.message, csrf=True)
            except Throttled as exc:
                return error_page(request, 429, exc.message)
            except ServerError as exc:
                return error_page(request, exc.status_code, exc.message)
            except RequestValidationError as exc:
                # A bad path (a mangled phone link) is "not found" to a person.
                first = exc.errors()[0] if exc.errors() else {}
                status = 404 if first.get("loc", ("",))[0] == "path" else 422
                return error_page(request, status, str(first.get("msg", "")))

        return page
