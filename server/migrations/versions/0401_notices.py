"""notices: how squads and people are reached (contact channels), which history row a request
notice tells of, how far the history has been read for notices, and the volunteer each history
row concerns

Revision ID: 0401
Revises: 0501
Create Date: 2026-12-03 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0401'
down_revision: str | None = '0501'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('squad_id', sa.Integer(), nullable=True),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('url_env', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['squad_id'], ['squads.id'],
                            name=op.f('fk_contact_channels_squad_id_squads')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_contact_channels_user_id_users')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'],
                            name=op.f('fk_contact_channels_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_channels'))
    )
    with op.batch_alter_table('contact_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_channels_squad_id'), ['squad_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_contact_channels_user_id'), ['user_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_contact_channels_volunteer_id'), ['volunteer_id'],
                              unique=False)
    cursor = op.create_table('notice_cursor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_cursor'))
    )
    # An upgraded database has a history already: notices start after it, not with its past.
    newest = op.get_bind().execute(sa.text('SELECT MAX(id) FROM ticket_events')).scalar()
    op.bulk_insert(cursor, [{'id': 1, 'event_id': int(newest or 0)}])
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_alerts_event_id'), ['event_id'])
        batch_op.create_foreign_key(batch_op.f('fk_alerts_event_id_ticket_events'),
                                    'ticket_events', ['event_id'], ['id'])
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('volunteer_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ticket_events_volunteer_id_volunteers'),
                                    'volunteers', ['volunteer_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ticket_events_volunteer_id_volunteers'),
                                 type_='foreignkey')
        batch_op.drop_column('volunteer_id')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alerts_event_id_ticket_events'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_alerts_event_id'), type_='unique')
        batch_op.drop_column('event_id')
    op.drop_table('notice_cursor')
    with op.batch_alter_table('contact_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_channels_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_contact_channels_user_id'))
        batch_op.drop_index(batch_op.f('ix_contact_channels_squad_id'))
    op.drop_table('contact_channels')
