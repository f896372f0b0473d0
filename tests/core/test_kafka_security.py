"""Kafka TLS/SASL settings -> client options (pure; the real connections are in tests/security)."""

from __future__ import annotations

import ssl

import faust
import pytest

from core.config import load_settings
from core.kafka_security import KafkaSecurity, KafkaSecurityError


def _security(**env: str) -> KafkaSecurity:
    return KafkaSecurity.from_settings(load_settings(env))


def test_plaintext_by_default() -> None:
    security = _security()
    assert security.aiokafka_options() == {"security_protocol": "PLAINTEXT"}
    assert security.faust_credentials() is None


def test_sasl_ssl_gives_a_verifying_context_and_scram_512_by_default() -> None:
    security = _security(KAFKA_BOOTSTRAP="kafka-1.hospital:9093", KAFKA_SECURITY_PROTOCOL="sasl_ssl",
                         KAFKA_SASL_USERNAME="worker", KAFKA_SASL_PASSWORD="pw")  # fmt: skip
    options = security.aiokafka_options()
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    credentials = security.faust_credentials()
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.mechanism.value == "SCRAM-SHA-512" and credentials.protocol.value == "SASL_SSL"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u"}, "KAFKA_SASL_PASSWORD"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTFILE": "c.pem"}, "KAFKA_SSL_KEYFILE"),
        ({"KAFKA_SSL_CAFILE": "ca.pem"}, "KAFKA_SSL_"),
        ({"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}, "KAFKA_SASL_USERNAME"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI", "KAFKA_SASL_USERNAME": "u",
          "KAFKA_SASL_PASSWORD": "p"}, "KAFKA_SASL_MECHANISM"),
        ({"KAFKA_BOOTSTRAP": "kafka.hospital:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
          "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}, "SASL_SSL"),
    ],
)  # fmt: skip
def test_incomplete_or_unsafe_settings_are_refused_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(KafkaSecurityError, match=names):
        _security(**env)
