"""ways in: filled in by H1 (phone form, staff filing for a resident); until then it changes nothing

Revision ID: 0701
Revises: 0601
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

revision: str = '0701'
down_revision: str | None = '0601'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
