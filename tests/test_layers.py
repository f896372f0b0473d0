"""Packages are layered and acyclic: read every module's imports (real source files, AST).

The layers, bottom up; a package imports only packages before it in ``ORDER``:

- ``core``: settings, Kafka plumbing (security, admin, topics), logging, private files and the root
  of the exception tree; imports no package of ours.
- ``schemas`` (the contract; its errors derive from ``core.errors``), ``measurements`` (pure signal
  code), ``model`` (serving; ``model.training`` trains, and serving modules never import it),
  ``storage`` (persistence).
- ``interpretation`` (measurements and the model's statements fused), ``ingest`` (readers, publisher),
  ``exports`` (FHIR / HL7 builders: schemas, measurements, interpretation only).
- ``stream_processor`` (the worker) -> ``webapp`` (the web gateway) -> ``ecgstream`` (the CLI) ->
  ``benchmarks`` (a tool: may import anything, nothing imports it).

Imports inside functions count too: a lazy import is still a dependency. No package cycle, and no
cycle of modules inside a package either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

ORDER = (
    "core", "schemas", "measurements", "model", "storage", "interpretation", "ingest", "exports",
    "stream_processor", "webapp", "ecgstream", "benchmarks",
)  # fmt: skip
ALSO_FORBIDDEN = {"exports": {"model", "storage", "ingest"}}  # pure builders of a stored diagnosis
NOT_PACKAGES = {"tests"}


def top_level_packages(root: Path = REPO_ROOT) -> set[str]:
    return {path.parent.name for path in root.glob("*/__init__.py")} - NOT_PACKAGES


def imported_names(path: Path) -> set[str]:
    """The dotted name of every absolute import in ``path`` (``from a.b import c``: ``a.b`` and ``a.b.c``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every absolute import in ``path``."""
    return {name.split(".")[0] for name in imported_names(path)}


def module_name(path: Path, root: Path = REPO_ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_imports(path: Path, modules: set[str], root: Path = REPO_ROOT) -> set[str]:
    """The modules of ``modules`` that ``path`` imports (``from a.b import c``: ``a.b.c`` if a module, else ``a.b``)."""
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        targets: list[tuple[str, list[str]]] = []
        if isinstance(node, ast.Import):
            targets = [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [(base, [alias.name for alias in node.names])]
        for base, names in targets:
            for name in names or [""]:
                candidate = f"{base}.{name}" if name else base
                while candidate and candidate not in modules:
                    candidate = candidate.rpartition(".")[0]
                if candidate and candidate != here:
                    found.add(candidate)
    return found


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (or a self-loop): every import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_graph(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    packages = top_level_packages(root)
    return {
        package: {name for path in (root / package).rglob("*.py") for name in imported_packages(path)}
        & (packages - {package})
        for package in packages
    }


def file_graph(package: str, root: Path = REPO_ROOT) -> dict[str, set[str]]:
    paths = sorted((root / package).rglob("*.py"))
    modules = {module_name(path, root) for path in paths}
    return {module_name(path, root): module_imports(path, modules, root) for path in paths}


def test_the_import_reader_sees_lazy_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os.path\n\ndef f():\n    from webapp.auth import SCOPES\n    from . import x\n")
    assert imported_packages(module) == {"os", "webapp"}


def test_the_cycle_finders_see_cycles(tmp_path: Path) -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "one.py").write_text("def f():\n    from pkg.sub import two\n")
    (package / "sub" / "two.py").write_text("from ..one import f\n")
    (package / "three.py").write_text("import pkg.one\n")
    assert file_graph("pkg", tmp_path)["pkg.three"] == {"pkg.one"}
    assert cycles(file_graph("pkg", tmp_path)) == [["pkg.one", "pkg.sub.two"]]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "__init__.py").write_text("import pkg\n")
    (package / "four.py").write_text("import other\n")
    assert cycles(package_graph(tmp_path)) == [["other", "pkg"]]


def test_every_package_has_a_layer() -> None:
    assert top_level_packages() == set(ORDER)


@pytest.mark.parametrize("package", ORDER)
def test_packages_import_only_lower_ones(package: str) -> None:
    modules = sorted((REPO_ROOT / package).rglob("*.py"))
    assert modules, f"{package}/ has no modules"
    allowed = set(ORDER[: ORDER.index(package) + 1]) - ALSO_FORBIDDEN.get(package, set())
    offences = {
        str(path.relative_to(REPO_ROOT)): sorted((imported_packages(path) & set(ORDER)) - allowed)
        for path in modules
    }
    assert not {path: names for path, names in offences.items() if names}


def test_no_package_cycle() -> None:
    assert cycles(package_graph()) == []


@pytest.mark.parametrize("package", ORDER)
def test_no_module_cycle_inside_a_package(package: str) -> None:
    assert cycles(file_graph(package)) == []


def test_serving_does_not_import_training() -> None:
    serving = sorted(path for path in (REPO_ROOT / "model").rglob("*.py") if "training" not in path.parts)
    assert len(serving) >= 9
    offences = {
        str(path.relative_to(REPO_ROOT)): sorted(
            n for n in imported_names(path) if n.startswith("model.training")
        )
        for path in serving
    }
    assert not {path: names for path, names in offences.items() if names}


def test_the_gateway_left_ingest() -> None:
    assert not (REPO_ROOT / "ingest" / "gateway").exists()
    assert (REPO_ROOT / "webapp" / "templates" / "index.html").is_file()
