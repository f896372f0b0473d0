"""Encrypted and authenticated Kafka connections (TLS, SASL), one definition for every client.

The publisher (``ecgstream publish``, the gateway, the demo), the worker (faust), the admin calls
that create topics and the diagnosis watchers all connect with the options built here from the
settings (``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SSL_*``, ``KAFKA_SASL_*``; see ``core.config``):

| protocol | what it needs |
|---|---|
| ``PLAINTEXT`` (default) | nothing: the embedded broker on loopback |
| ``SSL`` | ``KAFKA_SSL_CAFILE`` (else the system CAs); ``KAFKA_SSL_CERTFILE`` + ``KAFKA_SSL_KEYFILE`` for mutual TLS |
| ``SASL_SSL`` | the above and ``KAFKA_SASL_USERNAME`` / ``KAFKA_SASL_PASSWORD``, ``KAFKA_SASL_MECHANISM`` (``SCRAM-SHA-512`` default, ``SCRAM-SHA-256``, ``PLAIN``) |
| ``SASL_PLAINTEXT`` | SASL without TLS: refused unless the broker is on loopback (the password and data would cross the network in clear) |

Every mistake found before connecting raises ``KafkaSecurityError`` (a ``ConfigError``: one line naming
the variable, exit code 2): a missing setting, a CA/certificate/key file that does not exist or is not
PEM, TLS or SASL without ``KAFKA_BOOTSTRAP`` (the embedded Tansu speaks PLAINTEXT only). The password
is kept out of ``repr`` and logs.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from typing import Any

from core.config import ConfigError, Settings

__all__ = ["KafkaSecurity", "KafkaSecurityError", "PROTOCOLS", "SASL_MECHANISMS"]

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


class KafkaSecurityError(ConfigError):
    """The Kafka security settings are incomplete or contradictory (the message names the variable)."""


@dataclass(frozen=True)
class KafkaSecurity:
    """How to connect to the brokers: protocol, TLS files, SASL mechanism and credentials."""

    protocol: str = "PLAINTEXT"
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaSecurity:
        security = cls(
            protocol=settings.kafka_security_protocol.upper(),
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
            sasl_mechanism=settings.kafka_sasl_mechanism.upper() if settings.kafka_sasl_mechanism else None,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
        )
        security.check(settings.kafka_bootstrap)
        if security.protocol != "PLAINTEXT" and settings.embedded_broker:
            raise KafkaSecurityError(
                f"KAFKA_SECURITY_PROTOCOL={security.protocol} needs KAFKA_BOOTSTRAP (your brokers): the embedded "
                "development broker speaks PLAINTEXT only"
            )
        security.ssl_context()  # a bad CA, certificate or key file fails here, naming its variable
        return security

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @property
    def mechanism(self) -> str:
        return self.sasl_mechanism or "SCRAM-SHA-512"

    def check(self, bootstrap: str | None = None) -> None:
        """Raise ``KafkaSecurityError`` naming the setting that is missing or wrong."""
        if self.protocol not in PROTOCOLS:
            raise KafkaSecurityError(f"KAFKA_SECURITY_PROTOCOL must be one of {', '.join(PROTOCOLS)}, got {self.protocol!r}")
        if (self.certfile is None) != (self.keyfile is None):
            raise KafkaSecurityError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE must be set together")
        if not self.uses_tls and (self.cafile or self.certfile):
            raise KafkaSecurityError(f"KAFKA_SSL_* is set but KAFKA_SECURITY_PROTOCOL={self.protocol} does not use TLS")
        if self.uses_sasl:
            if self.mechanism not in SASL_MECHANISMS:
                raise KafkaSecurityError(f"KAFKA_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}, got {self.mechanism!r}")
            if not self.username or not self.password:
                raise KafkaSecurityError(f"KAFKA_SECURITY_PROTOCOL={self.protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
            if self.protocol == "SASL_PLAINTEXT" and bootstrap and not _all_loopback(bootstrap):
                raise KafkaSecurityError("KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT would send the password in clear: use SASL_SSL")
        elif self.username or self.password:
            raise KafkaSecurityError(f"KAFKA_SASL_USERNAME/PASSWORD are set but KAFKA_SECURITY_PROTOCOL={self.protocol} does not use SASL")
        for variable, path in self._files():
            if not os.path.isfile(path) or not os.access(path, os.R_OK):
                raise KafkaSecurityError(f"{variable}={path} does not exist or is not a readable file")

    def _files(self) -> list[tuple[str, str]]:
        named = [("KAFKA_SSL_CAFILE", self.cafile), ("KAFKA_SSL_CERTFILE", self.certfile), ("KAFKA_SSL_KEYFILE", self.keyfile)]
        return [(variable, path) for variable, path in named if path]

    def ssl_context(self) -> ssl.SSLContext | None:
        """A verifying client TLS context (hostname checked), None without TLS."""
        if not self.uses_tls:
            return None
        try:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.cafile)
        except (ssl.SSLError, OSError) as exc:
            raise KafkaSecurityError(f"KAFKA_SSL_CAFILE={self.cafile} is not a PEM CA certificate ({_reason(exc)})") from None
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.certfile and self.keyfile:
            try:
                context.load_cert_chain(self.certfile, self.keyfile)
            except (ssl.SSLError, OSError) as exc:
                raise KafkaSecurityError(
                    f"KAFKA_SSL_CERTFILE={self.certfile} / KAFKA_SSL_KEYFILE={self.keyfile} are not a matching PEM "
                    f"certificate and key ({_reason(exc)})"
                ) from None
        return context

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options.update(sasl_mechanism=self.mechanism, sasl_plain_username=self.username,
                           sasl_plain_password=self.password)  # fmt: skip
        return options

    def faust_credentials(self) -> Any:
        """``broker_credentials`` for the faust app (None for PLAINTEXT)."""
        import faust

        if self.uses_sasl:
            return faust.SASLCredentials(
                username=self.username, password=self.password, ssl_context=self.ssl_context(), mechanism=self.mechanism
            )
        if self.uses_tls:
            return faust.SSLCredentials(self.ssl_context())
        return None


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__)


def _all_loopback(bootstrap: str) -> bool:
    hosts = [server.strip().rsplit(":", 1)[0] for server in bootstrap.split(",") if server.strip()]
    return all(host in LOOPBACK_HOSTS for host in hosts)
