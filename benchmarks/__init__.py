"""Benchmarks: the harness (``python -m benchmarks.harness``) and single-purpose scripts."""
