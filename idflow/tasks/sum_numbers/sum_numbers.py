"""Add two numbers: the second step of the example workflow greet -> sum_numbers.

Input arrives by name: conductor-python passes the task input keys `a` and `b`
as the parameters of the same name. Called directly: `sum_numbers(2, 3)`.
"""
from idflow import worker_task

MAX_RETRIES = 2


@worker_task(
    task_definition_name="sum_numbers",
    retry_count=MAX_RETRIES,
    timeout_seconds=60,
    retry_logic="LINEAR_BACKOFF",
    retry_delay_seconds=2,
    response_timeout_seconds=30,
)
def sum_numbers(a: float = 0, b: float = 0) -> dict:
    """Return the sum of `a` and `b`.

    Input: {"a": number, "b": number} (missing ones count as 0). Output: {"sum": number}.
    """
    return {"sum": (a or 0) + (b or 0)}
