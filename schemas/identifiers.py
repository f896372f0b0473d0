"""Device ids: one rule for every path (the upload form, ids read from files, ``publish --device-id``).

A device id travels in the event, the database and, as ``device:<id>``, the Kafka message key, and
is shown on the page: letters, digits and ``. _ : / -``, 1 to 64 characters. Anything else (a
``<script>`` DeviceSerialNumber, a 1 MB id in an HL7 aECG file) is refused with the reason
``invalid_device_id``, never stored or published.
"""

from __future__ import annotations

import re

__all__ = ["DEVICE_ID_RULE", "MAX_DEVICE_ID", "device_id_problem"]

MAX_DEVICE_ID = 64
DEVICE_ID_RULE = f"letters, digits and . _ : / - (at most {MAX_DEVICE_ID})"
_DEVICE_ID = re.compile(rf"^[A-Za-z0-9._:/-]{{1,{MAX_DEVICE_ID}}}$")


def device_id_problem(device_id: str) -> str | None:
    """None for a usable device id; else what is wrong with it (without repeating it)."""
    if _DEVICE_ID.match(device_id):
        return None
    return f"a device id may use {DEVICE_ID_RULE}; this one has {len(device_id):,} characters, not all of them allowed"
