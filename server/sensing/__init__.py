"""Sensor ingest, the back half of Flow 1: MQTT readings in, history and latest state kept, rules
turned into maintenance tickets and alerts out. It reads only ``sensors.contract`` of the sensor
node's code.

One module per station, in the order a batch goes through them::

    ingest.py       paho client, queue, worker thread; publishes the alert book on MQTT
    processing.py   the batch loop: one transaction through the stations below
    readings.py     readings stored once per (node, epoch, seq); dead letters
    rule_state.py   what a message tells the pure rules (server.rules); their state per site
    maintenance.py  conditions become tickets (server.ticketing), with an alert in the book
                    (server.alerts.outbox); the cleaning log and its close rule
    services.py     what the staff pages and the API read and do on the sensor side
    models.py       the asset register, readings, latest state, dead letters, rule state
    metrics.py      the ingest's counters for /metrics
"""
