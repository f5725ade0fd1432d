"""``python -m tools.demo``: httpcore against a local nginx (see ``__main__.py``)."""
