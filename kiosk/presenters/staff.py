"""What the staff screen says: whether the status is loading, old or missing, and the four
panels (tanks, extinguisher bays, alerts, open tickets), problems first. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.api import SiteStatus
from kiosk.i18n import tr, tr_code

__all__ = ["StaffPanelView", "staff_panels", "staff_state"]

STAFF_LINES = 3


def staff_state(lang: str, status: SiteStatus | None, state: str,
                outbox_damaged: str = "") -> tuple[str, bool]:
    """(the line beside the title, whether it is a problem): loading, or the server unreachable
    (with or without an older status still shown); otherwise, if the kiosk's outbox was found
    damaged at start, the name of the file it was set aside as (staff fetch it from there)."""
    if outbox_damaged and state not in ("loading", "unreachable"):
        return tr(lang, "staff_outbox_damaged", file=outbox_damaged), True
    text = {
        "loading": tr(lang, "staff_loading"),
        "unreachable": tr(lang, "staff_unreachable" if status else "staff_never"),
    }.get(state, "")
    return text, state == "unreachable"


@dataclass(frozen=True)
class StaffPanelView:
    widget_id: str
    heading: str
    lines: str


def staff_panels(lang: str, status: SiteStatus | None) -> list[StaffPanelView]:
    """The four panels (tanks, extinguisher bays, alerts, open tickets), at most STAFF_LINES
    lines each; the last says how many more when they do not fit."""
    sections = [
        ("tanks", "staff_tanks", _tank_lines(lang, status), True),
        ("bays", "staff_bays", _bay_lines(lang, status), True),
        ("alerts", "staff_alerts", _alert_lines(lang, status), False),
        ("tickets", "staff_tickets", _ticket_lines(lang, status), False),
    ]
    panels = []
    for widget_id, heading, lines, sensor in sections:
        if status is None:
            text = tr(lang, "no_data_yet")
        elif not lines:
            # Sensors that never reported are "no data yet"; an empty ticket list is "none".
            text = tr(lang, "no_data_yet" if sensor else "none_open")
        else:
            shown = lines[:STAFF_LINES]
            if len(lines) > STAFF_LINES:
                shown = lines[:STAFF_LINES - 1]
                shown.append(tr(lang, "and_more", count=len(lines) - len(shown)))
            text = "\n".join(shown)
        panels.append(StaffPanelView(widget_id, tr(lang, heading), text))
    return panels


def _tank_lines(lang: str, status: SiteStatus | None) -> list[str]:
    lines = []
    for tank in status.tanks if status else ():
        level = (f"{tank.level_percent:.0f}%" if tank.level_percent is not None
                 else tr(lang, "unknown"))
        line = tr(lang, "tank_line", name=tank.name, level=level,
                  due=tank.cleaning_due or tr(lang, "unknown"))
        if tank.conditions:
            words = ", ".join(tr_code(lang, "condition", c) for c in tank.conditions)
            line += " " + tr(lang, "tank_conditions", conditions=words)
        lines.append(line)
    return lines


def _bay_lines(lang: str, status: SiteStatus | None) -> list[str]:
    lines = []
    # Problems first: staff glance at the top lines.
    bays = sorted(status.extinguisher_bays if status else (), key=lambda b: b.ok)
    for bay in bays:
        if bay.ok:
            lines.append(tr(lang, "bay_ok", name=bay.name))
            continue
        problems = []
        if bay.present is False:
            problems.append(tr(lang, "bay_missing"))
        if bay.pressure_ok is False:
            problems.append(tr(lang, "bay_pressure"))
        if bay.door_open:
            problems.append(tr(lang, "bay_door"))
        if not problems:
            problems = [tr_code(lang, "condition", c) for c in bay.conditions]
        lines.append(tr(lang, "bay_problem", name=bay.name, problems=", ".join(problems)))
    return lines


def _alert_lines(lang: str, status: SiteStatus | None) -> list[str]:
    alerts = [a for a in (status.alerts if status else ()) if not a.acknowledged]
    alerts.sort(key=lambda a: not a.urgent)
    return [tr(lang, "alert_line", urgent=tr(lang, "alert_urgent") if a.urgent else "",
               title=a.title) for a in alerts]


def _ticket_lines(lang: str, status: SiteStatus | None) -> list[str]:
    return [tr(lang, "ticket_line", number=t.number, title=t.title,
               status=tr_code(lang, "status", t.status))
            for t in (status.open_tickets if status else ())]
