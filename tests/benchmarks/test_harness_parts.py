"""Pure parts of the benchmark harness: rates, percentiles, message splicing, profile reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.harness.profiling import classify, render_flamegraph, summarise
from benchmarks.harness.stats import percentile, stage_breakdown, sustained_rate
from benchmarks.harness.workload import build_workload, stamp
from schemas import decode_recording, recording_ingested_at


def test_sustained_rate_ignores_start_and_tail() -> None:
    # 100 completions: a 10-s start-up stall before the first, then 10 per second, then a late straggler
    times = [10.0 + i / 10 for i in range(99)] + [60.0]
    assert sustained_rate(times) == pytest.approx(10.0)
    assert sustained_rate([1.0, 2.0]) != sustained_rate([1.0, 2.0])  # NaN: too few to say


def test_percentile_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50 and percentile(values, 0.99) == 99 and percentile(values, 1.0) == 100


def test_stage_breakdown_from_two_scrapes() -> None:
    before = {"ecgstream_records_processed_total": 10, "ecgstream_batch_records_count": 1}
    after = {"ecgstream_records_processed_total": 110, "ecgstream_batch_records_count": 5,
             "ecgstream_preprocess_seconds_sum": 0.2, "ecgstream_inference_seconds_sum": 0.1,
             "ecgstream_db_write_seconds_sum": 0.05}  # fmt: skip
    stages = stage_breakdown(before, after, records_per_s=200.0)
    assert stages["records"] == 100 and stages["mean_batch"] == 25
    assert stages["preprocess_ms"] == pytest.approx(2.0) and stages["wall_ms"] == pytest.approx(5.0)
    assert stages["other_ms"] == pytest.approx(5.0 - 2.0 - 1.0 - 0.5)


def test_spliced_messages_decode_with_their_own_ids() -> None:
    workload = build_workload(None, n_templates=3)
    messages = [workload.message() for _ in range(5)]
    assert len({m.recording_id for m in messages}) == 5 and len({m.key for m in messages}) == 5
    for message in messages:
        headers = stamp(message)
        decoded = decode_recording(message.value, headers)
        assert decoded.recording_id == message.recording_id
        assert decoded.signal.shape == (12, 5000) and decoded.fs == 500.0
        assert decoded.patient_ref is not None and decoded.patient_ref.startswith("bench-patient-")
        assert recording_ingested_at(headers) is not None
        assert sum(1 for name, _ in headers if name == "ce_time") == 1


COLLAPSED = """\
thread (1): MainThread;<module> (ecgstream/cli.py:66);BaseEventLoop._run_once (asyncio/base_events.py:1884);EpollSelector.select (selectors.py:468) 50
thread (1): MainThread;<module> (ecgstream/cli.py:66);BatchProcessor._decode_all (stream_processor/processing.py:155);decode_recording (schemas/recording_event.py:87);dequantise (schemas/signal_codec.py:56) 20
thread (1): MainThread;<module> (ecgstream/cli.py:66);SqlDiagnosisSink.write_batch (storage/sink.py:112);AsyncConnection.execute (sqlalchemy/ext/asyncio/engine.py:667) 10
thread (2): inference_0;_WorkItem.run (concurrent/futures/thread.py:58);BatchProcessor._run_model (stream_processor/processing.py:168);Predictor.predict (model/predictor.py:109);preprocess_batch (model/preprocessing.py:156);resample_poly (scipy/signal/_signaltools.py:4073) 30
thread (2): inference_0;_WorkItem.run (concurrent/futures/thread.py:58);BatchProcessor._run_model (stream_processor/processing.py:168);Predictor.forward_windows (model/predictor.py:91);Module._call_impl (torch/nn/modules/module.py:1789) 40
thread (2): inference_0;Thread.run (threading.py:982);_worker (concurrent/futures/thread.py:81) 30
"""


def test_profile_summary_sorts_samples_into_stages(tmp_path: Path) -> None:
    collapsed = tmp_path / "drain.txt"
    collapsed.write_text(COLLAPSED)
    summary = summarise(collapsed, records=100)
    main = next(v for k, v in summary.items() if k.startswith("main thread"))
    inference = next(v for k, v in summary.items() if k.startswith("inference thread"))
    assert main["idle (waiting)"]["seconds"] == pytest.approx(0.5)
    assert main["decode"]["ms_per_record"] == pytest.approx(2.0)
    assert main["db write"]["share"] == pytest.approx(10 / 80)
    assert inference["preprocess"]["seconds"] == pytest.approx(0.3)
    assert inference["model"]["seconds"] == pytest.approx(0.4)
    assert inference["idle (waiting)"]["seconds"] == pytest.approx(0.3)
    svg = tmp_path / "drain.svg"
    render_flamegraph(collapsed, svg, "test")
    text = svg.read_text()
    assert text.startswith("<svg") and "preprocess_batch" in text and text.rstrip().endswith("</svg>")


def test_classify_prefers_the_innermost_ecgstream_stage() -> None:
    frames = ["BatchProcessor.process (stream_processor/processing.py:113)",
              "FaustResultPublisher.publish (stream_processor/publishing.py:30)",
              "AIOKafkaProducer.send (aiokafka/producer/producer.py:400)"]  # fmt: skip
    assert classify(frames) == "publish events"
    assert (
        classify(["Handle._run (asyncio/events.py:80)", "Fetcher._fetch (aiokafka/consumer/fetcher.py:1)"])
        == "kafka client (fetch, commit, produce)"
    )


def test_worker_settings_of_a_run_and_their_limits() -> None:
    from benchmarks.harness.runner import tuning_settings

    settings = tuning_settings({"ANALYSIS_PROCESSES": "0", "TORCH_THREADS": "1"})
    assert (settings.analysis_processes, settings.torch_threads, settings.batch_max) == (0, 1, 32)
    with pytest.raises(ValueError, match="DATABASE_URL"):
        tuning_settings({"DATABASE_URL": "sqlite://"})  # the harness owns the URLs, topics and secrets


def test_ratios_against_the_analysis_ceiling_and_the_model_alone() -> None:
    from benchmarks.harness.report import ratios

    ceiling = {"records_per_s": 100.0, "predict_records_per_s": 400.0}
    db = {"drain": {"records_per_s": 80.0}, "end_to_end": {"records_per_s": 60.0, "sustained_records_per_s": 70.0},
          "per_record": {"sustained_records_per_s": 35.0}}  # fmt: skip
    r = ratios(ceiling, db)
    assert r["drain_over_ceiling"] == pytest.approx(0.8) and r["end_to_end_over_ceiling"] == pytest.approx(0.6)
    assert r["drain_over_predict_ceiling"] == pytest.approx(0.2)
    assert r["end_to_end_over_predict_ceiling"] == pytest.approx(0.15)
    assert r["batched_over_per_record"] == pytest.approx(2.0)


def test_a_workers_peak_rss_includes_its_child_processes() -> None:
    import subprocess
    import sys

    from benchmarks.harness.memory import peak_rss_bytes

    # a parent whose child holds 150 MB; both wait for stdin, so they are alive while measured
    child = "import sys; x = bytearray(150_000_000); x[::4096] = b'1' * len(x[::4096]); print('ready', flush=True); sys.stdin.read()"
    parent = (f"import subprocess, sys; c = subprocess.Popen([sys.executable, '-c', {child!r}], stdin=sys.stdin, "
              "stdout=sys.stdout); c.wait()")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", parent], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        alone, with_children = peak_rss_bytes(proc.pid, children=False), peak_rss_bytes(proc.pid)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)
    assert with_children - alone > 140_000_000


def test_cpu_seconds_count_the_work_done() -> None:
    import os

    from benchmarks.harness.memory import cpu_seconds

    before = cpu_seconds(os.getpid())
    total = sum(i * i for i in range(5_000_000))  # a few tenths of a second: many 10-ms clock ticks
    assert total > 0 and cpu_seconds(os.getpid()) > before
    assert cpu_seconds(123456789) == 0.0  # a process that does not exist has none


def test_interleaved_configurations_parse_settings_and_a_source_tree(tmp_path: Path) -> None:
    from benchmarks.harness.interleave import Config

    config = Config.parse(f"base@{tmp_path}:ANALYSIS_PROCESSES=0,TORCH_THREADS=1")
    assert (config.name, config.tree) == ("base", tmp_path.resolve())
    assert config.overrides() == {"analysis_processes": 0, "torch_threads": 1}
    assert Config.parse("default").overrides() == {} and Config.parse("default").tree is None
    with pytest.raises(ValueError, match="not a worker tuning setting"):
        Config.parse("bad:KAFKA_BOOTSTRAP=elsewhere:9092")
