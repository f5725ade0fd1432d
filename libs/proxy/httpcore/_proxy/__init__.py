"""httpcore._proxy: see DESIGN.md."""
