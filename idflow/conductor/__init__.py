"""The Conductor HTTP client (`client`: typed metadata calls, bounded retries; plain http over the standard library in
`plain_http`, httpx through `httpx_import`), auth (`auth`) and exact URL paths (`paths`)."""
