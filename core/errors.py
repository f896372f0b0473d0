"""The root of the project's exception tree. Third-party errors are converted to these at the boundary.

Every error ecgstream raises on purpose derives from ``EcgstreamError``; those that subclassed a
builtin before the tree had one root still do (``except ValueError`` still catches a ``ConfigError``).
Each class lives in the module named beside it:

EcgstreamError                      core.errors
├── ConfigError                     core.config (also ValueError): a setting cannot be used
│   ├── InsecureConfiguration       core.secret_check: the development secret outside development
│   └── KafkaSecurityError          core.kafka_security: TLS/SASL settings incomplete or contradictory
├── BrokerUnavailable               core.kafka_admin (also ConnectionError): brokers unreachable
│   └── BrokerAuthenticationFailed  core.kafka_admin: SASL credentials or mechanism refused
├── NoBrokerConfigured              core.stack_info (also RuntimeError): no KAFKA_BOOTSTRAP, no running stack
├── BrokerStartError                ecgstream.embedded (also RuntimeError): the embedded broker did not start
├── InvalidRecording                schemas.errors: a signal or its metadata fails validation
│   └── UnsupportedFormat           schemas.errors: a file no reader knows or can parse
├── SchemaError                     schemas.errors: an event that cannot be decoded
│   └── UnknownSchemaVersion        schemas.errors: a schema version this reader does not know
├── StorageError                    storage.errors: the database rejected an operation (permanent)
│   ├── OverreadConflict            storage.overreads: another overread was stored first
│   └── IdentityUnreadable          storage.identity: the stored identity does not decrypt
├── DatabaseUnavailable             storage.errors: the database cannot take the call now (transient)
├── ParsersBusy                     ingest.sandbox: every parser place stayed taken
├── DecompressionBomb               stream_processor.inflate_guard: a payload inflates beyond its bound
├── DeliveryRejected                stream_processor.export.delivery: the receiver refused (permanent)
├── TransientDeliveryError          stream_processor.export.delivery: the receiver cannot take it now
├── GatewayError                    webapp.errors: an HTTP error answer (status, reason, message)
│   ├── FieldError                  webapp.errors: 422, names the field
│   ├── UploadTooLarge              webapp.errors: 413
│   ├── RequestTimeout              webapp.errors: 408
│   │   └── UploadTimeout           webapp.errors: 408 for an upload
│   ├── Busy                        webapp.errors: 429 / 503 with Retry-After
│   └── AuthError                   webapp.auth: 401 / 403
└── PortInUse                       webapp.server (also OSError): the gateway's port is taken

``reason`` is a short machine-readable code (class default, or ``reason=`` at construction);
``message`` is the human text (``str(error)``).
"""

from __future__ import annotations

__all__ = ["EcgstreamError"]


class EcgstreamError(Exception):
    """Base of every error ecgstream raises on purpose."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    @property
    def message(self) -> str:
        return str(self)
