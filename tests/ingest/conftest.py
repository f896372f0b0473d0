"""Make ``import schemas`` / ``import ingest`` find the project packages, not this test folder.

pytest puts ``tests/`` on ``sys.path`` (rootdir conftest, no ``__init__.py``), where the folders
``tests/schemas`` and ``tests/ingest`` would shadow the real packages as namespace packages; the
editable install's finder comes after the path finder. Putting the repository root first fixes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)
for _name in ("schemas", "ingest"):
    _module = sys.modules.get(_name)
    if _module is not None and getattr(_module, "__file__", None) is None:
        del sys.modules[_name]  # a namespace package made of a tests/ folder
