"""The worker's chain for one batch, one module per step, in the order they run:

``decode`` (decode -> validate) -> ``analyse`` (in the executor) -> ``store`` -> ``events`` ->
``publish`` -> ack (the caller's). ``observe`` records the metrics of a finished batch and ``clock``
holds the timestamps they share. ``stream_processor.processing.BatchProcessor`` runs the steps;
what happens on each failure, and the dead letter it sends, is ``stream_processor.policy``.
"""

__all__: list[str] = []
