"""Moving a single-site Pi's database into a district's centre (issue 19).

``servicepoint district export`` copies a Pi's SQLite consistently (as ``db backup`` does);
``servicepoint district import FILE --site site-07`` copies every row of it into the centre under
that site id: the tables enumerated from the metadata in dependency order, integer ids and the
keys that point at them renamed, each row's site set, idempotently (a second run changes
nothing: what was moved is recorded in ``district_import_ids``), refusing a site that holds
another Pi's data, and printing what was moved per table.

- ``plan.py``: which tables are moved and how, and which are skipped on purpose and why
  (a table added later is classified by the same rules, or the import refuses to run);
- ``move.py``: the copy itself, on one transaction of the centre;
- ``server/district_records.py``: the import's own record (migration 0710);
- ``cli.py``: the two commands, registered in servicepoint/cli.py.
"""
