"""Where a running ``ecgstream up`` stack can be reached, so other commands can find it.

``ecgstream up`` writes ``$ECGSTREAM_HOME/stack.json`` (bootstrap, database URL, gateway and metrics
URLs) and removes it on exit. Commands such as ``ecgstream publish`` use ``KAFKA_BOOTSTRAP`` when set,
otherwise the running stack's broker.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ecgstream.config import Settings

__all__ = ["StackInfo", "write_stack_info", "read_stack_info", "resolve_bootstrap", "NoBrokerConfigured"]


class NoBrokerConfigured(RuntimeError):
    """Neither KAFKA_BOOTSTRAP nor a running ``ecgstream up`` stack is available."""


@dataclass(frozen=True)
class StackInfo:
    bootstrap: str
    database_url: str
    gateway_url: str | None = None
    metrics_url: str | None = None


def _path(settings: Settings) -> Path:
    return settings.home / "stack.json"


def write_stack_info(settings: Settings, info: StackInfo) -> Path:
    path = _path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(info), indent=2))
    return path


def read_stack_info(settings: Settings) -> StackInfo | None:
    path = _path(settings)
    if not path.exists():
        return None
    return StackInfo(**json.loads(path.read_text()))


def resolve_bootstrap(settings: Settings) -> str:
    """KAFKA_BOOTSTRAP, else the broker of a running ``ecgstream up``, else a clear error."""
    if settings.kafka_bootstrap:
        return settings.kafka_bootstrap
    info = read_stack_info(settings)
    if info is not None:
        return info.bootstrap
    raise NoBrokerConfigured(
        "no Kafka broker: set KAFKA_BOOTSTRAP=host:port, or start the embedded stack with `ecgstream up` "
        f"(it records its broker in {_path(settings)})"
    )
