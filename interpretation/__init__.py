"""Final interpretation of a recording: the model's statements fused with the statements decided
from measurements, by one documented table (docs/fusion.md). Pure: no IO."""

from interpretation.fusion import FusedStatement, Provenance, fuse
from interpretation.table import DEFAULT_TABLE, FUSION_MODES, FusionMode, FusionTable

__all__ = [
    "DEFAULT_TABLE",
    "FUSION_MODES",
    "FusedStatement",
    "FusionMode",
    "FusionTable",
    "Provenance",
    "fuse",
]
