from conductor.client.worker.worker_task import worker_task


@worker_task(task_definition_name='seed_form', retry_count=5, timeout_seconds=1200)
def seed_form(task_input):
    return {'result': task_input}
