"""The worker side: the decorator, the worker pool, its contract and output rule."""
