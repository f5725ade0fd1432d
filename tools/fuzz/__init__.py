"""Coverage-guided fuzzing of the HTTP/1.1 response codec against h11 (``python -m tools.fuzz``)."""
