"""The project side: its config and YAML reader, identity, protection, scaffolding and sync schedules."""
