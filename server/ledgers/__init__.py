"""The ledgers (台账) staff hand upward: the month's figures and registers as an ``.xlsx``.

    monthly.py   the month's tables (requests, ratings, hours, maintenance, loans, roster,
                 equipment registers), plain data with Chinese headers
    job.py       on the 1st: write last month's workbook under <data_dir>/ledgers and tell the
                 duty staff's channels where to download it

The download is server/web/ledgers.py (/staff/ledger.xlsx).
"""
