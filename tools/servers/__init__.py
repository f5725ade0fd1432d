"""Real servers on loopback for the integration tests and the demo (``nginx.py``)."""
