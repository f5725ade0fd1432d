"""httpcore._pool: see DESIGN.md."""
