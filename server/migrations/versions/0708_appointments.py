"""appointments: categories by appointment, published slots and bookings (reserved; filled in by its owner)

Revision ID: 0708
Revises: 0707
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

revision: str = '0708'
down_revision: str | None = '0707'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
