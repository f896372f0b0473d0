"""Lower packages never import upper ones: read every module's imports (real source files, AST).

The layers, bottom up: measurements, model, schemas, storage (pure code and persistence) ->
interpretation, ingest, exports (FHIR / HL7 builders: schemas, measurements, interpretation only) ->
stream_processor -> webapp (the web gateway) -> ecgstream (the CLI).
Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

FORBIDDEN = {
    "measurements": {"stream_processor", "ingest", "webapp", "ecgstream", "exports"},
    "model": {"stream_processor", "ingest", "webapp", "ecgstream", "exports"},
    "schemas": {"stream_processor", "ingest", "webapp", "ecgstream", "exports"},
    "storage": {"stream_processor", "ingest", "webapp", "ecgstream", "exports"},
    "interpretation": {"stream_processor", "webapp", "ecgstream", "exports"},
    "ingest": {"stream_processor", "webapp", "exports"},
    "exports": {"stream_processor", "ingest", "webapp", "ecgstream", "model", "storage"},
    "stream_processor": {"webapp"},
}


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every absolute import in ``path``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_import_reader_sees_lazy_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os.path\n\ndef f():\n    from webapp.auth import SCOPES\n    from . import x\n")
    assert imported_packages(module) == {"os", "webapp"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_packages_do_not_import_upper_ones(package: str) -> None:
    modules = sorted((REPO_ROOT / package).rglob("*.py"))
    assert modules, f"{package}/ has no modules"
    offences = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_packages(path) & FORBIDDEN[package]) for path in modules
    }
    assert not {path: names for path, names in offences.items() if names}


def test_the_gateway_left_ingest() -> None:
    assert not (REPO_ROOT / "ingest" / "gateway").exists()
    assert (REPO_ROOT / "webapp" / "templates" / "index.html").is_file()
