"""Appointments (预约上门): services done at a time, not as soon as possible (a home haircut, a
certificate done at home).

- :mod:`.rules` (pure): what a slot may be, the weekly repeat, when reminders are due;
- :mod:`.models`: the tables (slots with a ``taken`` counter the database holds to its
  capacity, and one booking row per request that took a place);
- :mod:`.booking`: taking and freeing a place inside the filing's own transaction (imported by
  ``server.services.requests`` and ``server.services.tickets``), and the slots residents see;
- :mod:`.service`: what staff and squad leaders do (publish, cancel, mark done or no-show);
- :mod:`.reminders`: the day-before and hour-before notices, run by the notice courier.

This package imports only what lies below the services (models, ticketing, alerts), so the
services may import it without a circle. Pages: ``server/web/appointments.py``; API:
``server/api/routes/appointments.py``.
"""
