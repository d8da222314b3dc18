"""Sites (service points) on one record: the district's sites, whose rows each person sees,
and the one place that enforces it.

- ``models.py``: the ``sites`` table and each site's kiosk keys (``site_kiosks``).
- ``rules.py`` (pure): which sites a role reads and which one it acts in.
- ``scoping.py``: the session events (``do_orm_execute`` adds the site criteria to every ORM
  read, ``before_flush`` stamps and checks every write), installed on every session the server
  makes by ``server.db.session_factory``.
The home site at start, the district admin's changes and kiosk keys are in
server/services/sites.py (the services layer, above this package).

Nothing is imported here, so importing a part does not import the others.
"""
