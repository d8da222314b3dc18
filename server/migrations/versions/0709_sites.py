"""sites everywhere: the sites of a district (``sites``), each site's kiosk keys
(``site_kiosks``), and the site of every place, person, squad, ticket and library copy, patron,
loan and hold, tank cleaning, water test and extinguisher inspection (``site_id``, NOT NULL,
indexed, a foreign key to ``sites``); users and audit entries get a nullable ``site_id`` (the
street office and the district admin have none; users also get a ``street``).

Backfill: the site an installed Pi's rows belong to is in its settings, which a migration does
not read. So the home site's id is taken from the environment's ``SERVICEPOINT_SITE_ID`` when
set; else from the tickets (filed with the settings' ``[site] id`` all along: the most common);
else ``site-01`` (the settings' default). Unless it came from the environment, the row is
marked ``provisional`` and the server's first start (server/services/sites.py,
``ensure_home_site``), which knows ``[site] id``, renames it to that id on every row once.
Other site ids the tickets name get a row each, so their foreign keys hold.

Revision ID: 0709
Revises: 0708
Create Date: 2026-12-03 19:30:00
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0709'
down_revision: str | None = '0708'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose every row belongs to one site.
OWNED = ('squads', 'grids', 'compounds', 'buildings', 'units', 'residents', 'volunteers',
         'library_copies', 'library_patrons', 'library_loans', 'library_holds',
         'tank_cleanings', 'tank_water_tests', 'extinguisher_inspections')
# Tables whose rows may belong to no site (the street office's and district admin's users, the
# district admin's log entries): nullable, backfilled all the same.
OPTIONAL = ('users', 'audit_entries')


def _home_site(connection: sa.Connection) -> tuple[str, bool, list[str]]:
    """(the home site's id, whether it is a guess, every other site id the tickets name)."""
    counted = connection.execute(sa.text(
        "SELECT site_id, COUNT(*) AS n FROM tickets GROUP BY site_id ORDER BY n DESC, site_id"
    )).all()
    named = [str(row[0]) for row in counted if row[0]]
    from_env = os.environ.get('SERVICEPOINT_SITE_ID', '').strip()
    home = from_env or (named[0] if named else 'site-01')
    return home, not from_env, [site for site in named if site != home]


_REFUSE = "the audit log is append-only"


def _audit_guard(on: bool) -> None:
    """The audit log's triggers (0704) refuse every UPDATE: lifted while its rows get their
    site, and put back (on SQLite a rebuilt table would lose them anyway)."""
    postgres = op.get_bind().dialect.name == 'postgresql'
    if not on:
        if postgres:
            op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        else:
            op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
            op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
        return
    if postgres:
        op.execute("CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE "
                   "ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse()")
        return
    for verb in ('UPDATE', 'DELETE'):
        op.execute(f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} "
                   f"ON audit_entries BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END")


def upgrade() -> None:
    op.create_table(
        'sites',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('name_zh', sa.String(length=100), nullable=False),
        sa.Column('name_en', sa.String(length=100), nullable=False),
        sa.Column('street', sa.String(length=60), nullable=False),
        sa.Column('timezone', sa.String(length=60), nullable=False),
        sa.Column('provisional', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sites_street'), ['street'], unique=False)
    op.create_table(
        'site_kiosks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=40), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
                                name=op.f('fk_site_kiosks_site_id_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_site_kiosks')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_site_kiosks_key_hash')),
    )
    with op.batch_alter_table('site_kiosks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_kiosks_site_id'), ['site_id'], unique=False)

    connection = op.get_bind()
    home, guessed, others = _home_site(connection)
    sites = sa.table('sites', sa.column('id', sa.String), sa.column('name_zh', sa.String),
                     sa.column('name_en', sa.String), sa.column('street', sa.String),
                     sa.column('timezone', sa.String), sa.column('provisional', sa.Boolean),
                     sa.column('created_at', sa.DateTime))
    now = sa.func.current_timestamp()
    op.execute(sites.insert().values(id=home, name_zh=home, name_en=home, street='',
                                     timezone='Asia/Shanghai', provisional=guessed,
                                     created_at=now))
    for other in others:
        op.execute(sites.insert().values(id=other, name_zh=other, name_en=other, street='',
                                         timezone='Asia/Shanghai', provisional=False,
                                         created_at=now))

    _audit_guard(False)
    for name in OWNED + OPTIONAL:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('site_id', sa.String(length=40), nullable=True))
            if name == 'users':
                batch_op.add_column(sa.Column('street', sa.String(length=60), nullable=True))
        op.execute(sa.table(name, sa.column('site_id', sa.String)).update().values(site_id=home))
        with op.batch_alter_table(name, schema=None) as batch_op:
            if name not in OPTIONAL:
                batch_op.alter_column('site_id', existing_type=sa.String(length=40),
                                      nullable=False)
            batch_op.create_index(batch_op.f(f'ix_{name}_site_id'), ['site_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{name}_site_id_sites'), 'sites',
                                        ['site_id'], ['id'])
    _audit_guard(True)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_site_id'), ['site_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tickets_site_id_sites'), 'sites',
                                    ['site_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_site_id_sites'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_site_id'))
    _audit_guard(False)
    for name in reversed(OWNED + OPTIONAL):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{name}_site_id_sites'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{name}_site_id'))
            batch_op.drop_column('site_id')
            if name == 'users':
                batch_op.drop_column('street')
    _audit_guard(True)
    with op.batch_alter_table('site_kiosks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_kiosks_site_id'))
    op.drop_table('site_kiosks')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sites_street'))
    op.drop_table('sites')
