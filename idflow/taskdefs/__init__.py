"""Task-definition sync: the owned fields (`fields`) and their rules (`validation`), the plan
(`plan`), applying it (`apply`), which workflows use what (`usage`) and purging (`purge`).
Pure functions on plain data, but for `apply` and `purge`, which talk to the server."""
