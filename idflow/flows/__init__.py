"""idflow's Prefect flows (importing this package imports Prefect: the CLI does so only for --prefect)."""
