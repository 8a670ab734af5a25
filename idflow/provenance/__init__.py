"""Git provenance: the trailer stamped on every upload (`trailer`) and definitions through
Git history (`history`: per-task history, definitions at a revision)."""
