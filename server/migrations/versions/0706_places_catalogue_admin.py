"""places catalogue admin: the site's settings staff change in the browser (phone, opening
hours, quiet hours), the categories staff took over from the file, a book's publisher and a building's floors

Revision ID: 0706
Revises: 0705, 0101
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0706'
# The library's tables were on their own branch (0101): a book's publisher needs them, so the two
# branches meet here and the history has one head again.
down_revision: str | Sequence[str] | None = ('0705', '0101')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('site_profiles',
    sa.Column('site_id', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('opening_hours_zh', sa.String(length=200), nullable=True),
    sa.Column('opening_hours_en', sa.String(length=200), nullable=True),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'],
                            name=op.f('fk_site_profiles_updated_by_users')),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_site_profiles'))
    )
    op.create_table('category_edits',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=False),
    sa.Column('edited_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['code'], ['categories.code'],
                            name=op.f('fk_category_edits_code_categories')),
    sa.ForeignKeyConstraint(['edited_by'], ['users.id'],
                            name=op.f('fk_category_edits_edited_by_users')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_category_edits'))
    )
    with op.batch_alter_table('library_books', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publisher', sa.String(length=100), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('floors', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_column('floors')
    with op.batch_alter_table('library_books', schema=None) as batch_op:
        batch_op.drop_column('publisher')
    op.drop_table('category_edits')
    op.drop_table('site_profiles')
