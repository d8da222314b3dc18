"""Volunteer service records (志愿服务记录, 民政部令第67号): the hours behind 党员接单.

    hours.py        pure: a job's minutes from its history; a leader's correction checked
    models.py       corrections and issued certificates (migration 0707)
    service.py      a volunteer's record for a period; corrections; issuing a certificate
    certificate.py  the certificate as an A4 page (PDF or PNG) with its verification QR code

The pages are server/web/records.py: the volunteer's own record (/v/record), the staff's view
with corrections and certificates, and the public verification page (/c/<token>), which shows
the certificate's number, period and hours and nothing else about the person.
"""
