"""The month's ledger (台账) as an ``.xlsx`` download for staff (server/ledgers/ makes it).

    GET /staff/ledger.xlsx?year=2026&month=11
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.equipment.ledger import workbook
from server.ledgers.monthly import ledger_tables
from server.services import audit
from server.web.common import WebRoute, WebStaff

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/staff/ledger.xlsx")
def ledger_download(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                    user: WebStaff, year: Annotated[int, Query(ge=2000, le=2100)],
                    month: Annotated[int, Query(ge=1, le=12)]) -> Response:
    data = workbook(ledger_tables(db, year=year, month=month, timezone=settings.site.timezone,
                                  rules=request.app.state.rules, now=now))
    # The roster names volunteers: who took a copy is worth knowing later.
    audit.record(db, actor=user, action="ledger.export", subject=("ledger", f"{year}-{month:02d}"),
                 now=now)
    db.commit()
    log.info("ledger %d-%02d downloaded by %s", year, month, user.username)
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="ledger-{year}-{month:02d}.xlsx"',
        "Cache-Control": "no-store"})
