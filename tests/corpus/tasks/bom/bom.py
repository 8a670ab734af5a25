from idflow import worker_task


@worker_task(task_definition_name="bom", retry_count=4)
def bom(text: str = "") -> dict:
    """Saved with a UTF-8 byte order mark."""
    return {"result": text}
