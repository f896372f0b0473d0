"""The stream worker: consumes recordings, filters and diagnoses them in micro-batches, stores results."""

__all__: list[str] = []
