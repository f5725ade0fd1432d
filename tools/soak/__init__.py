"""Load and soak: many requests through one bounded pool against a real nginx restarted mid-run.

``python -m tools.soak`` (see ``__main__``) and ``tests/integration/test_integration_soak.py``
both call ``tools.soak.driver.run_soak``: it starts its own nginx (and tinyproxy with
``proxy=True``), sends ``requests`` GETs from ``concurrency`` asyncio tasks or threads through
one pool limited to ``max_connections``, restarts nginx on the same ports part-way through,
checks every body, and measures what a leak would change: open file descriptors, live
httpcore objects, resident memory. It exists to show the pool survives a server restart
under load (every request succeeds or fails with a documented httpcore exception, nothing
hangs, nothing is left behind), which unit tests with fake peers cannot show.
"""

from __future__ import annotations
