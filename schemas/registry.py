"""The Avro schemas of every event type and version, loaded once from the package's ``avro/`` folder.

Each event type has writer schemas by version (``<type>.v<N>.avsc``). Producers write
``CURRENT_WRITE_VERSION[type]``; readers accept every version listed here and resolve it into the
newest schema (Avro schema resolution), so a reader of version N+1 reads bytes written with version N.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fastavro import parse_schema

__all__ = [
    "EVENT_TYPES",
    "CURRENT_WRITE_VERSION",
    "known_versions",
    "writer_schema",
    "reader_schema",
    "raw_schema",
]

# event type (CloudEvents ``type``) -> schema file stem
EVENT_TYPES: dict[str, str] = {
    "org.ecgstream.recording": "recording",
    "org.ecgstream.diagnosis": "diagnosis",
    "org.ecgstream.deadletter": "deadletter",
    "org.ecgstream.overread": "overread",
}

# The version each producer writes today. Readers know every version in ``avro/``.
CURRENT_WRITE_VERSION: dict[str, int] = {
    "org.ecgstream.recording": 1,
    "org.ecgstream.diagnosis": 3,
    "org.ecgstream.deadletter": 1,
    "org.ecgstream.overread": 1,
}


@cache
def _versions(stem: str) -> dict[int, dict[str, Any]]:
    folder = resources.files("schemas") / "avro"
    found: dict[int, dict[str, Any]] = {}
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith(f"{stem}.v") and name.endswith(".avsc"):
            version = int(name[len(stem) + 2 : -len(".avsc")])
            found[version] = json.loads(entry.read_text(encoding="utf-8"))
    return dict(sorted(found.items()))


def known_versions(event_type: str) -> tuple[int, ...]:
    """Every schema version of ``event_type`` this code can read, oldest first."""
    return tuple(_versions(EVENT_TYPES[event_type]))


def raw_schema(event_type: str, version: int) -> dict[str, Any]:
    """The JSON of one ``.avsc`` file (a fresh copy)."""
    return json.loads(json.dumps(_versions(EVENT_TYPES[event_type])[version]))


@cache
def writer_schema(event_type: str, version: int) -> Any:
    """The parsed schema bytes of ``version`` were written with."""
    return parse_schema(raw_schema(event_type, version))


def reader_schema(event_type: str) -> Any:
    """The parsed newest schema: what this code resolves every version into."""
    return writer_schema(event_type, known_versions(event_type)[-1])
