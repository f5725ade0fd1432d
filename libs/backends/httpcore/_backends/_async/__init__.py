"""Hand-written async code of the backends; the twin in ``_sync`` is generated from it."""
