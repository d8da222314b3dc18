"""Imports every module that defines tables, so Base.metadata is complete for migrations and
drift checks. Each part of the server that adds tables adds one import line here."""

import server.alerts.rows  # noqa: F401
import server.appointments.models  # noqa: F401
import server.audit_log  # noqa: F401
import server.district_records  # noqa: F401
import server.equipment.models  # noqa: F401
import server.kiosk_heartbeats  # noqa: F401
import server.library.models  # noqa: F401
import server.models  # noqa: F401
import server.open311.models  # noqa: F401
import server.photo_records  # noqa: F401
import server.place_locations  # noqa: F401
import server.records.models  # noqa: F401
import server.resident_reports  # noqa: F401
import server.sensing.models  # noqa: F401
import server.site_profile  # noqa: F401
import server.sites.models  # noqa: F401
import server.task_access  # noqa: F401
