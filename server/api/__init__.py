"""The HTTP API: routes, schemas and dependencies. Routes call ``server.services`` only.

The application that mounts these routes beside the web pages and the library's is built one
level up, by :func:`server.app.create_app`; this package imports nothing on its own, so the web
pages and the library can use ``server.api.deps`` without an arrow pointing back at them.
"""
