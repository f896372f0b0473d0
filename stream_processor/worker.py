"""Start one worker process: load the model, open the database, serve /metrics, run the faust app."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import faust
import numpy as np

from core.config import Settings, parse_deadletter_key
from core.secret_check import require_patient_secret
from core.stack_info import resolve_bootstrap
from core.topics import create_topics
from model import Predictor
from storage import SqlDiagnosisSink, create_engine
from storage.shadow import SqlShadowStore
from stream_processor.analysis import AnalysisOptions
from stream_processor.app import add_diagnosis, build_app
from stream_processor.assessment import AssessmentPool
from stream_processor.inflate_guard import SkippedBatch
from stream_processor.metrics import WorkerMetrics, serve_metrics
from stream_processor.processing import BatchProcessor, ProcessorConfig
from stream_processor.publishing import FaustResultPublisher
from stream_processor.shadow import ShadowRunner

__all__ = ["run_worker"]

logger = logging.getLogger(__name__)


def _warm_up(predictor: Predictor) -> None:
    """One throw-away forward pass so the first real batch does not pay for lazy initialisation."""
    rng = np.random.default_rng(0)
    predictor.predict([rng.normal(0, 0.1, (12, 5000)).astype(np.float32)], [500.0], [None], [None])


def run_worker(settings: Settings) -> None:
    """Run a worker until SIGTERM/SIGINT (faust handles the signals and stops gracefully).

    Raises ``InsecureConfiguration`` outside the development stack without a real PATIENT_HMAC_SECRET.
    """
    require_patient_secret(settings)  # before connecting anywhere
    bootstrap = resolve_bootstrap(settings)
    asyncio.run(create_topics(settings, bootstrap))
    predictor = Predictor.load(settings.model_path, torch_threads=settings.torch_threads)
    _warm_up(predictor)
    assessment_pool = AssessmentPool(settings.analysis_processes if settings.measurements else 0)
    assessment_pool.warm_up()  # its processes started before /metrics answers (ready)
    metrics = WorkerMetrics.create()
    port = serve_metrics(metrics, settings.metrics_port, settings.metrics_host)
    logger.info(
        "worker starting",
        extra={"bootstrap": bootstrap, "metrics_host": settings.metrics_host, "metrics_port": port, "model_version": predictor.version,
               "group": settings.worker_group, "batch_max": settings.batch_max, "batch_wait": settings.batch_wait},
    )  # fmt: skip
    engine = create_engine(settings.effective_database_url)
    sink = SqlDiagnosisSink(
        engine, hmac_secret=settings.patient_hmac_secret, store_signal=settings.store_signal
    )
    shadow = None
    if settings.shadow_model_path is not None:
        shadow = ShadowRunner.load(
            settings.shadow_model_path,
            AnalysisOptions(measure=settings.measurements, fusion=settings.fusion),
            SqlShadowStore(engine),
            metrics,
            torch_threads=settings.torch_threads,
            warm_up=_warm_up,
        )  # None (logged, counted) when it cannot be loaded: the worker runs without it
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
    config = ProcessorConfig(
        diagnoses_topic=settings.diagnoses_topic,
        deadletter_topic=settings.deadletter_topic,
        max_recording_bytes=settings.max_recording_bytes,
        store_signal=settings.store_signal,
        retry_max_seconds=settings.db_retry_max_seconds,
        patient_hmac_secret=settings.patient_hmac_secret,
        deadletter_key=parse_deadletter_key(settings.deadletter_key),
        measure=settings.measurements,
        fusion=settings.fusion,
    )
    skipped: deque[SkippedBatch] = deque()  # compression bombs the consumer skipped, to dead-letter
    app = build_app(
        settings, bootstrap, on_assignment=metrics.assigned_partitions.set, on_skipped_batch=skipped.append
    )
    processor = BatchProcessor(  # the one processor of this worker: its agent and timer share it
        predictor,
        sink,
        FaustResultPublisher(app),
        metrics,
        config,
        executor,
        skipped,
        assessment_pool,
        shadow,
    )
    add_diagnosis(app, settings, processor)
    worker = faust.Worker(
        app, loglevel=settings.log_level, override_logging=False, redirect_stdouts=False, quiet=True
    )
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        assessment_pool.shutdown()
        logger.info("worker stopped")
