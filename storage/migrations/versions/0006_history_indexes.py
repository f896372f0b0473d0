"""Indexes for the history list, patient history and serial comparison (storage/history.py).

Revision ID: 0006_history
Revises: 0005_clinic
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_history"
down_revision: str | None = "0005_clinic"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # every recording newest first (principals with results:read:all)
    op.create_index(op.f("ix_recordings_created_at_recording_id"), "recordings", ["created_at", "recording_id"])
    # one patient's recordings (patient history, the earlier recording of a serial comparison)
    op.create_index(op.f("ix_recordings_patient_ref_hash"), "recordings", ["patient_ref_hash"])
    # one principal's uploads newest first; every upload newest first
    op.create_index(
        op.f("ix_recording_owners_principal_created_at_recording_id"), "recording_owners",
        ["principal", "created_at", "recording_id"],
    )
    op.create_index(op.f("ix_recording_owners_created_at_recording_id"), "recording_owners", ["created_at", "recording_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recording_owners_created_at_recording_id"), table_name="recording_owners")
    op.drop_index(op.f("ix_recording_owners_principal_created_at_recording_id"), table_name="recording_owners")
    op.drop_index(op.f("ix_recordings_patient_ref_hash"), table_name="recordings")
    op.drop_index(op.f("ix_recordings_created_at_recording_id"), table_name="recordings")
