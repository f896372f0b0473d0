"""Producers: read ECG files into ``Recording``s and publish them to the recordings topic.

ingest.read_recording(path)   one file -> Recording (format detected)
ingest.iter_recordings(paths) files / folders / SPH data sets -> (source, Recording | InvalidRecording)
ingest.Publisher              validate + encode + publish to Kafka
"""

from ingest.bulk import IngestItem, iter_recordings
from ingest.detect import detect_format, read_recording
from ingest.publisher import Publisher

__all__ = ["read_recording", "detect_format", "iter_recordings", "IngestItem", "Publisher"]
