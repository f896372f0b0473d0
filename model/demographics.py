"""The model's second input: age and sex as four numbers per record. No IO, no torch.

Shared by the networks (``model.network``, ``model.resnet``: the width of their head's input) and by
whoever feeds them (``model.predictor``, training).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["demographics", "N_DEMOGRAPHICS"]

N_DEMOGRAPHICS = 4
AGE_MEAN, AGE_STD = 60.0, 18.0


def demographics(ages: Sequence[float | None], sexes: Sequence[str | None]) -> np.ndarray:
    """(B, 4) float32 [age_z, age_missing, is_male, is_female].

    Imputation: a missing age becomes the training mean (age_z = 0) with age_missing = 1; a missing
    or unknown sex sets both sex flags to 0.
    """
    out = np.zeros((len(ages), N_DEMOGRAPHICS), dtype=np.float32)
    for i, (age, sex) in enumerate(zip(ages, sexes, strict=True)):
        if age is None or not np.isfinite(float(age)):
            out[i, 1] = 1.0
        else:
            out[i, 0] = (float(age) - AGE_MEAN) / AGE_STD
        s = (sex or "").strip().upper()[:1]
        out[i, 2] = 1.0 if s == "M" else 0.0
        out[i, 3] = 1.0 if s == "F" else 0.0
    return out
