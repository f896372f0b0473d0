"""Message sizes, written once: the default recording limit and the headroom a Kafka message needs.

``DEFAULT_MAX_RECORDING_BYTES`` (4 MiB) is ``MAX_RECORDING_BYTES``' default: 60 s x 12 leads at 2 kHz as
int16 fits. ``REQUEST_HEADROOM_BYTES`` (1 MiB) is added to it for headers and batch overhead: the
producer's ``max_request_size`` and every topic's ``max.message.bytes`` are recording limit + headroom.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_RECORDING_BYTES", "REQUEST_HEADROOM_BYTES"]

DEFAULT_MAX_RECORDING_BYTES = 4 * 1024 * 1024
REQUEST_HEADROOM_BYTES = 1024 * 1024
