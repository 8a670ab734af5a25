"""A task dir without any task."""
