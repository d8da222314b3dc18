"""Equipment records (issue 16): the extinguisher register's admin, its monthly inspections
and QR labels, the due lists, tank cleanings with their full water tests, and the register
tables for the ledger.

Pure cores: :mod:`.water` (indicators against GB 5749's limits), :mod:`.checklist` (the
monthly inspection's items), :mod:`.due` (inspection, maintenance and scrap within N days).
:mod:`.models` holds the two tables; :mod:`.service` does the work on the database (through
:mod:`server.ticketing` for tickets, :mod:`server.sensing.maintenance` for the cleaning log,
:mod:`server.services.audit` for the log of changes); :mod:`.ledger` turns the registers into
plain tables and ``.xlsx``; :mod:`.labels` draws the QR asset labels. The pages are
``server/web/equipment.py``.
"""
