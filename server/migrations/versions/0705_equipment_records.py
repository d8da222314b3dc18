"""equipment records: monthly extinguisher inspections with their checklist, the full water
test of a tank cleaning (company, certificate, disinfectant, lab, six indicators, the report's
attachment key), retired extinguishers, and a version on tanks and extinguishers for the admin
pages' optimistic check

Revision ID: 0705
Revises: 0704
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0705'
down_revision: str | None = '0704'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tanks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))
    with op.batch_alter_table('extinguisher_bays', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))
    op.create_table(
        'extinguisher_inspections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.String(length=40), nullable=False),
        sa.Column('inspected_on', sa.Date(), nullable=False),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('inspected_by', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['extinguisher_bays.asset_id'],
                                name=op.f('fk_extinguisher_inspections_asset_id_extinguisher_bays')),
        sa.ForeignKeyConstraint(['inspected_by'], ['users.id'],
                                name=op.f('fk_extinguisher_inspections_inspected_by_users')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_extinguisher_inspections_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_extinguisher_inspections')),
    )
    with op.batch_alter_table('extinguisher_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extinguisher_inspections_asset_id'), ['asset_id'],
                              unique=False)
    op.create_table(
        'tank_water_tests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cleaning_id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.String(length=40), nullable=False),
        sa.Column('company', sa.String(length=100), nullable=False),
        sa.Column('certificate_no', sa.String(length=60), nullable=False),
        sa.Column('disinfectant', sa.String(length=100), nullable=False),
        sa.Column('tested_on', sa.Date(), nullable=False),
        sa.Column('lab', sa.String(length=100), nullable=False),
        sa.Column('report_no', sa.String(length=60), nullable=False),
        sa.Column('turbidity_ntu', sa.Float(), nullable=True),
        sa.Column('free_chlorine_mg_l', sa.Float(), nullable=True),
        sa.Column('coliforms_detected', sa.Boolean(), nullable=True),
        sa.Column('colony_cfu_ml', sa.Float(), nullable=True),
        sa.Column('colour', sa.Float(), nullable=True),
        sa.Column('odour_none', sa.Boolean(), nullable=True),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('report_key', sa.String(length=60), nullable=True),
        sa.Column('report_media_type', sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(['asset_id'], ['tanks.asset_id'],
                                name=op.f('fk_tank_water_tests_asset_id_tanks')),
        sa.ForeignKeyConstraint(['cleaning_id'], ['tank_cleanings.id'],
                                name=op.f('fk_tank_water_tests_cleaning_id_tank_cleanings')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tank_water_tests')),
        sa.UniqueConstraint('cleaning_id', name=op.f('uq_tank_water_tests_cleaning_id')),
    )
    with op.batch_alter_table('tank_water_tests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tank_water_tests_asset_id'), ['asset_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tank_water_tests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tank_water_tests_asset_id'))
    op.drop_table('tank_water_tests')
    with op.batch_alter_table('extinguisher_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extinguisher_inspections_asset_id'))
    op.drop_table('extinguisher_inspections')
    with op.batch_alter_table('extinguisher_bays', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('retired_on')
    with op.batch_alter_table('tanks', schema=None) as batch_op:
        batch_op.drop_column('version')
