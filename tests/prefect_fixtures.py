"""Prefect test fixtures: one throw-away Prefect server per session, analytics off.

Import this module (it sets the environment) before anything imports Prefect:
Prefect reads its settings when it is first imported.
"""
from __future__ import annotations

import os
import sys
import tempfile

import pytest

QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
         "PREFECT_SERVER_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
         "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"}

HOME = tempfile.mkdtemp(prefix="idflow-prefect-home-")
_ENV_IN_TIME = "prefect" not in sys.modules
if _ENV_IN_TIME:
    os.environ["PREFECT_HOME"] = HOME
    os.environ.update(QUIET)


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect server (SQLite in a temp dir) for every flow test of the session."""
    from contextlib import nullcontext

    from prefect.settings import PREFECT_HOME, PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # If something imported Prefect before this module, set what matters through its settings instead.
    late = nullcontext() if _ENV_IN_TIME else temporary_settings(
        updates={PREFECT_HOME: HOME, PREFECT_SERVER_ANALYTICS_ENABLED: False})
    with late, prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def prefect_client(prefect_harness):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        yield client
