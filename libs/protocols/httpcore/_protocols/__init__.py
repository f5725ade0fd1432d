"""httpcore._protocols: the HTTP/1.1 codec and the HTTP connections."""
