"""Where a running ``ecgstream up`` stack can be reached, so other commands can find it.

``ecgstream up`` writes ``$ECGSTREAM_HOME/stack.json`` (bootstrap, database URL without its password,
gateway and metrics URLs; mode 0600) and removes it on exit. It holds no secret: a Postgres password
in ``DATABASE_URL`` is written as ``***``. Commands such as ``ecgstream publish`` use
``KAFKA_BOOTSTRAP`` when set, otherwise the running stack's broker.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from core.config import Settings
from core.errors import EcgstreamError
from core.private_files import write_private_text

__all__ = ["StackInfo", "write_stack_info", "read_stack_info", "resolve_bootstrap", "NoBrokerConfigured"]


class NoBrokerConfigured(EcgstreamError, RuntimeError):
    """Neither KAFKA_BOOTSTRAP nor a running ``ecgstream up`` stack is available."""


@dataclass(frozen=True)
class StackInfo:
    bootstrap: str
    database_url: str  # without its password (``***``)
    gateway_url: str | None = None
    metrics_url: str | None = None


def _path(settings: Settings) -> Path:
    return settings.home / "stack.json"


def write_stack_info(settings: Settings, info: StackInfo) -> Path:
    """``stack.json`` (0600), with the database URL's password replaced by ``***``."""
    shown = make_url(info.database_url).render_as_string(hide_password=True)
    return write_private_text(_path(settings), json.dumps({**asdict(info), "database_url": shown}, indent=2))


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
