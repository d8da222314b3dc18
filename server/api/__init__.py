"""The HTTP layer: routes, schemas and dependencies. Routes call ``server.services`` only."""

from server.api.app import create_app

__all__ = ["create_app"]
