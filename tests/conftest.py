"""Fixtures shared by several test modules."""

import os

import pytest

from tests import postgres_server


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server on loopback for the whole session (tests/postgres_server.py)."""
    if postgres_server.bin_dir() is None and not os.environ.get("FILEGRAPH_REQUIRE_POSTGRES"):
        pytest.skip("PostgreSQL binaries not installed (.ci/run installs them)")
    server = postgres_server.start()
    yield server
    server.stop()
