"""Create the Kafka topics ecgstream needs (idempotent; works on Apache Kafka and Tansu)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from core.errors import EcgstreamError

__all__ = ["ensure_topics", "TOPIC_ALREADY_EXISTS", "BrokerUnavailable", "BrokerAuthenticationFailed"]

logger = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36  # Kafka protocol error code


class BrokerUnavailable(EcgstreamError, ConnectionError):
    """The Kafka bootstrap servers cannot be reached."""


class BrokerAuthenticationFailed(BrokerUnavailable):
    """The brokers refused the SASL credentials or mechanism (the message names the user, never the password)."""


def _authentication_failure(exc: BaseException) -> bool:
    """True for aiokafka's ways of reporting refused SASL credentials.

    aiokafka 0.12 raises ``KeyError('v')`` from its SCRAM client when the server's final message is an
    error (``e=unknown-user``, ``e=invalid-proof``) instead of a signature.
    """
    from aiokafka.errors import SaslAuthenticationFailed

    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, SaslAuthenticationFailed):
            return True
        if isinstance(current, KeyError) and current.args == ("v",):
            return True
        current = current.__cause__ or current.__context__
    return False


def _unsupported_mechanism(exc: BaseException) -> BaseException | None:
    from aiokafka.errors import UnsupportedSaslMechanismError

    current: BaseException | None = exc
    while current is not None and not isinstance(current, UnsupportedSaslMechanismError):
        current = current.__cause__ or current.__context__
    return current


async def _mechanism_problem(bootstrap: str, options: Mapping[str, Any]) -> str | None:
    """Why a SASL connection closed, when the TCP side works: ask the first broker for its mechanisms.

    Some brokers (Tansu) close the connection instead of answering an unsupported mechanism, which
    aiokafka reports as "connection closed"; a plain handshake request tells the two cases apart.
    None when the broker cannot be reached at all (then it really is unreachable).
    """
    from aiokafka.conn import create_conn
    from aiokafka.protocol.admin import SaslHandShakeRequest

    mechanism = str(options.get("sasl_mechanism"))
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    tls = options.get("ssl_context")
    try:
        conn = await create_conn(host.strip("[]"), int(port), security_protocol="SSL" if tls else "PLAINTEXT",
                                 ssl_context=tls, request_timeout_ms=10000)  # fmt: skip
    except Exception:  # noqa: BLE001 - not even TCP (or TLS): unreachable, as first reported
        return None
    try:
        response = await conn.send(SaslHandShakeRequest(mechanism))
    except Exception:  # noqa: BLE001 - closed on the handshake itself
        return (f"Kafka broker at {bootstrap} accepts connections but closed them when asked for SASL mechanism "
                f"{mechanism}: it is most likely not enabled there; check KAFKA_SASL_MECHANISM "
                f"({', '.join(('PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'))})")  # fmt: skip
    finally:
        conn.close()
    offered = list(response.enabled_mechanisms)
    if mechanism not in offered:
        return (f"Kafka broker at {bootstrap} does not offer SASL mechanism {mechanism} (it offers "
                f"{', '.join(offered) or 'none'}): set KAFKA_SASL_MECHANISM accordingly")  # fmt: skip
    return None


async def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    *,
    max_message_bytes: int | None = None,
    replication_factor: int | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> None:
    """Create every topic of ``topics`` (name -> partitions) that does not exist yet.

    ``max_message_bytes`` sets the topic's ``max.message.bytes`` (recordings need more than Kafka's
    1 MB default at high sampling rates). ``replication_factor`` defaults to min(3, brokers).
    Existing topics are left as they are (partitions are never changed). ``client_options``: TLS
    and SASL (``core.kafka_security.KafkaSecurity.aiokafka_options``).
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import KafkaConnectionError, KafkaError, for_code

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000, **dict(client_options or {}))
    try:
        await admin.start()
    except Exception as exc:
        await admin.close()
        options = dict(client_options or {})
        if (unsupported := _unsupported_mechanism(exc)) is not None:
            raise BrokerAuthenticationFailed(
                f"Kafka broker at {bootstrap} does not offer SASL mechanism {options.get('sasl_mechanism')} "
                f"({unsupported}): set KAFKA_SASL_MECHANISM accordingly"
            ) from None
        if _authentication_failure(exc):
            raise BrokerAuthenticationFailed(
                f"Kafka broker at {bootstrap} refused the SASL credentials of user "
                f"{options.get('sasl_plain_username')!r} ({options.get('sasl_mechanism')}); check "
                "KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM"
            ) from None  # the chained aiokafka error carries the SCRAM exchange
        if isinstance(exc, KafkaConnectionError | ConnectionError | OSError):
            if options.get("sasl_mechanism") and (problem := await _mechanism_problem(bootstrap, options)):
                raise BrokerAuthenticationFailed(problem) from None
            raise BrokerUnavailable(f"Kafka broker at {bootstrap} is unreachable: {exc}") from exc
        raise
    try:
        existing = set(await admin.list_topics())
        missing = {name: parts for name, parts in topics.items() if name not in existing}
        if not missing:
            return
        brokers = max(1, len(admin._client.cluster.brokers()))
        replicas = replication_factor or min(3, brokers)
        configs = {"max.message.bytes": str(max_message_bytes)} if max_message_bytes else {}
        response = await admin.create_topics(
            [NewTopic(name, parts, replicas, topic_configs=configs) for name, parts in missing.items()]
        )
        for error in response.topic_errors:
            name, code = error[0], error[1]
            if code not in (0, TOPIC_ALREADY_EXISTS):
                message = error[2] if len(error) > 2 else ""
                raise for_code(code)(f"cannot create topic {name}: {message}")
        logger.info("created topics", extra={"topics": sorted(missing), "replication_factor": replicas})
    except KafkaError:
        raise
    finally:
        await admin.close()
