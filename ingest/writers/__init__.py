"""Writers of standard ECG files from a ``Recording`` (test fixtures, format conversion for uploads)."""

from ingest.writers.aecg import write_aecg
from ingest.writers.dicom import write_dicom

__all__ = ["write_aecg", "write_dicom"]
