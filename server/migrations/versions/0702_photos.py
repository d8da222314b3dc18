"""photos: filled in by H2 (photos on requests and on done jobs); until then it changes nothing

Revision ID: 0702
Revises: 0701
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

revision: str = '0702'
down_revision: str | None = '0701'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
