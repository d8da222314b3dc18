"""The daily reminder job under an injected clock, and the typed config/library.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foundation.errors import ConfigError
from server.library import services
from server.library.config import library_config_path, load_policy
from server.library.models import Reminder
from server.library.rules import LendingPolicy
from server.settings import ServerSettings
from tests.library.conftest import CONFIG, POLICY, Readers
from tests.server.conftest import FakeClock


def reminders(db: Session) -> list[tuple[str, str, int]]:
    rows = db.scalars(select(Reminder).order_by(Reminder.created_at, Reminder.kind.desc()))
    return [(r.loan.copy.label, r.kind, r.days) for r in rows]


@pytest.mark.usefixtures("catalog")
def test_the_daily_job_records_due_soon_and_overdue_once_per_day(
        db: Session, readers: Readers, clock: FakeClock) -> None:
    for label, who in (("LB-0001", readers.wang), ("LB-0003", readers.li)):
        services.borrow(db, patron=who, copy_id=label, now=clock(), policy=POLICY)
    clock.advance(days=10)
    services.borrow(db, patron=readers.zhou, copy_id="LB-0005", now=clock(), policy=POLICY)

    clock.advance(days=19)  # 2026-12-24 in Changsha: due tomorrow for the first two
    summary = services.run_daily_reminders(db, now=clock(), policy=POLICY)
    assert (summary.due_soon, summary.overdue, summary.open_loans) == (2, 0, 3)
    again = services.run_daily_reminders(db, now=clock(), policy=POLICY)
    assert again.recorded == 0  # idempotent: twice on one day records nothing new

    clock.advance(days=1)  # due today: still the same due-soon reminder, nothing new
    assert services.run_daily_reminders(db, now=clock(), policy=POLICY).recorded == 0
    services.return_copy(db, client_id="ret-li-000001", copy_id="LB-0003", now=clock())

    clock.advance(days=1)  # one day late
    summary = services.run_daily_reminders(db, now=clock(), policy=POLICY)
    assert (summary.due_soon, summary.overdue) == (0, 1)
    clock.advance(hours=6)
    assert services.run_daily_reminders(db, now=clock(), policy=POLICY).recorded == 0
    clock.advance(days=7)  # a week on: the next overdue reminder
    week_on = services.run_daily_reminders(db, now=clock(), policy=POLICY)
    assert (week_on.overdue, week_on.due_soon) == (1, 1)  # and zhou's loan is now due soon
    assert reminders(db) == [("LB-0001", "due_soon", 1), ("LB-0003", "due_soon", 1),
                             ("LB-0001", "overdue", 1), ("LB-0001", "overdue", 8),
                             ("LB-0005", "due_soon", 2)]

    shown = services.patron_reminders(db, patron=readers.wang)
    assert [(r.kind, r.days) for r in shown] == [("overdue", 8), ("overdue", 1),
                                                 ("due_soon", 1)]
    overdue = services.overdue_loans(db, today=services.local_today(clock()))
    assert [(loan.copy.label, last.days if last else None) for loan, last in overdue] == [
        ("LB-0001", 8)]


@pytest.mark.usefixtures("catalog")
def test_a_renewal_earns_a_new_due_soon_reminder_for_its_new_date(
        db: Session, readers: Readers, clock: FakeClock) -> None:
    services.borrow(db, patron=readers.wang, copy_id="LB-0001", now=clock(), policy=POLICY)
    clock.advance(days=28)
    assert services.run_daily_reminders(db, now=clock(), policy=POLICY).due_soon == 1
    services.renew(db, patron=readers.wang, copy_id="LB-0001", now=clock(), policy=POLICY)
    assert services.run_daily_reminders(db, now=clock(), policy=POLICY).recorded == 0
    clock.advance(days=27)
    assert services.run_daily_reminders(db, now=clock(), policy=POLICY).due_soon == 1
    assert db.scalar(select(func.count()).select_from(Reminder)) == 2


def test_the_shipped_library_toml_holds_the_defaults(settings: ServerSettings) -> None:
    path = library_config_path(settings, env={})
    assert path == CONFIG / "library.toml"
    assert load_policy(path) == LendingPolicy()
    assert load_policy(Path("/nonexistent/library.toml")) == LendingPolicy()


@pytest.mark.parametrize(("text", "key"), [
    ("[loans]\nmax_items = 0\n", "loans.max_items"),
    ("[loans]\ndays = 'thirty'\n", "loans.days"),
    ("[loans]\nmax_itmes = 5\n", "loans.max_itmes"),
    ("[kiosk]\npin_attempts = -1\n", "kiosk.pin_attempts"),
    ("[reminders\n", "(file)"),
])
def test_a_bad_value_in_library_toml_fails_naming_the_key(tmp_path: Path, text: str, key: str
                                                          ) -> None:
    path = tmp_path / "library.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert caught.value.key == key and str(path) in str(caught.value)


def test_values_in_library_toml_reach_the_policy(tmp_path: Path) -> None:
    path = tmp_path / "library.toml"
    path.write_text("[loans]\ndays = 21\nmax_items = 3\n[reminders]\ndue_soon_days = 2\n",
                    encoding="utf-8")
    policy = load_policy(path)
    assert (policy.loan_days, policy.max_items, policy.due_soon_days, policy.max_renewals) == (
        21, 3, 2, 2)
    env = {"SERVICEPOINT_LIBRARY_CONFIG": str(path)}
    assert library_config_path(ServerSettings(), env=env) == path


def test_the_server_will_not_start_with_a_bad_library_toml(
        sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.settings import load_server_settings

    shutil.copy(sqlite_template, tmp_path / "servicepoint.db")
    (tmp_path / "library.toml").write_text("[loans]\nmax_items = 0\n", encoding="utf-8")
    monkeypatch.setenv("SERVICEPOINT_LIBRARY_CONFIG", str(tmp_path / "library.toml"))
    app = create_app(load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": f"sqlite:///{tmp_path / 'servicepoint.db'}",
        "SERVICEPOINT_DATA_DIR": str(tmp_path)}), background=False)
    with pytest.raises(ConfigError, match="loans.max_items"), TestClient(app):
        pass
    app.state.engine.dispose()
