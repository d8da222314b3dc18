"""Open311 GeoReport v2: how a city platform or another outside tool lists services, files and
reads requests (docs/API.md says what a client can rely on).

- ``places``: the pure matcher that places a free-text address or a position on the site;
- ``xml``: the spec's XML, written from the same dicts as the JSON;
- ``models``: clients and their API keys, what each filing carried, places' other names and
  positions;
- ``service``: the work, over the system of record (files through server/services/requests.py);
- ``cli``: ``servicepoint open311 key NAME``.

HTTP lives in server/api/routes/open311.py, which calls ``service``.
"""
