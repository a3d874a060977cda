"""Benchmarks of the per-request session resolution against stock Flask-Admin.

Run ``python -m benchmarks.run`` from the repository root; ``--guard`` is the
short CI guard and ``python -m benchmarks.hotpath`` the profiler. See
``doc/performance.rst`` for the results.
"""
