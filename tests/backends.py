"""Running one test on each database backend (see ``pytest_generate_tests`` and the
``db`` fixture in conftest.py)."""

from __future__ import annotations

import pytest

#: a test on the home's SQLite file, then on a fresh PostgreSQL database (its ``db``
#: fixture and every command it runs; skipped without a test server)
both_backends = pytest.mark.both_backends
