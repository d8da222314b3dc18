"""Sensor ingest: MQTT readings in, history and latest state kept, rules turned into tickets and
alerts out. It reads only ``sensors.contract`` of the sensor node's code."""
