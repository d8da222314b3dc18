"""The attachment store as a route dependency: ``store: AttachmentsDep``.

The app keeps one store on ``app.state.attachments``; a test sets its own fake there before the
first request. Without one, the first route that asks builds the store the settings name
(server/attachments.py) and keeps it. Both the JSON API and the web pages import this module.

    @router.post("/x")
    def x(store: AttachmentsDep) -> ...:
        key = store.put(data, media_type="audio/ogg")
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.attachments import AttachmentStore, attachment_store

__all__ = ["AttachmentsDep", "get_attachments"]


async def get_attachments(request: Request) -> AttachmentStore:
    store: AttachmentStore | None = getattr(request.app.state, "attachments", None)
    if store is None:
        store = attachment_store(request.app.state.settings)
        request.app.state.attachments = store
    return store


AttachmentsDep = Annotated[AttachmentStore, Depends(get_attachments)]
