"""httpcore._core: models, exceptions, tracing, synchronisation and TLS defaults."""
