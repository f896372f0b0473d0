"""Measurements, signal quality, readability on diagnoses (statement provenance lives in statements).

Revision ID: 0002_integrate
Revises: 0001
Create Date: 2026-11-25

Four columns on ``diagnoses``; existing rows keep their meaning: ``readable`` defaults to true,
the JSON columns are null (not measured), and statements without ``provenance`` were decided by the
model. JSON documents rather than a normalised table: they are written once, read whole by one
recording id (the page and the API), never filtered on in SQL, and their shape is versioned with the
diagnosis event (``schemas/avro/diagnosis.v2.avsc``), so a table per lead/measurement would add
joins and migrations for no query that needs them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_integrate"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("diagnoses") as batch:  # SQLite: batch mode copies the table
        batch.add_column(sa.Column("readable", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column("unreadable_reasons", JSON_DOCUMENT, nullable=True))
        batch.add_column(sa.Column("measurements", JSON_DOCUMENT, nullable=True))
        batch.add_column(sa.Column("quality", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("diagnoses") as batch:
        batch.drop_column("quality")
        batch.drop_column("measurements")
        batch.drop_column("unreadable_reasons")
        batch.drop_column("readable")
