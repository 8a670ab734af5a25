"""What the parser and its readers share: `parse.parse_source` turns one task file's bytes into a result,
`walk.ParseCache` keeps it by content hash, `assemble` reads it. The parser itself is imported only for a file
the cache does not hold: with a warm cache, discovery never loads it (nor `ast` evaluation and its classes).
"""
from __future__ import annotations

MAX_FILE_BYTES = 2 * 1024 * 1024  # a task file larger than this is reported, not read
# The start of the warning for a task decorated inside a function; a test file may do that on purpose.
NESTED_TASK = "is decorated inside a function: it is registered only when that function runs, never when the "
