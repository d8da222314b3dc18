"""library: catalog, copies, patrons, loans, returns, holds, reminders

Its own branch off the initial schema; upgrade() runs alembic "heads".
Written by autogenerate against a database at 0001, then trimmed to the library's tables by hand.

Revision ID: 0101
Revises: 0001
Create Date: 2026-11-25 14:30:53.112644
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0101'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('library_books',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('isbn', sa.String(length=13), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_books')),
    sa.UniqueConstraint('isbn', name=op.f('uq_library_books_isbn'))
    )
    op.create_index(op.f('ix_library_books_category'), 'library_books', ['category'], unique=False)

    op.create_table('library_pin_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_pin_failures'))
    )
    op.create_index(op.f('ix_library_pin_failures_phone'), 'library_pin_failures', ['phone'], unique=False)

    op.create_table('library_copies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('shelf', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('labelled_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['book_id'], ['library_books.id'], name=op.f('fk_library_copies_book_id_library_books')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_copies')),
    sa.UniqueConstraint('label', name=op.f('uq_library_copies_label'))
    )
    op.create_index(op.f('ix_library_copies_book_id'), 'library_copies', ['book_id'], unique=False)

    op.create_table('library_patrons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.String(length=20), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=True),
    sa.Column('phone_token', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('card_printed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_library_patrons_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_patrons')),
    sa.UniqueConstraint('card_id', name=op.f('uq_library_patrons_card_id')),
    sa.UniqueConstraint('phone_token', name=op.f('uq_library_patrons_phone_token')),
    sa.UniqueConstraint('resident_id', name=op.f('uq_library_patrons_resident_id'))
    )

    op.create_table('library_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('placed_at', sa.DateTime(), nullable=False),
    sa.Column('copy_id', sa.Integer(), nullable=True),
    sa.Column('ready_key', sa.Integer(), nullable=True),
    sa.Column('ready_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['book_id'], ['library_books.id'], name=op.f('fk_library_holds_book_id_library_books')),
    sa.ForeignKeyConstraint(['copy_id'], ['library_copies.id'], name=op.f('fk_library_holds_copy_id_library_copies')),
    sa.ForeignKeyConstraint(['patron_id'], ['library_patrons.id'], name=op.f('fk_library_holds_patron_id_library_patrons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_holds')),
    sa.UniqueConstraint('ready_key', name=op.f('uq_library_holds_ready_key'))
    )
    op.create_index(op.f('ix_library_holds_book_id'), 'library_holds', ['book_id'], unique=False)
    op.create_index(op.f('ix_library_holds_patron_id'), 'library_holds', ['patron_id'], unique=False)
    op.create_index(op.f('ix_library_holds_status'), 'library_holds', ['status'], unique=False)

    op.create_table('library_loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('copy_id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('borrowed_at', sa.DateTime(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('renewals', sa.Integer(), nullable=False),
    sa.Column('returned_at', sa.DateTime(), nullable=True),
    sa.Column('open_key', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('via', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['copy_id'], ['library_copies.id'], name=op.f('fk_library_loans_copy_id_library_copies')),
    sa.ForeignKeyConstraint(['patron_id'], ['library_patrons.id'], name=op.f('fk_library_loans_patron_id_library_patrons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_loans')),
    sa.UniqueConstraint('client_id', name=op.f('uq_library_loans_client_id')),
    sa.UniqueConstraint('open_key', name=op.f('uq_library_loans_open_key'))
    )
    op.create_index(op.f('ix_library_loans_copy_id'), 'library_loans', ['copy_id'], unique=False)
    op.create_index(op.f('ix_library_loans_due_on'), 'library_loans', ['due_on'], unique=False)
    op.create_index(op.f('ix_library_loans_patron_id'), 'library_loans', ['patron_id'], unique=False)

    op.create_table('library_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['library_patrons.id'], name=op.f('fk_library_sessions_patron_id_library_patrons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_library_sessions_token_hash'))
    )
    op.create_index(op.f('ix_library_sessions_patron_id'), 'library_sessions', ['patron_id'], unique=False)

    op.create_table('library_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['library_loans.id'], name=op.f('fk_library_reminders_loan_id_library_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_reminders')),
    sa.UniqueConstraint('loan_id', 'key', name=op.f('uq_library_reminders_loan_id'))
    )
    op.create_index(op.f('ix_library_reminders_loan_id'), 'library_reminders', ['loan_id'], unique=False)

    op.create_table('library_returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('copy_label', sa.String(length=40), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('hold_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('returned_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('via', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['hold_id'], ['library_holds.id'], name=op.f('fk_library_returns_hold_id_library_holds')),
    sa.ForeignKeyConstraint(['loan_id'], ['library_loans.id'], name=op.f('fk_library_returns_loan_id_library_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_returns')),
    sa.UniqueConstraint('client_id', name=op.f('uq_library_returns_client_id'))
    )


def downgrade() -> None:
    op.drop_table('library_returns')
    op.drop_table('library_reminders')
    op.drop_table('library_sessions')
    op.drop_table('library_loans')
    op.drop_table('library_holds')
    op.drop_table('library_patrons')
    op.drop_table('library_copies')
    op.drop_table('library_pin_failures')
    op.drop_table('library_books')
