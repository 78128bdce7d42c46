"""cases: see DESIGN.md. Models arrive with their issues."""
