"""Running one test on each database backend (see the ``db`` fixture in conftest.py)."""

from __future__ import annotations

import pytest

#: a test (through the ``db`` fixture) on the home's SQLite file, then on a fresh
#: PostgreSQL database (skipped without a test server)
both_backends = pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
