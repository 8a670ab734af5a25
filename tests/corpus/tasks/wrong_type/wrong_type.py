from idflow import worker_task


@worker_task(task_definition_name='wrong_type', retry_count="5", timeout_seconds=60)
def wrong_type(text: str = "") -> dict:
    return {"result": text}
