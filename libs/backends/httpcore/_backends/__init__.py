"""httpcore._backends: see DESIGN.md."""
