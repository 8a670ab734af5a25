from idflow import worker_task


def get_retries():
    return 3


@worker_task(task_definition_name='computed_value',
             retry_count=get_retries())
def computed_value(text: str = "") -> dict:
    return {"result": text}
