"""sensor epochs and asset owners: readings are unique per (node, epoch, seq), so a node that
starts a new outbox (seq from 1 again) is heard instead of dropped as a replay; each tank and
extinguisher bay names the node whose readings of it count

Revision ID: 0601
Revises: 0401
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0601'
down_revision: str | None = '0401'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Readings stored before epochs count in epoch 0, as do payloads of nodes without the field.
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('epoch', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.drop_constraint('uq_readings_node_seq', type_='unique')
        batch_op.create_unique_constraint('uq_readings_node_epoch_seq',
                                          ['node_id', 'epoch', 'seq'])
    with op.batch_alter_table('sensor_nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('epoch', sa.BigInteger(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('tanks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node_id', sa.String(length=40), nullable=True))
    with op.batch_alter_table('extinguisher_bays', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node_id', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('extinguisher_bays', schema=None) as batch_op:
        batch_op.drop_column('node_id')
    with op.batch_alter_table('tanks', schema=None) as batch_op:
        batch_op.drop_column('node_id')
    with op.batch_alter_table('sensor_nodes', schema=None) as batch_op:
        batch_op.drop_column('epoch')
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.drop_constraint('uq_readings_node_epoch_seq', type_='unique')
        batch_op.create_unique_constraint('uq_readings_node_seq', ['node_id', 'seq'])
        batch_op.drop_column('epoch')
