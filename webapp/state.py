"""What one running gateway app holds for its lifetime: one producer, one engine, the limits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import Settings
from webapp.service import UploadService

__all__ = ["GatewayState", "FORM_OVERHEAD_BYTES", "default_max_upload_bytes"]

FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries, headers and the small text fields


def default_max_upload_bytes(settings: Settings) -> int:
    """Files may be 4x the encoded event: XML and float formats are bulkier than int16 counts."""
    return 4 * settings.max_recording_bytes


@dataclass
class GatewayState:
    settings: Settings
    service: UploadService
    engine: AsyncEngine
    max_upload_bytes: int  # all uploaded files of one request together

    @property
    def max_body_bytes(self) -> int:
        return self.max_upload_bytes + FORM_OVERHEAD_BYTES
