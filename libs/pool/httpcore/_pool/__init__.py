"""httpcore._pool: the connection pool (``AsyncConnectionPool``, ``ConnectionPool``)."""
