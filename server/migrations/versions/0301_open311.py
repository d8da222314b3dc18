"""open311: clients and their keys, what each Open311 filing carried, places' other names and
positions, requests placed on a whole compound, and which categories the public may file

Revision ID: 0301
Revises: 0201
Create Date: 2026-12-03 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0301'
down_revision: str | None = '0201'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('open311_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_clients')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_open311_clients_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_open311_clients_name'))
    )
    op.create_table('open311_filings',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=100), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('account_id', sa.String(length=64), nullable=True),
    sa.Column('media_url', sa.String(length=500), nullable=True),
    sa.Column('address_string', sa.String(length=200), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('long', sa.Float(), nullable=True),
    sa.Column('placed_how', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['open311_clients.id'],
                            name=op.f('fk_open311_filings_client_id_open311_clients')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_open311_filings_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_open311_filings'))
    )
    with op.batch_alter_table('open311_filings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open311_filings_client_id'), ['client_id'],
                              unique=False)
    op.create_table('place_locations',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('long', sa.Float(), nullable=True),
    sa.Column('radius_m', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_place_locations'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('compound_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tickets_compound_id_compounds'), 'compounds',
                                    ['compound_id'], ['id'])
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('group_zh', sa.String(length=40), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('group_en', sa.String(length=60), nullable=False,
                                      server_default=''))
    # Until the categories file says otherwise (it is synced at start-up), what residents could
    # file at the kiosk is what the public may file.
    op.execute("UPDATE categories SET public = kiosk")


def downgrade() -> None:
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('group_en')
        batch_op.drop_column('group_zh')
        batch_op.drop_column('public')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_compound_id_compounds'),
                                 type_='foreignkey')
        batch_op.drop_column('compound_id')
    op.drop_table('place_locations')
    with op.batch_alter_table('open311_filings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open311_filings_client_id'))
    op.drop_table('open311_filings')
    op.drop_table('open311_clients')
