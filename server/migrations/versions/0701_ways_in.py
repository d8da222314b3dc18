"""ways in: a request filed for someone else (whose home, who to call) and by which staff
member (代办): service_requests.for_someone_else, resident_name, filed_by_user_id

Revision ID: 0701
Revises: 0601
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0701'
down_revision: str | None = '0601'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Requests filed before this were filed by the residents themselves.
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('for_someone_else', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('resident_name', sa.String(length=40), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('filed_by_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_service_requests_filed_by_user_id_users', 'users',
                                    ['filed_by_user_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_constraint('fk_service_requests_filed_by_user_id_users',
                                 type_='foreignkey')
        batch_op.drop_column('filed_by_user_id')
        batch_op.drop_column('resident_name')
        batch_op.drop_column('for_someone_else')
