"""Definitions back from the server into the code: the JSON text editor, the three-way state from hashes,
and writing files without ever overwriting one unseen (issue 25)."""
