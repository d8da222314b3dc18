"""The attachment store as a route dependency (``store: AttachmentsDep``), and the larger body
limit of the forms that upload files (:class:`UploadBodyLimit`).

The app keeps one store on ``app.state.attachments``; a test sets its own fake there before the
first request. Without one, the first route that asks builds the store the settings name
(server/attachments.py) and keeps it. Both the JSON API and the web pages import this module.

    @router.post("/x")
    def x(store: AttachmentsDep) -> ...:
        key = store.put(data, media_type="audio/ogg")
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server.api.bodylimit import BodyLimit
from server.attachments import AttachmentStore, attachment_store

__all__ = ["AttachmentsDep", "UploadBodyLimit", "get_attachments"]


async def get_attachments(request: Request) -> AttachmentStore:
    store: AttachmentStore | None = getattr(request.app.state, "attachments", None)
    if store is None:
        store = attachment_store(request.app.state.settings)
        request.app.state.attachments = store
    return store


AttachmentsDep = Annotated[AttachmentStore, Depends(get_attachments)]


class UploadBodyLimit:
    """The app's body limit (server/api/bodylimit.py), with a larger bound on the forms that
    carry files: a POST whose path matches one of ``uploads`` may send ``upload_limit`` bytes,
    every other request ``limit``. Both are counted as the body streams, as BodyLimit does.

        app.add_middleware(UploadBodyLimit, limit=64 * 1024, uploads=UPLOAD_PATHS,
                           upload_limit=31 * 1024 * 1024)
    """

    def __init__(self, app: ASGIApp, limit: int, uploads: Sequence[re.Pattern[str]],
                 upload_limit: int) -> None:
        self.normal = BodyLimit(app, limit=limit)
        self.wide = BodyLimit(app, limit=max(limit, upload_limit))
        self.uploads = tuple(uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope.get("method") == "POST"
                and any(p.match(str(scope.get("path", ""))) for p in self.uploads)):
            await self.wide(scope, receive, send)
        else:
            await self.normal(scope, receive, send)
