"""Content hash of each recording (tells a redelivery from a different recording with the same id).

Revision ID: 0004_durable
Revises: 0001
Create Date: 2026-11-25

Nullable: rows written before this revision have none; the sink then compares ``signal_sha256``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_durable"
down_revision: str | None = "0003_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("recordings", sa.Column("content_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35 has it): batch mode would copy and drop ``recordings``, and
    # with foreign keys on, SQLite's DROP TABLE deletes the diagnoses that reference it.
    op.drop_column("recordings", "content_sha256")
