from idflow import worker_task


@worker_task(task_definition_name='invalid_def', timeout_seconds=60, response_timeout_seconds=600,
             timeout_policy='SOMETIMES')
def invalid_def(text: str = "") -> dict:
    return {"result": text}
