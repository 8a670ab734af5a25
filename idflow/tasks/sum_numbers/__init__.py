"""The sum_numbers task (see sum_numbers.py)."""
