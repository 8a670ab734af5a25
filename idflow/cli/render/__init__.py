"""All terminal rendering (rich): plans, results, tables. Nothing here talks to a server."""
