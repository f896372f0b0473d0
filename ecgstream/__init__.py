"""ecgstream: the CLI, configuration and embedded local stack that tie the packages together."""

__all__ = ["__version__"]
__version__ = "0.1.0"
