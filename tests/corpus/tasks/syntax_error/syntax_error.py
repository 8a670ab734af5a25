from idflow import worker_task


@worker_task(task_definition_name='syntax_error', retry_count=3
def syntax_error(task_input):
    return {}
