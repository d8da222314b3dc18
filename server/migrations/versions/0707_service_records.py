"""volunteer service records: leaders' corrections of a job's hours, group activities and who
signed in and out of them, and issued certificates with the token of their public verification
page; and each tank's level alarm lines as staff set them in the browser

Revision ID: 0707
Revises: 0706
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0707'
down_revision: str | None = '0706'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = ('low_raise_percent', 'low_clear_percent', 'high_raise_percent', 'high_clear_percent')


def upgrade() -> None:
    op.create_table(
        'service_hours_corrections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('corrected_by_user_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['corrected_by_user_id'], ['users.id'],
                                name=op.f('fk_service_hours_corrections_corrected_by_user_id_users')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_service_hours_corrections_ticket_id_tickets')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'],
                                name=op.f('fk_service_hours_corrections_volunteer_id_volunteers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_hours_corrections')),
    )
    with op.batch_alter_table('service_hours_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_hours_corrections_ticket_id'),
                              ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_hours_corrections_volunteer_id'),
                              ['volunteer_id'], unique=False)
    op.create_table(
        'service_certificates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('verify_token', sa.String(length=64), nullable=False),
        sa.Column('site_id', sa.String(length=40), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('jobs', sa.Integer(), nullable=False),
        sa.Column('issuer_name', sa.String(length=120), nullable=False),
        sa.Column('issued_by_user_id', sa.Integer(), nullable=True),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['issued_by_user_id'], ['users.id'],
                                name=op.f('fk_service_certificates_issued_by_user_id_users')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'],
                                name=op.f('fk_service_certificates_volunteer_id_volunteers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_certificates')),
        sa.UniqueConstraint('number', name=op.f('uq_service_certificates_number')),
        sa.UniqueConstraint('verify_token', name=op.f('uq_service_certificates_verify_token')),
    )
    with op.batch_alter_table('service_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_certificates_volunteer_id'),
                              ['volunteer_id'], unique=False)


    op.create_table(
        'service_activities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('site_id', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=80), nullable=False),
        sa.Column('place', sa.String(length=120), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'],
                                name=op.f('fk_service_activities_created_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_activities')),
        sa.UniqueConstraint('token', name=op.f('uq_service_activities_token')),
    )
    with op.batch_alter_table('service_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_activities_starts_at'), ['starts_at'],
                              unique=False)
    op.create_table(
        'service_attendance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('signed_in_at', sa.DateTime(), nullable=False),
        sa.Column('signed_out_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['activity_id'], ['service_activities.id'],
                                name=op.f('fk_service_attendance_activity_id_service_activities')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'],
                                name=op.f('fk_service_attendance_volunteer_id_volunteers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_attendance')),
        sa.UniqueConstraint('activity_id', 'volunteer_id',
                            name=op.f('uq_service_attendance_activity_id')),
    )
    with op.batch_alter_table('service_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_attendance_activity_id'), ['activity_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_service_attendance_volunteer_id'),
                              ['volunteer_id'], unique=False)
    with op.batch_alter_table('tanks', schema=None) as batch_op:
        for name in LEVELS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tanks', schema=None) as batch_op:
        for name in LEVELS:
            batch_op.drop_column(name)
    op.drop_table('service_attendance')
    op.drop_table('service_activities')
    op.drop_table('service_certificates')
    op.drop_table('service_hours_corrections')
