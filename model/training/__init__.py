"""Training the model: never imported by serving (``model.predictor`` and what it loads).

``data`` reads SPH-layout folders and splits them by patient; ``fit`` trains the autoencoder and the
classifier (``device``: CPU or CUDA with mixed precision); ``metrics`` and ``evaluation`` score;
``folds``, ``recipes`` and ``crossval`` give out-of-fold estimates; ``oof_rules`` turns OOF predictions
into the calibration and thresholds a checkpoint carries (``model.calibration``, ``model.checkpoint``).
"""
