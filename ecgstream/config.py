"""All configuration, read from the environment once into one frozen object.

Every setting has a default that works for the embedded stack (a Tansu broker that ecgstream starts
itself, a local SQLite file). Set ``KAFKA_BOOTSTRAP`` and ``DATABASE_URL`` to use an external Kafka and
Postgres (``postgresql+asyncpg://...``) with the same code.

| variable | default | meaning |
|---|---|---|
| KAFKA_BOOTSTRAP | (unset: embedded Tansu) | ``host:port[,host:port]`` of the Kafka cluster |
| DATABASE_URL | ``sqlite+aiosqlite:///<ECGSTREAM_HOME>/ecgstream.db`` | SQLAlchemy async URL |
| ECGSTREAM_HOME | ``./var`` | folder for the embedded database, logs and generated samples |
| MODEL_PATH | the shipped checkpoint in ``model/weights/`` | checkpoint the worker and ``diagnose`` load |
| RECORDINGS_TOPIC | ``ecg.recordings.v1`` | topic the producers publish to |
| DIAGNOSES_TOPIC | ``ecg.diagnoses.v1`` | topic the worker publishes diagnosis events to |
| DEADLETTER_TOPIC | ``ecg.recordings.deadletter.v1`` | topic for messages the worker cannot process |
| TOPIC_PARTITIONS | ``4`` | partitions of the recordings topic when ecgstream creates it |
| WORKER_GROUP | ``ecgstream-worker`` | faust app id = Kafka consumer group |
| BATCH_MAX | ``32`` | most recordings per micro-batch |
| BATCH_WAIT | ``0.5`` | seconds the worker waits to fill a micro-batch |
| TORCH_THREADS | ``2`` | intra-op threads for inference |
| METRICS_PORT | ``9108`` | port of the worker's ``/metrics`` (0 = pick a free one) |
| GATEWAY_HOST / GATEWAY_PORT | ``127.0.0.1`` / ``8080`` | the web upload gateway |
| MAX_RECORDING_BYTES | ``4194304`` | largest encoded recording accepted (60 s x 12 leads at 2 kHz int16 fits) |
| PATIENT_HMAC_SECRET | a fixed development secret | key for hashing patient references (set it in production!) |
| STORE_SIGNAL | ``false`` | also store the raw signal bytes in the database |
| DB_RETRY_MAX_SECONDS | ``30`` | cap of the exponential backoff while the database is down |
| LOG_LEVEL | ``INFO`` | logging level; logs are JSON lines |
| BROKER_SESSION_TIMEOUT | ``6`` | consumer-group session timeout (s); short so workers join within seconds |
| BROKER_HEARTBEAT_INTERVAL | ``1`` | consumer heartbeat interval (s) |
| BROKER_REBALANCE_TIMEOUT | ``6`` | rebalance timeout (s) |
| MEASUREMENTS | ``on`` | worker and ``diagnose``: signal quality (unreadable recordings get reasons, no statements), measurements and rule statements; ``off`` = the model alone on every recording (benchmark baseline) |
| FUSION | ``on`` | with MEASUREMENTS on: statements fused from measurement rules and the model, each with its provenance; ``off`` = the model's statements only (measurements and quality still reported) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Settings", "load_settings", "settings_to_env", "ENV_FIELDS", "DEFAULT_MODEL_PATH", "DEV_HMAC_SECRET"]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "model" / "weights" / "ecgstream-cae.pt"
DEV_HMAC_SECRET = "ecgstream-development-secret-change-me"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """The whole configuration of one ecgstream process."""

    kafka_bootstrap: str | None = None
    database_url: str | None = None
    home: Path = field(default_factory=lambda: Path("var").resolve())
    model_path: Path = DEFAULT_MODEL_PATH
    recordings_topic: str = "ecg.recordings.v1"
    diagnoses_topic: str = "ecg.diagnoses.v1"
    deadletter_topic: str = "ecg.recordings.deadletter.v1"
    topic_partitions: int = 4
    worker_group: str = "ecgstream-worker"
    batch_max: int = 32
    batch_wait: float = 0.5
    torch_threads: int = 2
    metrics_port: int = 9108
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    max_recording_bytes: int = 4 * 1024 * 1024
    patient_hmac_secret: str = DEV_HMAC_SECRET
    store_signal: bool = False
    db_retry_max_seconds: float = 30.0
    log_level: str = "INFO"
    broker_session_timeout: float = 6.0
    broker_heartbeat_interval: float = 1.0
    broker_rebalance_timeout: float = 6.0
    measurements: bool = True
    fusion: bool = True

    @property
    def embedded_broker(self) -> bool:
        """True when ecgstream must start its own Tansu broker."""
        return not self.kafka_bootstrap

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.home / 'ecgstream.db'}"

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (used by the embedded stack and tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]


# Environment variable -> Settings field. One table serves reading (load_settings) and writing
# (settings_to_env, for child processes), so the two can never disagree.
ENV_FIELDS: dict[str, str] = {
    "KAFKA_BOOTSTRAP": "kafka_bootstrap",
    "DATABASE_URL": "database_url",
    "ECGSTREAM_HOME": "home",
    "MODEL_PATH": "model_path",
    "RECORDINGS_TOPIC": "recordings_topic",
    "DIAGNOSES_TOPIC": "diagnoses_topic",
    "DEADLETTER_TOPIC": "deadletter_topic",
    "TOPIC_PARTITIONS": "topic_partitions",
    "WORKER_GROUP": "worker_group",
    "BATCH_MAX": "batch_max",
    "BATCH_WAIT": "batch_wait",
    "TORCH_THREADS": "torch_threads",
    "METRICS_PORT": "metrics_port",
    "GATEWAY_HOST": "gateway_host",
    "GATEWAY_PORT": "gateway_port",
    "MAX_RECORDING_BYTES": "max_recording_bytes",
    "PATIENT_HMAC_SECRET": "patient_hmac_secret",
    "STORE_SIGNAL": "store_signal",
    "DB_RETRY_MAX_SECONDS": "db_retry_max_seconds",
    "LOG_LEVEL": "log_level",
    "BROKER_SESSION_TIMEOUT": "broker_session_timeout",
    "BROKER_HEARTBEAT_INTERVAL": "broker_heartbeat_interval",
    "BROKER_REBALANCE_TIMEOUT": "broker_rebalance_timeout",
    "MEASUREMENTS": "measurements",
    "FUSION": "fusion",
}


def _parse(field_name: str, raw: str) -> object:
    default = getattr(Settings(), field_name)
    if field_name in {"kafka_bootstrap", "database_url"}:
        return raw or None
    if field_name in {"home", "model_path"}:
        path = Path(raw)
        return path.resolve() if field_name == "home" else path
    if field_name == "log_level":
        return raw.upper()
    if isinstance(default, bool):
        return _bool(raw)
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from ``environ`` (default: ``os.environ``); unset variables keep defaults."""
    env = os.environ if environ is None else environ
    values = {field_name: _parse(field_name, env[name]) for name, field_name in ENV_FIELDS.items() if name in env}
    return Settings(**values)  # type: ignore[arg-type]


def settings_to_env(settings: Settings) -> dict[str, str]:
    """The environment variables that make ``load_settings`` rebuild ``settings`` (for child processes)."""
    env: dict[str, str] = {}
    for name, field_name in ENV_FIELDS.items():
        value = getattr(settings, field_name)
        if value is None:
            continue
        env[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return env
