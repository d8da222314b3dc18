"""appointments: categories by appointment, published slots (with a taken counter the database
holds to the slot's capacity) and the bookings that hold their places, with when each reminder
was sent

Revision ID: 0708
Revises: 0707
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0708'
down_revision: str | None = '0707'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('by_appointment', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        'appointment_slots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=40), nullable=False),
        sa.Column('category_code', sa.String(length=40), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.Column('taken', sa.Integer(), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(), nullable=True),
        sa.Column('created_by_user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('taken <= capacity',
                           name=op.f('ck_appointment_slots_taken_within_capacity')),
        sa.CheckConstraint('taken >= 0', name=op.f('ck_appointment_slots_taken_not_negative')),
        sa.CheckConstraint('capacity > 0', name=op.f('ck_appointment_slots_capacity_positive')),
        sa.ForeignKeyConstraint(['category_code'], ['categories.code'],
                                name=op.f('fk_appointment_slots_category_code_categories')),
        sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'],
                                name=op.f('fk_appointment_slots_created_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_slots')),
    )
    with op.batch_alter_table('appointment_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_slots_category_code'),
                              ['category_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_slots_starts_at'),
                              ['starts_at'], unique=False)
    op.create_table(
        'appointment_bookings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=40), nullable=False),
        sa.Column('slot_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('booked_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_by_user_id', sa.Integer(), nullable=True),
        sa.Column('day_before_sent_at', sa.DateTime(), nullable=True),
        sa.Column('hour_before_sent_at', sa.DateTime(), nullable=True),
        sa.Column('cancel_told_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['ended_by_user_id'], ['users.id'],
                                name=op.f('fk_appointment_bookings_ended_by_user_id_users')),
        sa.ForeignKeyConstraint(['slot_id'], ['appointment_slots.id'],
                                name=op.f('fk_appointment_bookings_slot_id_appointment_slots')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_appointment_bookings_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_bookings')),
        sa.UniqueConstraint('ticket_id', name=op.f('uq_appointment_bookings_ticket_id')),
    )
    with op.batch_alter_table('appointment_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_bookings_slot_id'),
                              ['slot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appointment_bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_bookings_slot_id'))
    op.drop_table('appointment_bookings')
    with op.batch_alter_table('appointment_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_slots_starts_at'))
        batch_op.drop_index(batch_op.f('ix_appointment_slots_category_code'))
    op.drop_table('appointment_slots')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('by_appointment')
