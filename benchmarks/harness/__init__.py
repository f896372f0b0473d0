"""The ecgstream benchmark harness: one command, one table, ``benchmarks/results/latest.json``.

    .venv/bin/python -m benchmarks.harness            # full run (< 10 min on an idle 2-core machine)
    .venv/bin/python -m benchmarks.harness --quick    # small sizes, a smoke test (< 2 min idle)
    .venv/bin/python -m benchmarks.harness --profile var/profiles   # + py-spy flame graphs

Modules, one job each: ``workload`` (recordings encoded once, re-sent with fresh ids),
``environment`` (broker, database, worker processes), ``ceiling``, ``drain``, ``end_to_end``,
``latency``, ``memory``, ``scaling``, ``db_write`` (sink capacity), ``profiling`` (py-spy),
``report`` (table + JSON), ``runner`` (the order of the phases).
"""
