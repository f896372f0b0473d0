"""How many bytes Philips XLI waveform data decodes to, counted without decoding it.

XLI is the compression of Philips Sierra/PageWriter XML ``<parsedwaveforms compressmethod="XLI">``:
one chunk per lead, each an 8-byte header (int32 little-endian compressed size, 2 unused bytes,
int16 first sample) followed by LZW codes of 10 bits, most significant bit first, with a dictionary
that grows from 256 single bytes to at most 1023 entries; the decoded bytes are second differences
of the samples. One code can stand for a string of up to 768 bytes, so a small chunk can decode to
about 600 times its size: ecgdatakit's decoder (``ecgdatakit.parsing.codecs``) materialises all of
it. ``decoded_size`` replays the dictionary's string lengths only (1,024 integers of memory), so a
reader can refuse a chunk before it is decoded.
"""

from __future__ import annotations

import numpy as np

__all__ = ["decoded_size", "CODE_BITS"]

CODE_BITS = 10
_MAX_CODE = (1 << CODE_BITS) - 2  # 1022; a larger code ends the stream, as in the reference decoders
_HEADER = 8
_WEIGHTS = 1 << np.arange(CODE_BITS - 1, -1, -1)


def _codes(chunk: bytes) -> list[int]:
    bits = np.unpackbits(np.frombuffer(chunk, dtype=np.uint8))
    count = bits.size // CODE_BITS
    return (bits[: count * CODE_BITS].reshape(count, CODE_BITS) @ _WEIGHTS).tolist()  # type: ignore[no-any-return]


def _chunk_size(chunk: bytes, limit: int) -> int:
    """Decoded bytes of one LZW chunk; counting stops once above ``limit``."""
    lengths = [1] * 256 + [0] * (1024 - 256)
    known = [True] * 256 + [False] * (1024 - 256)
    previous, next_code, total = 0, 256, 0
    for code in _codes(chunk):
        if code > _MAX_CODE:
            break
        if known[code]:
            length = lengths[code]
        elif previous:  # the code being defined by this very step (KwKwK)
            length = lengths[code] = previous + 1
            known[code] = True
        else:
            break  # undecodable: the decoder itself reports it
        if previous and next_code <= _MAX_CODE:
            lengths[next_code], known[next_code] = previous + 1, True
            next_code += 1
        previous = length
        total += length
        if total > limit:
            break
    return total


def decoded_size(data: bytes, limit: int) -> int:
    """Bytes the XLI ``data`` decodes to, all chunks together; once above ``limit`` it returns early.

    Chunks whose header is damaged end the count: the decoder reports them.
    """
    total, offset = 0, 0
    while offset + _HEADER <= len(data) and total <= limit:
        size = int.from_bytes(data[offset : offset + 4], "little", signed=True)
        offset += _HEADER
        if size <= 0 or size > len(data) - offset:
            break
        total += _chunk_size(data[offset : offset + size], limit - total)
        offset += size
    return total
