"""Fixtures for the fuzz tests: the demo SQLite template from the server's fixtures."""

from tests.server.conftest import sqlite_template  # noqa: F401  (fixture)
