"""The verdict, critical findings and beat positions stored with each diagnosis.

Revision ID: 0009_summary
Revises: 0008_overread
Create Date: 2026-12-08

Three JSON columns on ``diagnoses``, written once by the worker with the diagnosis: ``verdict``
(``interpretation.verdict.Verdict.as_json()``), ``critical_findings`` (a list of
``CriticalFinding.as_json()``; the same two the diagnosis event v3 carries) and ``beats``
(``schemas.beat_positions.BeatPositions``: R peaks, classes and the rate they refer to), so the gateway
neither recomputes the first two nor measures the samples again for the tracing and the report.
Existing rows keep null: readers compute the summary as before and measure the beats as before
(``interpretation.summary.stored_summary``, ``webapp.rendering.tracing_inputs``). Downgrade drops
the columns and keeps the rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_summary"
down_revision: str | None = "0008_overread"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
COLUMNS = ("verdict", "critical_findings", "beats")


def upgrade() -> None:
    with op.batch_alter_table("diagnoses") as batch:  # SQLite: batch mode copies the table
        for name in COLUMNS:
            batch.add_column(sa.Column(name, JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("diagnoses") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
