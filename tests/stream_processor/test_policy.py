"""The failure policy and the retry loop, as pure logic."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
)

from schemas.errors import InvalidRecording, SchemaError, UnknownSchemaVersion
from storage import DatabaseUnavailable
from stream_processor.policy import dead_letter_reason, is_retriable_kafka_error
from stream_processor.retry import backoff_delays, retry_forever


@pytest.mark.parametrize(
    ("error", "retriable"),
    [(KafkaConnectionError(), True), (KafkaTimeoutError(), True), (NotLeaderForPartitionError(), True),
     (ConnectionResetError(), True), (MessageSizeTooLargeError(), False), (ValueError("bug"), False)],
)  # fmt: skip
def test_only_retriable_kafka_errors_are_retried(error, retriable):
    assert is_retriable_kafka_error(error) is retriable


def test_wrapped_kafka_errors_are_classified_by_their_cause():
    try:
        try:
            raise KafkaConnectionError()
        except KafkaConnectionError as inner:
            raise RuntimeError("faust ProducerSendError") from inner
    except RuntimeError as outer:
        assert is_retriable_kafka_error(outer)


@pytest.mark.parametrize(
    ("error", "reason"),
    [(SchemaError("x"), "undecodable"), (UnknownSchemaVersion("x"), "unknown_schema_version"),
     (InvalidRecording("x", reason="non_finite"), "non_finite"), (InvalidRecording("x"), "invalid_recording")],
)  # fmt: skip
def test_dead_letter_reasons(error, reason):
    assert dead_letter_reason(error) == reason


def test_backoff_grows_and_is_capped():
    delays = backoff_delays(initial=0.1, maximum=1.0)
    values = [next(delays) for _ in range(10)]
    assert values[0] < values[3]
    assert max(values) <= 1.2  # cap plus jitter


async def test_retry_forever_retries_transient_errors_then_returns():
    attempts = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise DatabaseUnavailable("down")
        return "stored"

    retried: list[BaseException] = []
    result = await retry_forever(flaky, transient=(DatabaseUnavailable,), what="test", max_delay=0.01,
                                 on_retry=retried.append)  # fmt: skip
    assert result == "stored" and len(attempts) == 3 and len(retried) == 2


async def test_retry_forever_raises_permanent_errors_at_once():
    async def broken() -> None:
        raise MessageSizeTooLargeError()

    with pytest.raises(MessageSizeTooLargeError):
        await retry_forever(broken, transient=is_retriable_kafka_error, what="test")


async def test_retry_forever_stops_when_cancelled():
    async def down() -> None:
        raise DatabaseUnavailable("down")

    task = asyncio.create_task(retry_forever(down, transient=(DatabaseUnavailable,), what="test"))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
