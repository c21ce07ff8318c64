"""Benchmarks: ``python -m bench [NAME ...]``. Each ``bench/*_bench.py`` module has ``run()``
returning ``(name, value, unit)`` rows; ratios are measured side by side in one run because the
machine is shared and noisy. Figures are recorded in ``docs/benchmarks.md``."""
