from idflow import worker_task


@worker_task(task_definition_name='duplicate')
def duplicate(text: str = "") -> dict:
    return {"result": text}
