"""The side-by-side benchmark: ``python -m tools.bench`` (set up by ``tools/bench.sh``).

Modules: ``clients`` (who is measured, how installed), ``scenarios`` (S1-S7), ``server``
(the bench nginx), ``venvs`` (one virtualenv per client), ``runner`` (one driver process),
``limits`` (wrk, h2load), ``stats`` (medians, ratios), ``results`` (the saved run),
``report`` and ``chart`` (docs/benchmarks.md and its PNG). ``drivers/`` holds the scripts
each client's virtualenv runs; they never import this package. ``profile_request`` is the
profiling harness for the per-request path (S1 in one process, under cProfile or callgrind).
"""
