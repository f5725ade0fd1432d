"""httpcore._pool: the connection pool (coming with the HTTP/1.1 issue)."""
