"""task links and phone reveals: a volunteer's one-tap link to a task, a row for each time a
resident's full phone number is shown, and a request's floor and room

Revision ID: 0501
Revises: 0301
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0501'
down_revision: str | None = '0301'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('task_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_task_links_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'],
                            name=op.f('fk_task_links_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_task_links_token_hash'))
    )
    with op.batch_alter_table('task_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_links_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_links_volunteer_id'), ['volunteer_id'],
                              unique=False)
    op.create_table('phone_reveals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('who', sa.String(length=60), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_phone_reveals_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_phone_reveals_user_id_users')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'],
                            name=op.f('fk_phone_reveals_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_reveals'))
    )
    with op.batch_alter_table('phone_reveals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_reveals_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_reveals_ticket_id'), ['ticket_id'],
                              unique=False)
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('floor', sa.String(length=10), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('room', sa.String(length=20), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slide_s', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('slide_s')
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_column('room')
        batch_op.drop_column('floor')
    with op.batch_alter_table('phone_reveals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_reveals_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_phone_reveals_at'))
    op.drop_table('phone_reveals')
    with op.batch_alter_table('task_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_links_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_task_links_ticket_id'))
    op.drop_table('task_links')
