"""district import: what was moved from a single-site Pi into the centre (which Pi filled each
site, and each moved row's id at the Pi and at the centre), so that running the import again
changes nothing (server/district_move/)

Revision ID: 0710
Revises: 0709
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0710'
down_revision: str | None = '0709'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'district_imports',
        sa.Column('site_id', sa.String(length=40), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('first_at', sa.DateTime(), nullable=False),
        sa.Column('last_at', sa.DateTime(), nullable=False),
        sa.Column('runs', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
                                name=op.f('fk_district_imports_site_id_sites')),
        sa.PrimaryKeyConstraint('site_id', name=op.f('pk_district_imports')),
    )
    op.create_table(
        'district_import_ids',
        sa.Column('site_id', sa.String(length=40), nullable=False),
        sa.Column('table_name', sa.String(length=64), nullable=False),
        sa.Column('old_key', sa.String(length=200), nullable=False),
        sa.Column('new_key', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
                                name=op.f('fk_district_import_ids_site_id_sites')),
        sa.PrimaryKeyConstraint('site_id', 'table_name', 'old_key',
                                name=op.f('pk_district_import_ids')),
    )


def downgrade() -> None:
    op.drop_table('district_import_ids')
    op.drop_table('district_imports')
