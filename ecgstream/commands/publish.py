"""``ecgstream publish PATH...``: publish ECG files, folders or SPH data sets to the recordings topic.

Exit codes: 0 all published, 1 some file was rejected (each listed with its reason), 2 the broker
is unreachable or not configured, or a setting cannot work (a weak PATIENT_HMAC_SECRET with an
external broker, TLS/SASL files...).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections import Counter, deque
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.sizes import DEFAULT_MAX_RECORDING_BYTES

__all__ = ["add_arguments", "run", "PublishSummary", "publish_paths"]

logger = logging.getLogger(__name__)


@dataclass
class PublishSummary:
    """What a bulk publish did."""

    published: int = 0
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (source, reason, message)

    def render(self) -> str:
        lines = [f"published: {self.published}", f"rejected:  {len(self.rejected)}"]
        if self.rejected:
            counts = Counter(reason for _, reason, _ in self.rejected)
            lines.append("rejected by reason: " + ", ".join(f"{r}={n}" for r, n in sorted(counts.items())))
            lines.extend(
                f"  REJECTED {source}: [{reason}] {message}" for source, reason, message in self.rejected
            )
        return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="ECG files, folders or SPH data set folders")
    parser.add_argument("--topic", default=None, help="topic to publish to (default: RECORDINGS_TOPIC)")
    parser.add_argument("--compression", choices=("zstd", "lz4"), default="zstd", help="default: zstd")
    parser.add_argument("--device-id", default=None, help="device id for recordings that carry none")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


async def publish_paths(
    paths: list[str],
    *,
    bootstrap: str,
    topic: str,
    compression: str = "zstd",
    device_id: str | None = None,
    max_recording_bytes: int = DEFAULT_MAX_RECORDING_BYTES,
    partitions: int = 4,
    progress: bool = True,
    in_flight: int = 64,
    patient_key_secret: str | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> PublishSummary:
    """Read every recording under ``paths`` and publish it; rejected files are collected, not raised."""
    from tqdm import tqdm

    from core.topics import create_layout
    from ingest import Publisher, iter_recordings
    from schemas.errors import InvalidRecording

    await create_layout(bootstrap, {topic: partitions}, max_recording_bytes=max_recording_bytes,
                        client_options=client_options)  # fmt: skip
    summary = PublishSummary()
    pending: deque[tuple[str, Awaitable[tuple[int, int]]]] = deque()

    async def settle(source: str, ack: Awaitable[tuple[int, int]]) -> None:
        try:
            await ack
        except InvalidRecording as exc:
            summary.rejected.append((source, exc.reason, str(exc)))
        else:
            summary.published += 1

    bar = tqdm(desc="publishing", unit="rec", disable=True if not progress else None, file=sys.stderr)
    try:
        async with Publisher(
            bootstrap,
            topic,
            compression=compression,  # type: ignore[arg-type]
            max_recording_bytes=max_recording_bytes,
            patient_key_secret=patient_key_secret,
            client_options=client_options,
        ) as publisher:
            for source, item in iter_recordings(paths):
                bar.update(1)
                if isinstance(item, InvalidRecording):
                    summary.rejected.append((source, item.reason, str(item)))
                    continue
                if device_id and not item.device_id:
                    item.device_id = device_id
                try:
                    pending.append((source, await publisher.send(item)))
                except InvalidRecording as exc:
                    summary.rejected.append((source, exc.reason, str(exc)))
                while len(pending) > in_flight:
                    await settle(*pending.popleft())
            while pending:
                await settle(*pending.popleft())
    finally:
        for _, ack in pending:
            if isinstance(ack, asyncio.Future):
                ack.cancel()
        bar.close()
    logger.info("publish finished", extra={"published": summary.published, "rejected": len(summary.rejected)})
    return summary


def run(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaConnectionError, KafkaError

    from core.config import load_settings
    from core.kafka_admin import BrokerAuthenticationFailed, BrokerUnavailable
    from core.kafka_security import KafkaSecurity, KafkaSecurityError
    from core.secret_check import require_patient_secret
    from core.stack_info import NoBrokerConfigured, resolve_bootstrap

    settings = load_settings()
    require_patient_secret(settings)  # message keys are keyed hashes: an external broker needs a real secret
    client_options = KafkaSecurity.from_settings(settings).aiokafka_options()
    try:
        bootstrap = resolve_bootstrap(settings)
    except NoBrokerConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    topic = args.topic or settings.recordings_topic
    try:
        summary = asyncio.run(
            publish_paths(
                list(args.paths),
                bootstrap=bootstrap,
                topic=topic,
                compression=args.compression,
                device_id=args.device_id,
                max_recording_bytes=settings.max_recording_bytes,
                partitions=settings.topic_partitions,
                progress=not args.no_progress,
                patient_key_secret=settings.patient_hmac_secret,
                client_options=client_options,
            )
        )
    except (BrokerAuthenticationFailed, KafkaSecurityError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (BrokerUnavailable, KafkaConnectionError, OSError) as exc:
        print(f"error: Kafka broker at {bootstrap} is unreachable ({exc}); is it running?", file=sys.stderr)
        return 2
    except KafkaError as exc:
        print(f"error: Kafka at {bootstrap} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(summary.render())
    return 1 if summary.rejected else 0
