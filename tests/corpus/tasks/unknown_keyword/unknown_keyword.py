from idflow import worker_task


@worker_task(task_definition_name='unknown_keyword', retry_cnt=3)
def unknown_keyword(text: str = "") -> dict:
    return {"result": text}
