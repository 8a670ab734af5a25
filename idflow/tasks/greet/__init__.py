"""The greet task (see greet.py)."""
