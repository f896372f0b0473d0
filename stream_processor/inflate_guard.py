"""Bounded decompression of Kafka record batches inside aiokafka's fetcher (compression bombs).

aiokafka inflates a whole compressed record batch in one call (``aiokafka.codec.*_decode``, called
from ``DefaultRecordBatch._maybe_uncompress``, the Cython one included) when the fetcher iterates it,
long before the worker can check ``MAX_RECORDING_BYTES``: a 33 KB zstd batch becomes 1 GiB. Nothing
in aiokafka bounds this, and an exception there ends ``getmany`` for the partition, so the same
batch is fetched again forever.

``install`` does two things, once per process:

1. it replaces the gzip, snappy, lz4 and zstd decoders that aiokafka's record modules call with
   streaming decoders that stop at ``limit`` bytes and raise ``DecompressionBomb``;
2. it wraps ``PartitionRecords._unpack_records`` (the fetcher's per-partition record iterator) so a
   ``DecompressionBomb`` skips just that batch: the partition's fetch position moves past it,
   ``on_bomb`` gets a ``SkippedBatch`` (topic, partition, offsets) and the following batches are
   consumed as usual.

The worker reports each skipped batch (log, ``ecgstream_dead_letters_total{reason="decompression_bomb"}``
and a dead letter without the original bytes); see ``stream_processor.policy``.
"""

from __future__ import annotations

import gzip
import io
import logging
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from core.errors import EcgstreamError

__all__ = ["DecompressionBomb", "SkippedBatch", "install", "bounded_decoders", "snappy_declared_size"]

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_RECORD_MODULES = (
    "aiokafka.codec",
    "aiokafka.record.default_records",
    "aiokafka.record.legacy_records",
    "aiokafka.record._crecords.default_records",
    "aiokafka.record._crecords.legacy_records",
)
_install_lock = threading.Lock()
_state: dict[str, Any] = {}


class DecompressionBomb(EcgstreamError):
    """A compressed payload inflates beyond the configured bound."""

    def __init__(self, codec: str, limit: int) -> None:
        super().__init__(f"{codec} payload inflates beyond {limit} bytes")
        self.codec = codec
        self.limit = limit


@dataclass(frozen=True)
class SkippedBatch:
    """A record batch the consumer skipped: where it was and why."""

    topic: str
    partition: int
    first_offset: int
    last_offset: int
    codec: str
    limit_bytes: int


def _read_bounded(stream: Any, codec: str, limit: int) -> bytes:
    out = bytearray()
    while chunk := stream.read(_CHUNK):
        out += chunk
        if len(out) > limit:
            raise DecompressionBomb(codec, limit)
    return bytes(out)


def _zstd(limit: int) -> Callable[[Any], bytes]:
    import zstandard

    def decode(payload: Any) -> bytes:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(bytes(payload)), read_across_frames=True)
        return _read_bounded(reader, "zstd", limit)

    return decode


def _gzip(limit: int) -> Callable[[Any], bytes]:
    def decode(payload: Any) -> bytes:
        with gzip.GzipFile(fileobj=io.BytesIO(bytes(payload)), mode="rb") as reader:
            return _read_bounded(reader, "gzip", limit)

    return decode


def _into_buffer(codec: str, decompress_into: Callable[[Any, Any], int], limit: int) -> Callable[[Any], bytes]:
    """A decoder writing into a buffer of ``limit + 1`` bytes (lazily backed: only what is written costs)."""

    def decode(payload: Any) -> bytes:
        buffer = bytearray(limit + 1)
        try:
            written = int(decompress_into(bytes(payload), buffer))
        except Exception as exc:  # cramjam raises when the output does not fit the buffer
            raise DecompressionBomb(codec, limit) from exc
        if written > limit:
            raise DecompressionBomb(codec, limit)
        return bytes(memoryview(buffer)[:written])

    return decode


def _lz4(limit: int) -> Callable[[Any], bytes]:
    import cramjam

    return _into_buffer("lz4", cramjam.lz4.decompress_into, limit)


def snappy_declared_size(data: bytes, limit: int) -> int:
    """What a snappy payload says it inflates to, read before inflating anything (past ``limit``: a
    partial sum above it). Raw snappy states its length up front; a xerial stream (what Kafka's
    clients write: a 16-byte header, then blocks of a 4-byte length and a raw snappy block) states
    one length per block, and nothing bounds the number of blocks, so every block is summed.
    """
    import cramjam
    from aiokafka.codec import _detect_xerial_stream

    if not _detect_xerial_stream(data):
        return int(cramjam.snappy.decompress_raw_len(data))
    view = memoryview(data)
    total, cursor = 0, 16
    while cursor + 4 <= len(data) and total <= limit:
        (size,) = struct.unpack_from("!i", data, cursor)
        cursor += 4
        total += int(cramjam.snappy.decompress_raw_len(view[cursor : cursor + max(0, size)]))
        cursor += max(0, size)
    return total


def _snappy(limit: int, original: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """aiokafka's snappy decoder (xerial blocks or raw), refused before inflating when the payload
    declares more than ``limit`` bytes (``snappy_declared_size``)."""

    def decode(payload: Any) -> bytes:
        data = bytes(payload)
        try:
            declared = snappy_declared_size(data, limit)
        except Exception:  # noqa: BLE001 - not snappy at all: aiokafka's decoder reports it as it always did
            declared = 0
        if declared > limit:
            raise DecompressionBomb("snappy", limit)
        result = original(data)
        if len(result) > limit:  # a block that inflates beyond what it declared
            raise DecompressionBomb("snappy", limit)
        return result

    return decode


def bounded_decoders(limit: int) -> dict[str, Callable[[Any], bytes]]:
    """``{"gzip_decode": ..., "zstd_decode": ...}``: aiokafka's decoder names -> bounded decoders."""
    import aiokafka.codec as codec

    return {
        "gzip_decode": _gzip(limit),
        "zstd_decode": _zstd(limit),
        "lz4_decode": _lz4(limit),
        "snappy_decode": _snappy(limit, codec.snappy_decode),
    }


class _TrackingRecords:
    """``MemoryRecords`` that remembers the batch it handed out last."""

    def __init__(self, records: Any) -> None:
        self._records = records
        self.last: Any = None

    def has_next(self) -> bool:
        return bool(self._records.has_next())

    def next_batch(self) -> Any:
        self.last = self._records.next_batch()
        return self.last


def _patch_fetcher(on_bomb: Callable[[SkippedBatch], None]) -> None:
    from aiokafka.consumer import fetcher

    original = fetcher.PartitionRecords._unpack_records

    def _unpack_skipping_bombs(self: Any) -> Iterator[Any]:
        tracker = _TrackingRecords(self._records)
        self._records = tracker
        while True:
            try:
                yield from original(self)
                return
            except DecompressionBomb as bomb:
                batch = tracker.last
                skipped = SkippedBatch(
                    self._tp.topic, self._tp.partition, int(batch.base_offset), int(batch.next_offset) - 1,
                    bomb.codec, bomb.limit,
                )  # fmt: skip
                self.next_fetch_offset = int(batch.next_offset)
                logger.error(
                    "compressed record batch skipped: it inflates beyond the bound",
                    extra={"position": f"{skipped.topic}[{skipped.partition}]@{skipped.first_offset}",
                           "last_offset": skipped.last_offset, "codec": bomb.codec, "limit_bytes": bomb.limit},
                )  # fmt: skip
                on_bomb(skipped)

    fetcher.PartitionRecords._unpack_records = _unpack_skipping_bombs


def install(limit: int, on_bomb: Callable[[SkippedBatch], None]) -> None:
    """Bound every record-batch decompression of this process to ``limit`` bytes; skip bombs.

    Idempotent: a second call only replaces the ``limit`` and the callback.
    """
    import importlib

    with _install_lock:
        _state["on_bomb"] = on_bomb
        decoders = bounded_decoders(limit)
        for name in _RECORD_MODULES:
            try:
                module = importlib.import_module(name)
            except ImportError:  # aiokafka without its C extensions
                continue
            for attribute, decoder in decoders.items():
                if hasattr(module, attribute):
                    setattr(module, attribute, decoder)
        if not _state.get("fetcher_patched"):
            _patch_fetcher(lambda skipped: _state["on_bomb"](skipped))
            _state["fetcher_patched"] = True
