"""The ECG model: a 1-D convolutional autoencoder with a multi-label AHA-statement head.

Data flow: ``preprocessing`` (pure numpy/scipy) -> ``network`` (torch modules) -> ``checkpoint``
(one file) -> ``predictor`` (the inference API the worker, gateway and CLI use). ``data`` and
``training`` read SPH-layout folders and train; ``metrics`` scores; ``folds``, ``recipes`` and
``crossval`` give out-of-fold estimates; ``calibration`` and ``oof_rules`` turn OOF predictions
into the calibration and thresholds a checkpoint carries; ``novelty`` scores how unlike the training
data a recording looks to the CAE (measured, not used: MODEL_CARD.md).
"""

from model.labels import Label, parse_aha_codes
from model.predictor import BatchPrediction, Predictor

__all__ = ["Label", "BatchPrediction", "Predictor", "parse_aha_codes"]
