"""httpcore._protocols: see DESIGN.md."""
