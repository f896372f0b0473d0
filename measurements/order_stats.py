"""The median along one axis, equal to ``np.median`` on finite input without its per-lane cost:
``np.median`` partitions each short lane (a few beats per sample, over thousands of samples x
leads) separately; a sort of the whole array is several times faster and selects the same values."""

from __future__ import annotations

import numpy as np

__all__ = ["sort_median"]


def sort_median(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """``np.median(a, axis=axis)`` by sorting: for a few values per row (beats per sample) it is
    several times faster than ``np.median`` (which partitions each short row separately). The
    result is a view of the sorted array: its memory layout decides the order in which later sums
    over it add up, so it is kept as it was (a contiguous copy changes the last bits of the axes)."""
    s = np.moveaxis(np.sort(a, axis=axis), axis, 0)
    n = s.shape[0]
    return np.asarray(s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2]))
