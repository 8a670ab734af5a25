"""The write engine every kind of definition shares: backups and the write loop."""
