"""The server: system of record, dispatch, tickets, the HTTP API and sensor ingest.

Layers point one way: ``api`` (routes) → ``services`` → ``models``. Pure cores
(``lifecycle``, ``rules``) import no framework. Nothing here imports the kiosk; from the sensors
it reads only ``sensors.contract``.
"""
