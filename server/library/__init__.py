"""Library lending (图书借阅): catalog, patrons, loans, holds and reminders.

``rules`` is the pure core (no database, no web framework); ``services`` applies it to the
``models``; ``routes`` is the HTTP API for the kiosk and staff; ``labels`` draws label sheets and
patron cards; ``cli`` is ``servicepoint library …``. See docs/LIBRARY.md.
"""
