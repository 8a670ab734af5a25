"""The task-definition model, pure and shared by every layer above it: the owned `fields`
(keywords, wire names, defaults, the provenance marker) and their `validation`."""
