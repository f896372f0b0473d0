"""The inference API used by the stream worker, the web gateway and ``ecgstream diagnose``.

Input contract of ``Predictor.predict``: raw (12, N_i) float32 signals in mV (leads I II III aVR aVL
aVF V1-V6) at any rate fs_i in 100-2000 Hz, each at least 5 s long; ages in years and sexes
'M'/'F', either may be None (imputation: see ``model.demographics.demographics``). Records are
resampled to ``Predictor.fs``, cut into windows of the checkpoint's length with its stride (half a
window), band-passed and z-scored (``model.preprocessing``); a record's probability for a label is
the MAX over its windows and over nothing else, averaged over ensemble members, then calibrated per
label with the checkpoint's calibration (identity for format-1 checkpoints); ``thresholds`` apply
to these calibrated probabilities.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from model.calibration import Calibration
from model.checkpoint import load_checkpoint
from model.demographics import demographics
from model.labels import Label
from model.preprocessing import PreprocessConfig, preprocess_batch

__all__ = ["Label", "BatchPrediction", "Predictor"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchPrediction:
    probabilities: np.ndarray  # (B, L) float32 calibrated, label order = Predictor.labels
    preprocess_seconds: float  # wall time of resample + window + filter for the batch
    inference_seconds: float  # wall time of the forward pass(es)


class Predictor:
    """A loaded checkpoint ready to score batches of recordings (one caller at a time)."""

    def __init__(
        self,
        models: Sequence[nn.Module],
        labels: tuple[Label, ...],
        thresholds: np.ndarray,
        preprocess: PreprocessConfig,
        version: str,
        torch_threads: int | None = None,
        max_windows_per_forward: int = 256,
        calibration: Calibration | None = None,
    ) -> None:
        self.models = list(models)  # any network mapping (B, 12, T), (B, 4) -> (B, L) logits
        self.labels = labels
        self.thresholds = np.asarray(thresholds, dtype=np.float32)
        self.calibration = calibration or Calibration.identity(len(labels))
        self.preprocess = preprocess
        self.version = version
        self.fs = float(preprocess.fs)
        self.torch_threads = torch_threads
        self.max_windows_per_forward = max_windows_per_forward
        self._lock = threading.Lock()
        if torch_threads is not None:
            torch.set_num_threads(int(torch_threads))
        for m in self.models:
            m.eval()

    @classmethod
    def load(cls, path: str | Path, torch_threads: int | None = None) -> Predictor:
        """Load a checkpoint written by ``model.checkpoint.save_checkpoint``."""
        ckpt = load_checkpoint(path)
        logger.info("model loaded", extra={"model_version": ckpt.version, "members": len(ckpt.models)})
        return cls(
            ckpt.models,
            ckpt.labels,
            np.asarray(ckpt.thresholds),
            ckpt.preprocess,
            ckpt.version,
            torch_threads,
            calibration=ckpt.calibration,
        )

    def forward_windows(self, windows: np.ndarray, demo: np.ndarray) -> np.ndarray:
        """(W, 12, T) preprocessed windows + (W, 4) demographics -> (W, L) probabilities."""
        out = np.zeros((len(windows), len(self.labels)), dtype=np.float32)
        if len(windows) == 0:
            return out
        with torch.inference_mode():
            for start in range(0, len(windows), self.max_windows_per_forward):
                stop = start + self.max_windows_per_forward
                x = torch.from_numpy(np.ascontiguousarray(windows[start:stop]))
                d = torch.from_numpy(demo[start:stop])
                probs = torch.stack([torch.sigmoid(m(x, d)) for m in self.models]).mean(0)
                out[start:stop] = probs.numpy()
        return out

    def predict(
        self,
        signals: Sequence[np.ndarray],
        fs: Sequence[float],
        ages: Sequence[float | None],
        sexes: Sequence[str | None],
    ) -> BatchPrediction:
        """Probabilities (B, L) for a batch; raises ``InvalidRecording`` for a record it cannot score."""
        if not (len(signals) == len(fs) == len(ages) == len(sexes)):
            raise ValueError("signals, fs, ages and sexes must have the same length")
        with self._lock:
            if self.torch_threads is not None and torch.get_num_threads() != self.torch_threads:
                torch.set_num_threads(int(self.torch_threads))
            t0 = time.perf_counter()
            windows, owner = preprocess_batch(signals, fs, self.preprocess)
            demo = demographics(list(ages), list(sexes))[owner]
            t1 = time.perf_counter()
            win_probs = self.forward_windows(windows, demo)
            t2 = time.perf_counter()
        probs = np.zeros((len(signals), len(self.labels)), dtype=np.float32)
        np.maximum.at(probs, owner, win_probs)
        return BatchPrediction(self.calibration.apply(probs), t1 - t0, t2 - t1)

    def statements(self, probabilities: np.ndarray) -> list[list[tuple[Label, float]]]:
        """Per record: (label, probability) for probabilities >= the label's threshold, highest first."""
        probabilities = np.atleast_2d(np.asarray(probabilities))
        out = []
        for row in probabilities:
            hits = [(self.labels[j], float(row[j])) for j in np.flatnonzero(row >= self.thresholds)]
            out.append(sorted(hits, key=lambda item: -item[1]))
        return out
