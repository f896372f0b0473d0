"""Publisher, ensure_topics and ``ecgstream publish`` against a real Tansu broker."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import numpy as np
import pytest
from aiokafka import AIOKafkaConsumer

from core.kafka_admin import ensure_topics
from ecgstream.cli import main as cli_main
from ecgstream.embedded import free_port
from ingest import Publisher
from ingest.writers import write_aecg, write_dicom
from schemas import InvalidRecording, decode_recording, recording_ingested_at
from tests.ingest.helpers import synthetic_recording

pytestmark = pytest.mark.integration


async def consume(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> list:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
        group_id=None, fetch_max_bytes=16 * 1024 * 1024, max_partition_fetch_bytes=16 * 1024 * 1024,
    )  # fmt: skip
    await consumer.start()
    messages: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(messages) < count and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                messages.extend(records)
    finally:
        await consumer.stop()
    return messages


async def test_publish_and_consume_back(tansu, unique_name: str) -> None:
    topic = f"rec-{unique_name}"
    await ensure_topics(tansu.bootstrap, {topic: 2}, max_message_bytes=5 * 1024 * 1024)
    await ensure_topics(tansu.bootstrap, {topic: 2})  # idempotent
    recordings = [
        synthetic_recording(10, 500, seed=1, patient_ref="MRN-1"),
        synthetic_recording(60, 500, seed=2, device_id="cart-9", age=70, sex="F"),
        synthetic_recording(10, 1000, seed=3),
    ]
    async with Publisher(tansu.bootstrap, topic) as publisher:
        positions = [await publisher.publish(rec) for rec in recordings]
        bad = synthetic_recording(10, 500)
        bad.signal[:] = 0.0
        with pytest.raises(InvalidRecording) as caught:
            await publisher.publish(bad)
        assert caught.value.reason == "flat_signal"
    assert all(partition in (0, 1) and offset >= 0 for partition, offset in positions)
    messages = await consume(tansu.bootstrap, topic, len(recordings))
    assert len(messages) == len(recordings)
    decoded = {}
    for message in messages:
        rec = decode_recording(message.value, message.headers)
        assert recording_ingested_at(message.headers) is not None
        decoded[rec.recording_id] = (rec, message.key)
    for original in recordings:
        rec, key = decoded[original.recording_id]
        assert rec.fs == original.fs and rec.n_samples == original.n_samples
        assert np.abs(rec.signal - original.signal).max() <= 0.0006
        assert b"MRN-1" not in key
    assert decoded[recordings[1].recording_id][0].age == 70
    assert decoded[recordings[1].recording_id][1] == b"device:cart-9"


async def test_lz4_compression(tansu, unique_name: str) -> None:
    topic = f"rec-lz4-{unique_name}"
    await ensure_topics(tansu.bootstrap, {topic: 1})
    async with Publisher(tansu.bootstrap, topic, compression="lz4") as publisher:
        await publisher.publish(synthetic_recording(10))
    assert len(await consume(tansu.bootstrap, topic, 1)) == 1


def _folder_with_one_corrupt_file(folder: Path) -> Path:
    folder.mkdir()
    write_dicom(synthetic_recording(seed=4, age=50, sex="M"), folder / "a.dcm")
    write_aecg(synthetic_recording(seed=5), folder / "b.xml")
    (folder / "corrupt.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x07" * 300)
    (folder / "notes.txt").write_text("not an ECG; skipped by the folder walk")
    return folder



@pytest.fixture(autouse=True)
def _real_patient_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ecgstream publish`` to an external broker refuses the development secret (issue 18)."""
    monkeypatch.setenv("PATIENT_HMAC_SECRET", "k3V9q-publisher-tests-7Zp2mX8wR4tY6uB1nC5")

def test_publish_command_reports_the_corrupt_file(tansu, unique_name, tmp_path, monkeypatch, capsys) -> None:
    folder = _folder_with_one_corrupt_file(tmp_path / "upload")
    monkeypatch.setenv("KAFKA_BOOTSTRAP", tansu.bootstrap)
    topic = f"rec-cli-{unique_name}"
    code = cli_main(
        ["publish", str(folder), "--topic", topic, "--compression", "lz4", "--device-id", "cart-x"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "published: 2" in out and "rejected:  1" in out
    assert "corrupt.dcm" in out and "[unreadable]" in out
    messages = asyncio.run(consume(tansu.bootstrap, topic, 2))
    assert len(messages) == 2
    assert {decode_recording(m.value, m.headers).device_id for m in messages} == {"cart-x"}


def test_publish_command_all_good_exits_0(tansu, unique_name, tmp_path, monkeypatch, capsys) -> None:
    folder = tmp_path / "good"
    folder.mkdir()
    write_dicom(synthetic_recording(seed=6), folder / "a.dcm")
    monkeypatch.setenv("KAFKA_BOOTSTRAP", tansu.bootstrap)
    assert cli_main(["publish", str(folder), "--topic", f"rec-ok-{unique_name}", "--no-progress"]) == 0
    assert "published: 1" in capsys.readouterr().out


def test_publish_command_unreachable_broker_exits_2(tmp_path, monkeypatch, capsys) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    write_dicom(synthetic_recording(seed=7), folder / "a.dcm")
    monkeypatch.setenv("KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    assert cli_main(["publish", str(folder), "--no-progress"]) == 2
    assert "unreachable" in capsys.readouterr().err


def test_publish_command_without_broker_config_exits_2(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("ECGSTREAM_HOME", str(tmp_path / "home"))
    assert cli_main(["publish", str(tmp_path), "--no-progress"]) == 2
    assert "KAFKA_BOOTSTRAP" in capsys.readouterr().err


def test_publish_real_sph_dataset_subset(tansu, unique_name, tmp_path, monkeypatch, capsys) -> None:
    from tests.conftest import shared_data_dir

    source = shared_data_dir("ptbxl-sph")
    subset = tmp_path / "sph"
    (subset / "records").mkdir(parents=True)
    lines = (source / "metadata.csv").read_text().splitlines()
    (subset / "metadata.csv").write_text("\n".join(lines[:4]) + "\n")
    for line in lines[1:4]:
        ecg_id = line.split(",")[0]
        shutil.copy(source / "records" / f"{ecg_id}.h5", subset / "records")
    monkeypatch.setenv("KAFKA_BOOTSTRAP", tansu.bootstrap)
    assert cli_main(["publish", str(subset), "--topic", f"rec-sph-{unique_name}", "--no-progress"]) == 0
    assert "published: 3" in capsys.readouterr().out


async def test_one_patients_recordings_stay_in_order_on_one_partition(tansu, unique_name: str) -> None:
    topic = f"rec-order-{unique_name}"
    await ensure_topics(tansu.bootstrap, {topic: 4})
    async with Publisher(tansu.bootstrap, topic, patient_key_secret="a-test-secret") as publisher:
        acks = [await publisher.send(synthetic_recording(seed=k, patient_ref="MRN-42")) for k in range(5)]
        positions = [await ack for ack in acks]
    assert len({partition for partition, _ in positions}) == 1
    offsets = [offset for _, offset in positions]
    assert offsets == sorted(offsets) and len(set(offsets)) == 5
