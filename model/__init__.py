"""The ECG model: a 1-D convolutional autoencoder with a multi-label AHA-statement head.

Data flow: ``preprocessing`` (pure numpy/scipy) -> ``network`` (torch modules) -> ``checkpoint``
(one file) -> ``predictor`` (the inference API the worker, gateway and CLI use). ``data`` and
``training`` read SPH-layout folders and train; ``metrics`` scores.
"""

from model.labels import Label, parse_aha_codes
from model.predictor import BatchPrediction, Predictor

__all__ = ["Label", "BatchPrediction", "Predictor", "parse_aha_codes"]
