"""The bounded decoders that replace aiokafka's: same output for normal batches, refusal past the bound."""

from __future__ import annotations

import resource

import aiokafka.codec as codec
import pytest

from stream_processor.inflate_guard import DecompressionBomb, bounded_decoders

LIMIT = 1024 * 1024
ENCODERS = {
    "gzip_decode": codec.gzip_encode,
    "zstd_decode": codec.zstd_encode,
    "lz4_decode": codec.lz4_encode,
    "snappy_decode": lambda data: codec.snappy_encode(data, xerial_compatible=False),
}


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_bounded_decoder_matches_aiokafka_below_the_bound(name):
    payload = bytes(range(256)) * 2000  # 512 KB
    encoded = ENCODERS[name](payload)
    assert bounded_decoders(LIMIT)[name](encoded) == getattr(codec, name)(encoded) == payload


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_bounded_decoder_stops_at_the_bound(name):
    bomb = ENCODERS[name](bytes(64 * LIMIT))  # 64 MiB of zeros
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DecompressionBomb) as caught:
        bounded_decoders(LIMIT)[name](bomb)
    assert caught.value.limit == LIMIT
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 32 * 1024, "the decoder never holds the inflated 64 MiB"


def test_zstd_concatenated_frames_are_all_read():
    two = codec.zstd_encode(b"a" * 1000) + codec.zstd_encode(b"b" * 1000)
    assert bounded_decoders(LIMIT)["zstd_decode"](two) == b"a" * 1000 + b"b" * 1000


def _snappy_batch(value: bytes) -> bytes:
    """A real v2 record batch, snappy-compressed by aiokafka's own builder (xerial framing, 32 KiB blocks,
    as the Java and aiokafka producers write it), holding one record of ``value``."""
    from aiokafka.record.default_records import DefaultRecordBatch, _DefaultRecordBatchBuilderPy

    builder = _DefaultRecordBatchBuilderPy(magic=2, compression_type=DefaultRecordBatch.CODEC_SNAPPY,
                                           is_transactional=0, producer_id=-1, producer_epoch=-1,
                                           base_sequence=-1, batch_size=len(value) + 1024)  # fmt: skip
    builder.append(0, timestamp=None, key=None, value=value, headers=[])
    return bytes(builder.build())


def test_snappy_xerial_batch_is_refused_before_it_inflates(monkeypatch):
    """Issue 18, finding 7: the xerial blocks were inflated (all of them) before the bound was checked.

    The batch goes through aiokafka's own record-batch reader with the bounded decoder in place of
    its snappy decoder; tracemalloc's peak is what the decoding allocated."""
    import tracemalloc

    import aiokafka.record.default_records as default_records
    from aiokafka.record.default_records import _DefaultRecordBatchPy

    inflated = 64 * LIMIT
    batch = _snappy_batch(bytes(inflated))
    assert batch[:16] != b"" and len(batch) < inflated // 10  # a few MB on the wire
    monkeypatch.setattr(default_records, "snappy_decode", bounded_decoders(LIMIT)["snappy_decode"])
    tracemalloc.start()
    try:
        with pytest.raises(DecompressionBomb) as caught:
            list(_DefaultRecordBatchPy(batch))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nSNAPPY-FIGURES batch {len(batch) / 2**20:.1f} MiB declaring {inflated / 2**20:.0f} MiB: "
          f"decoding allocated at most {peak / 2**20:.1f} MiB")  # fmt: skip
    assert caught.value.codec == "snappy"
    assert peak < len(batch) + 4 * LIMIT, "refused from the declared block lengths, before inflating"


def test_snappy_xerial_batch_below_the_bound_reads_as_aiokafka_reads_it(monkeypatch):
    import aiokafka.record.default_records as default_records
    from aiokafka.record.default_records import _DefaultRecordBatchPy

    value = bytes(range(256)) * 2000
    batch = _snappy_batch(value)
    monkeypatch.setattr(default_records, "snappy_decode", bounded_decoders(LIMIT)["snappy_decode"])
    (record,) = list(_DefaultRecordBatchPy(batch))
    assert record.value == value
