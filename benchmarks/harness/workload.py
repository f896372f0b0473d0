"""The benchmark's recordings: generated (or read) once, encoded once, re-sent with fresh ids.

Templates are real records where ``../shared/data`` has them (CinC 2021 ``.hea``/``.mat`` and LUDB
WFDB, both 12-lead 500 Hz 10 s, mV) topped up with synthetic ones from ``ingest.synthetic``. Each
template is encoded ONCE with placeholder ids; a message is then the template's bytes with a new
recording id and patient reference spliced in (both fixed-length Avro strings, so the bytes stay
valid Avro), a new ``ce_id`` and a ``ce_time`` header stamped at send time. The worker reads the
publish time from ``ce_time``, so latency is measured from the moment the harness sent the message.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from schemas import Recording, decode_recording
from schemas.headers import format_time
from schemas.recording_event import encode_recording

__all__ = ["MessageTemplate", "Workload", "build_workload", "RawProducer"]

logger = logging.getLogger(__name__)

_ID_PLACEHOLDER = "00000000-0000-4000-8000-00000000beef"  # a UUID4-shaped string, 36 characters
_PATIENT_PLACEHOLDER = "bench-patient-" + "f" * 18  # 32 characters
_PATIENT_LENGTH = len(_PATIENT_PLACEHOLDER)


@dataclass(frozen=True)
class MessageTemplate:
    """One encoded recording split around its two variable fields."""

    parts: tuple[bytes, bytes, bytes]  # before id | between id and patient | after patient
    headers: tuple[tuple[str, bytes], ...]
    raw_bytes: int  # encoded size


@dataclass(frozen=True)
class Message:
    recording_id: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class Workload:
    """Makes messages from the templates, round-robin, each with a fresh recording id and patient."""

    def __init__(self, templates: Sequence[MessageTemplate], recordings: Sequence[Recording]) -> None:
        self.templates = list(templates)
        self.recordings = list(recordings)  # decoded templates, for the in-memory compute ceiling
        self._count = 0

    @property
    def mean_message_bytes(self) -> float:
        return float(np.mean([t.raw_bytes for t in self.templates]))

    def mean_message_bytes_zstd(self) -> float:
        """Mean size after the producer's zstd compression (aiokafka's codec), what the broker stores."""
        from aiokafka.codec import zstd_encode

        return float(np.mean([len(zstd_encode(b"".join(t.parts))) for t in self.templates]))

    def message(self) -> Message:
        template = self.templates[self._count % len(self.templates)]
        self._count += 1
        recording_id = str(uuid.uuid4())
        patient = "bench-patient-" + uuid.uuid4().hex[: _PATIENT_LENGTH - 14]
        before, middle, after = template.parts
        value = b"".join((before, recording_id.encode("ascii"), middle, patient.encode("ascii"), after))
        key = ("patient:" + hashlib.sha256(patient.encode("utf-8")).hexdigest()).encode("ascii")
        headers = [(name, v) for name, v in template.headers if name not in ("ce_id", "ce_time")]
        headers.append(("ce_id", str(uuid.uuid4()).encode("ascii")))
        return Message(recording_id, key, value, headers)


def stamp(message: Message) -> list[tuple[str, bytes]]:
    """The message's headers with ``ce_time`` = now (the publish time the worker measures from)."""
    return [*message.headers, ("ce_time", format_time(datetime.now(UTC)).encode("ascii"))]


def _split_template(rec: Recording) -> MessageTemplate:
    rec = replace(rec, recording_id=_ID_PLACEHOLDER, patient_ref=_PATIENT_PLACEHOLDER)
    event = encode_recording(rec, source="bench")
    value = event.value
    id_bytes, patient_bytes = _ID_PLACEHOLDER.encode(), _PATIENT_PLACEHOLDER.encode()
    i, j = value.find(id_bytes), value.find(patient_bytes)
    if value.count(id_bytes) != 1 or value.count(patient_bytes) != 1 or not 0 <= i < j:
        raise RuntimeError("placeholder ids not found exactly once in the encoded template")
    parts = (value[:i], value[i + len(id_bytes) : j], value[j + len(patient_bytes) :])
    return MessageTemplate(parts, tuple(event.headers), len(value))


def _real_recordings(data_dir: Path, limit: int) -> list[Recording]:
    from ingest import read_recording

    paths = sorted((data_dir / "cinc2021").glob("*.hea")) + sorted((data_dir / "ludb").glob("*.hea"))
    out: list[Recording] = []
    for path in paths:
        if len(out) >= limit:
            break
        try:
            rec = read_recording(path)
        except Exception as exc:  # noqa: BLE001 - a template we cannot read is skipped, not fatal
            logger.warning("skipping unreadable template", extra={"file": path.name, "error": repr(exc)})
            continue
        if rec.signal.shape == (12, 5000) and rec.fs == 500.0:
            out.append(replace(rec, source="bench-real"))
    return out


def _synthetic_recordings(n: int, seed: int = 11) -> list[Recording]:
    from ingest.synthetic import simulate_ecg

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        signal = simulate_ecg(rng, hr=float(rng.uniform(45, 140)), rbbb=k % 5 == 1, t_inversion=k % 7 == 2,
                              pac=k % 4 == 3)  # fmt: skip
        out.append(Recording(signal=signal, fs=500.0, age=int(rng.integers(20, 90)), sex="M" if k % 2 else "F",
                             device_id=f"bench-cart-{k % 8}", source="bench-synthetic"))  # fmt: skip
    return out


def build_workload(data_dir: Path | None, n_templates: int = 48) -> Workload:
    """Templates from real records (up to half) plus synthetic ones; checks one spliced message decodes."""
    real = _real_recordings(data_dir, n_templates // 2) if data_dir and data_dir.is_dir() else []
    recordings = real + _synthetic_recordings(n_templates - len(real))
    workload = Workload([_split_template(r) for r in recordings], recordings)
    probe = workload.message()
    decoded = decode_recording(probe.value, stamp(probe))
    if decoded.recording_id != probe.recording_id or decoded.signal.shape != (12, 5000):
        raise RuntimeError("a spliced benchmark message does not decode to its new id")
    logger.info("workload ready", extra={"templates": len(recordings), "real_templates": len(real),
                                         "mean_message_bytes": round(workload.mean_message_bytes)})  # fmt: skip
    return workload


class RawProducer:
    """An aiokafka producer with the ``ingest.Publisher`` settings (zstd, acks=all, linger 20 ms)
    that sends already-encoded messages, so the harness spends no CPU on encoding while measuring."""

    def __init__(self, bootstrap: str, topic: str, max_request_bytes: int = 5 * 1024 * 1024) -> None:
        self.bootstrap, self.topic, self.max_request_bytes = bootstrap, topic, max_request_bytes
        self._producer: Any = None

    async def __aenter__(self) -> RawProducer:
        from aiokafka import AIOKafkaProducer

        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=False, compression_type="zstd",
            max_request_size=self.max_request_bytes, max_batch_size=self.max_request_bytes, linger_ms=20,
        )  # fmt: skip
        await self._producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._producer.stop()

    async def send(self, message: Message) -> Awaitable[Any]:
        """Enqueue one message (stamped now); returns the broker acknowledgement future."""
        fut: Awaitable[Any] = await self._producer.send(
            self.topic, value=message.value, key=message.key, headers=stamp(message)
        )
        return fut

    async def send_all(self, workload: Workload, n: int, on_sent: Callable[[int], None] | None = None,
                       in_flight: int = 256) -> tuple[list[str], float, float]:  # fmt: skip
        """Send ``n`` messages as fast as the broker takes them; returns (ids, first send, last ack) times."""
        ids: list[str] = []
        pending: list[Awaitable[Any]] = []
        first = time.time()
        for i in range(n):
            message = workload.message()
            ids.append(message.recording_id)
            pending.append(await self.send(message))
            if len(pending) >= in_flight:
                await asyncio.gather(*pending)
                pending.clear()
            if on_sent is not None:
                on_sent(i + 1)
        await asyncio.gather(*pending)
        return ids, first, time.time()

    async def send_paced(self, workload: Workload, rate: float, seconds: float) -> list[str]:
        """Send at ``rate`` messages/s for ``seconds`` (absolute schedule, no drift); returns the ids."""
        ids: list[str] = []
        pending: list[Awaitable[Any]] = []
        start = time.monotonic()
        n = int(rate * seconds)
        for i in range(n):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            message = workload.message()
            ids.append(message.recording_id)
            pending.append(await self.send(message))
        await asyncio.gather(*pending)
        return ids
