"""The seed's example task, in idflow's form.

How input arrives: conductor-python passes the whole `Task` to a worker function
whose only parameter has no annotation; otherwise it passes each input key as
the parameter of the same name. `my_task` keeps the seed's dict-in style: as a
worker it gets the `Task` and reads `task.input_data`; called directly (tests)
it takes the input dict itself, so `my_task({'input': 'test'})` works.
Do not add `from __future__ import annotations` to task files: the SDK reads
parameter annotations as real types.
"""
from idflow import worker_task


@worker_task(
    task_definition_name="my_task",
    retry_count=3,
    timeout_seconds=1200,
    timeout_policy="TIME_OUT_WF",
    retry_logic="FIXED",
    retry_delay_seconds=60,
    response_timeout_seconds=600,
    concurrent_exec_limit=10,
    rate_limit_frequency_in_seconds=60,
    rate_limit_per_frequency=100,
)
def my_task(task_input):
    """Echo the task's `input` back as `result`.

    Input: {"input": any}. Output: {"result": "processed: <input>"}.
    """
    data = getattr(task_input, "input_data", task_input) or {}
    return {"result": f"processed: {data.get('input')}"}
