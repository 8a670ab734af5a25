"""Monitoring: is every task served, and how is it doing? (`idflow tasks status`)

`report` holds the data (a `StatusReport` of `TaskStatus` rows, to_json/from_json),
`assemble` the pure steps: durations, execution statistics from the server's search,
and the report built from plain data the use case fetched (queues, poll data, search
results, the plan and the usage index). Nothing here talks to a server.
"""
