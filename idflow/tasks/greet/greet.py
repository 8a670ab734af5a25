"""Greet someone: the first step of the example workflow greet -> sum_numbers.

Input arrives by name: conductor-python passes the task input key `name` as the
parameter `name` (annotated, so the SDK does not hand over the whole Task).
Called directly: `greet("Ada")` or `greet(name="Ada")`.
"""
from idflow import worker_task


@worker_task(
    task_definition_name="greet",
    retry_count=2,
    timeout_seconds=60,
    timeout_policy="TIME_OUT_WF",
    retry_logic="FIXED",
    retry_delay_seconds=5,
    response_timeout_seconds=30,
)
def greet(name: str = "world") -> dict:
    """Return a greeting for `name`.

    Input: {"name": str} (default "world"). Output: {"greeting": "Hello, <name>!"}.
    """
    return {"greeting": f"Hello, {name or 'world'}!"}
