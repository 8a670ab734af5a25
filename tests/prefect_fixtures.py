"""Prefect test fixtures: one throw-away Prefect server per session, analytics off.

Import this module (it sets the environment) before anything imports Prefect:
Prefect reads its settings when it is first imported.
"""
from __future__ import annotations

import os
import sys
import tempfile

import pytest

# A loaded machine (load 10-40 on 2 cores) is slow, not broken. Prefect's defaults fail there: 20 s
# for the ephemeral server to start, 10 s per database statement, 5 s to connect to SQLite. These
# only raise ceilings: a fast machine waits no longer.
STARTUP_TIMEOUT = 300
PATIENT = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(STARTUP_TIMEOUT),
           "PREFECT_API_REQUEST_TIMEOUT": "300", "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
           "PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT": "30"}
QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
         "PREFECT_SERVER_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
         "PREFECT_SERVER_LOGGING_LEVEL": "WARNING", **PATIENT}

HOME = tempfile.mkdtemp(prefix="idflow-prefect-home-")
_ENV_IN_TIME = "prefect" not in sys.modules
if _ENV_IN_TIME:
    os.environ["PREFECT_HOME"] = HOME
    os.environ.update(QUIET)


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect server (SQLite in a temp dir) for every flow test of the session."""
    from contextlib import nullcontext

    from prefect.settings import (PREFECT_API_REQUEST_TIMEOUT, PREFECT_HOME, PREFECT_SERVER_ANALYTICS_ENABLED,
                                  PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT, PREFECT_SERVER_DATABASE_TIMEOUT,
                                  PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings)
    from prefect.testing.utilities import prefect_test_harness

    # If something imported Prefect before this module, set what matters through its settings instead.
    late = nullcontext() if _ENV_IN_TIME else temporary_settings(
        updates={PREFECT_HOME: HOME, PREFECT_SERVER_ANALYTICS_ENABLED: False,
                 PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: STARTUP_TIMEOUT, PREFECT_API_REQUEST_TIMEOUT: 300,
                 PREFECT_SERVER_DATABASE_TIMEOUT: 60, PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT: 30})
    with late, prefect_test_harness(server_startup_timeout=STARTUP_TIMEOUT):
        yield


@pytest.fixture
def prefect_client(prefect_harness):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        yield client
