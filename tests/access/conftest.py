"""Fixtures for the access tests: the server's app, client and sign-ins (tests/server)."""

from tests.server.conftest import (  # noqa: F401  (fixtures)
    app,
    client,
    clock,
    db_url,
    postgres_template,
    settings,
    sqlite_template,
)
