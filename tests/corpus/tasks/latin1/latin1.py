# -*- coding: latin-1 -*-
from idflow import worker_task


@worker_task(task_definition_name="latin1", description="café")
def latin1(text: str = "") -> dict:
    return {"result": text}
