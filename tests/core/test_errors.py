"""One exception tree: every exception class of the product derives from ``core.errors.EcgstreamError``."""

from __future__ import annotations

import ast
import builtins

import pytest

import core.errors
from core.config import ConfigError
from core.errors import EcgstreamError
from core.kafka_admin import BrokerAuthenticationFailed, BrokerUnavailable
from core.kafka_security import KafkaSecurityError
from core.secret_check import InsecureConfiguration
from core.stack_info import NoBrokerConfigured
from ecgstream.embedded import BrokerStartError
from ingest.sandbox import ParsersBusy
from schemas.errors import InvalidRecording, SchemaError, UnknownSchemaVersion, UnsupportedFormat
from storage.errors import DatabaseUnavailable, StorageError
from storage.identity import IdentityUnreadable
from storage.overreads import OverreadConflict
from stream_processor.export.delivery import DeliveryRejected, TransientDeliveryError
from stream_processor.inflate_guard import DecompressionBomb
from tests.conftest import REPO_ROOT
from webapp.auth import AuthError
from webapp.errors import Busy, FieldError, GatewayError, RequestTimeout, UploadTimeout, UploadTooLarge
from webapp.server import PortInUse

PRODUCT = ("core", "schemas", "measurements", "model", "storage", "interpretation", "ingest", "exports",
           "stream_processor", "webapp", "ecgstream")  # fmt: skip
BUILTIN_ERRORS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
EVERY_CLASS = [
    ConfigError, InsecureConfiguration, KafkaSecurityError, BrokerUnavailable, BrokerAuthenticationFailed,
    NoBrokerConfigured, BrokerStartError, InvalidRecording, UnsupportedFormat, SchemaError, UnknownSchemaVersion,
    StorageError, OverreadConflict, IdentityUnreadable, DatabaseUnavailable, ParsersBusy, DecompressionBomb,
    DeliveryRejected, TransientDeliveryError, GatewayError, FieldError, UploadTooLarge, RequestTimeout,
    UploadTimeout, Busy, AuthError, PortInUse,
]  # fmt: skip


def exception_classes() -> dict[str, list[str]]:
    """Every class of the product that derives from an exception, by name -> its bases (AST, no import)."""
    bases: dict[str, list[str]] = {}
    for package in PRODUCT:
        for path in (REPO_ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
                if isinstance(node, ast.ClassDef):
                    bases[node.name] = [ast.unparse(base).split(".")[-1] for base in node.bases]
    found: set[str] = set()
    while True:
        more = {name for name, names in bases.items() if set(names) & (BUILTIN_ERRORS | found)} - found
        if not more:
            return {name: bases[name] for name in found}
        found |= more


def test_the_tree_has_one_root_and_its_docstring_names_every_class() -> None:
    classes = exception_classes()
    assert len(classes) == len(EVERY_CLASS) + 1, sorted(classes)  # a new class: add it here and to the tree
    for name, bases in classes.items():
        if name != "EcgstreamError":
            assert set(bases) - BUILTIN_ERRORS, f"{name} derives from builtins only: give it EcgstreamError"
        assert name in (core.errors.__doc__ or ""), f"{name} is missing from core/errors.py's tree"


@pytest.mark.parametrize("cls", EVERY_CLASS, ids=lambda cls: cls.__name__)
def test_every_error_is_an_ecgstream_error(cls: type[BaseException]) -> None:
    assert issubclass(cls, EcgstreamError)


def test_builtin_bases_are_kept() -> None:
    assert issubclass(ConfigError, ValueError) and issubclass(KafkaSecurityError, ValueError)
    assert issubclass(BrokerUnavailable, ConnectionError) and issubclass(PortInUse, OSError)
    assert issubclass(NoBrokerConfigured, RuntimeError) and issubclass(BrokerStartError, RuntimeError)
    with pytest.raises(ValueError, match="SESSION_MAX_AGE"):
        raise ConfigError("SESSION_MAX_AGE must be positive")


def test_messages_and_reasons_are_unchanged() -> None:
    gateway = FieldError("age", "age must be a number")
    assert (gateway.status, gateway.reason, gateway.message, gateway.details) == (
        422, "invalid_field", "age must be a number", {"field": "age"})  # fmt: skip
    bomb = DecompressionBomb("zstd", 10)
    assert (str(bomb), bomb.codec, bomb.limit) == ("zstd payload inflates beyond 10 bytes", "zstd", 10)
    assert (
        InvalidRecording("x", reason="oversize").reason == "oversize"
        and StorageError("y").reason == "storage_error"
    )
    port = PortInUse("127.0.0.1:8080 is already in use")
    assert str(port) == port.message == "127.0.0.1:8080 is already in use" and port.errno is None
