"""Benchmarks of the per-request session resolution against stock Flask-Admin.

Run ``python -m benchmarks.run`` from the repository root (``--quick`` for a
short look); ``python -m benchmarks.bytecodes`` and ``python -m
benchmarks.instructions --quick`` are CI's gates, ``python -m
benchmarks.hotpath`` the profiler. See
``doc/performance.rst`` for the results.
"""
