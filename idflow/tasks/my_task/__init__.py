"""The my_task task (see my_task.py)."""
