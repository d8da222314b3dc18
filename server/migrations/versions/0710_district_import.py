"""district import: what was moved from a single-site Pi into the centre (reserved; filled in by its owner)

Revision ID: 0710
Revises: 0709
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

revision: str = '0710'
down_revision: str | None = '0709'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
