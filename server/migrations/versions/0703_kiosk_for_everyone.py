"""kiosk for everyone: a request about the water or a shared facility linked to the asset it
concerns (facility_reports), and a request's spoken description (spoken_descriptions)

Revision ID: 0703
Revises: 0702
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0703'
down_revision: str | None = '0702'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('facility_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_ticket_id', sa.Integer(), nullable=False),
    sa.Column('asset_kind', sa.String(length=20), nullable=False),
    sa.Column('asset_id', sa.String(length=40), nullable=True),
    sa.Column('concern', sa.String(length=20), nullable=False),
    sa.Column('maintenance_ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['maintenance_ticket_id'], ['tickets.id'],
                            name=op.f('fk_facility_reports_maintenance_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['request_ticket_id'], ['tickets.id'],
                            name=op.f('fk_facility_reports_request_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facility_reports')),
    sa.UniqueConstraint('request_ticket_id', name=op.f('uq_facility_reports_request_ticket_id'))
    )
    with op.batch_alter_table('facility_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facility_reports_asset_id'), ['asset_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_facility_reports_maintenance_ticket_id'),
                              ['maintenance_ticket_id'], unique=False)
    op.create_table('spoken_descriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('attachment_key', sa.String(length=60), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_spoken_descriptions_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spoken_descriptions')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_spoken_descriptions_ticket_id'))
    )


def downgrade() -> None:
    op.drop_table('spoken_descriptions')
    with op.batch_alter_table('facility_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facility_reports_maintenance_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_facility_reports_asset_id'))
    op.drop_table('facility_reports')
