"""The ECG model: a 1-D convolutional autoencoder with a multi-label AHA-statement head.

Serving, in this package: ``preprocessing`` (pure numpy/scipy) -> ``network`` and ``resnet`` (torch
modules; ``demographics`` their second input) -> ``checkpoint`` (one file with ``labels`` and
``calibration``) -> ``predictor`` (the inference API the worker, gateway and CLI use).
Training is ``model.training`` (data, fit, metrics, evaluation, folds, recipes, crossval, oof_rules,
device, augment); serving modules never import it. ``novelty`` scores how unlike the training data a
recording looks to the CAE (measured, not used: MODEL_CARD.md).
"""

from model.labels import Label, parse_aha_codes
from model.predictor import BatchPrediction, Predictor

__all__ = ["Label", "BatchPrediction", "Predictor", "parse_aha_codes"]
