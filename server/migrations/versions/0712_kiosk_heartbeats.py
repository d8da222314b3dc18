"""kiosk heartbeats: the latest word from each kiosk (server/kiosk_heartbeats.py)

Revision ID: 0712
Revises: 0711
Create Date: 2026-12-03 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0712'
down_revision: str | None = '0711'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'kiosk_heartbeats',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=40), nullable=False),
        sa.Column('kiosk_id', sa.String(length=4), nullable=False),
        sa.Column('place', sa.String(length=80), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('queued', sa.Integer(), nullable=False),
        sa.Column('oldest_queued_s', sa.Integer(), nullable=True),
        sa.Column('outbox_damaged', sa.Boolean(), nullable=False),
        sa.Column('version', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
                                name=op.f('fk_kiosk_heartbeats_site_id_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_heartbeats')),
        sa.UniqueConstraint('site_id', 'kiosk_id',
                            name=op.f('uq_kiosk_heartbeats_site_id')),
    )
    with op.batch_alter_table('kiosk_heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_heartbeats_site_id'), ['site_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kiosk_heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_heartbeats_site_id'))
    op.drop_table('kiosk_heartbeats')
