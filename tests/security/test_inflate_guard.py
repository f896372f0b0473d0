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
