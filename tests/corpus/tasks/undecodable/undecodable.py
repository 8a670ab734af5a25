from idflow import worker_task

# café in latin-1 without a coding line
@worker_task(task_definition_name="undecodable")
def undecodable(text: str = "") -> dict:
    return {"result": text}
