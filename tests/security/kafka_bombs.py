"""A compressed Kafka record batch that inflates to ``inflated_bytes``, built streaming, sent raw.

aiokafka's producer would need the whole value in memory (and refuses it above max_request_size), so
the v2 record batch is written here from the Kafka protocol spec (one record whose value is zeros),
compressed streaming with zstd, and sent with aiokafka's own client as a ProduceRequest.
"""

from __future__ import annotations

import struct
import time

import zstandard
from aiokafka.record.util import calc_crc32c, encode_varint

ZSTD_ATTRIBUTE = 4
_CHUNK = bytes(4 * 1024 * 1024)


def _varint(value: int) -> bytes:
    out = bytearray()
    encode_varint(value, out.append)
    return bytes(out)


def zstd_bomb_batch(inflated_bytes: int) -> bytes:
    """A magic-2 record batch holding one record of ``inflated_bytes`` zero bytes, zstd-compressed."""
    body_head = b"\x00" + _varint(0) + _varint(0) + _varint(-1) + _varint(inflated_bytes)
    body_tail = _varint(0)  # no headers
    length = len(body_head) + inflated_bytes + len(body_tail)
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    parts = [compressor.compress(_varint(length) + body_head)]
    remaining = inflated_bytes
    while remaining:
        step = min(remaining, len(_CHUNK))
        parts.append(compressor.compress(_CHUNK[:step]))
        remaining -= step
    parts.append(compressor.compress(body_tail))
    parts.append(compressor.flush())
    payload = b"".join(parts)
    now = int(time.time() * 1000)
    after_crc = struct.pack(">hiqqqhii", ZSTD_ATTRIBUTE, 0, now, now, -1, -1, -1, 1) + payload
    crc = calc_crc32c(after_crc)
    after_length = struct.pack(">ibI", -1, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(after_length)) + after_length


async def send_raw_batch(bootstrap: str, topic: str, partition: int, batch: bytes) -> int:
    """Produce ``batch`` as-is to ``topic[partition]``; returns its base offset."""
    from aiokafka import AIOKafkaProducer, TopicPartition
    from aiokafka.protocol.produce import ProduceRequest

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.client._wait_on_metadata(topic)
        leader = producer.client.cluster.leader_for_partition(TopicPartition(topic, partition))
        request = ProduceRequest(transactional_id=None, required_acks=-1, timeout=30000,
                                 topics=[(topic, [(partition, batch)])])  # fmt: skip
        response = await producer.client.send(leader, request)
    finally:
        await producer.stop()
    (_, partitions), *_ = response.topics
    _, error_code, base_offset, *_ = partitions[0]
    assert error_code == 0, f"the broker refused the raw batch (error {error_code})"
    return int(base_offset)
