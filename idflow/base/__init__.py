"""The shared base: errors and their exit codes, the bounded reader, sanitising, progress, interruption."""
