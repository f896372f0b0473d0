"""ecgstream: the CLI and the embedded local stack that tie the packages together (settings live in ``core``)."""

__all__ = ["__version__"]
__version__ = "0.1.0"
