"""Tables of the volunteer service records (志愿服务记录).

- :class:`HoursCorrection`: a squad leader's correction of the minutes one volunteer served on
  one job (rows are only added; the newest counts, and each is also a line in the ticket's
  history, so the correction is visible where the job is).
- :class:`Activity`: a group activity staff set up (the morning patrol, a repair drive), with
  the token its QR code carries; :class:`Attendance`: one volunteer's sign-in and sign-out at
  one activity (one row per volunteer and activity).
- :class:`ServiceCertificate`: a certificate staff issued for a period: what it said (hours,
  jobs), who issued it and when, and the token of its public verification page. The figures
  are kept as issued, so the page confirms the paper even after later corrections.

Registered for migrations in server/all_models.py; created by migration 0707.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models import Base, SiteScoped, Volunteer, utcnow

__all__ = ["Activity", "Attendance", "HoursCorrection", "ServiceCertificate"]


class HoursCorrection(Base):
    __tablename__ = "service_hours_corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    corrected_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceCertificate(SiteScoped, Base):
    __tablename__ = "service_certificates"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    verify_token: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[str] = mapped_column(String(40), default="site-01")
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    jobs: Mapped[int] = mapped_column(Integer)
    issuer_name: Mapped[str] = mapped_column(String(120))
    issued_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    volunteer: Mapped[Volunteer] = relationship()


class Activity(SiteScoped, Base):
    __tablename__ = "service_activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[str] = mapped_column(String(40), default="site-01")
    title: Mapped[str] = mapped_column(String(80))
    place: Mapped[str] = mapped_column(String(120), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="activity", order_by="Attendance.signed_in_at")


class Attendance(Base):
    __tablename__ = "service_attendance"
    __table_args__ = (UniqueConstraint("activity_id", "volunteer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("service_activities.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    signed_in_at: Mapped[datetime]
    signed_out_at: Mapped[datetime | None]
    activity: Mapped[Activity] = relationship(back_populates="attendance")
    volunteer: Mapped[Volunteer] = relationship()
