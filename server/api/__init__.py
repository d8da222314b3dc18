"""The HTTP layer: routes, schemas and dependencies. Routes call ``server.services`` only.

The application is built by :func:`server.api.app.create_app`. This package imports nothing on
its own, so the web pages can use ``server.api.deps`` without loading the whole app.
"""
