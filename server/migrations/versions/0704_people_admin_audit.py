"""people admin and the audit log: the append-only audit log (with triggers refusing UPDATE and
DELETE), a version on volunteers and users for the admin pages' optimistic check, a volunteer's
grid, and when a resident's data was erased on request

Revision ID: 0704
Revises: 0703
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0704'
down_revision: str | None = '0703'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSE = "the audit log is append-only"


def upgrade() -> None:
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor_user_id', sa.Integer(), nullable=True),
        sa.Column('actor_label', sa.String(length=60), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('subject_kind', sa.String(length=30), nullable=False),
        sa.Column('subject_id', sa.String(length=60), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'],
                                name=op.f('fk_audit_entries_actor_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_user_id'), ['actor_user_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_entries_subject', ['subject_kind', 'subject_id'],
                              unique=False)
    _refuse_changes()
    # Rows that exist are at version 1; every save on an admin page adds one.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))
        batch_op.add_column(sa.Column('grid_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_volunteers_grid_id_grids'), 'grids',
                                    ['grid_id'], ['id'])
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(), nullable=True))


def _refuse_changes() -> None:
    """The database itself refuses to change or remove an audit entry."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE FUNCTION audit_entries_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$")
        op.execute("CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE "
                   "ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse()")
        return
    for verb in ('UPDATE', 'DELETE'):
        op.execute(f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} "
                   f"ON audit_entries BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END")


def downgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_volunteers_grid_id_grids'), type_='foreignkey')
        batch_op.drop_column('grid_id')
        batch_op.drop_column('version')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('version')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_refuse()")
    op.drop_table('audit_entries')
