"""Importing the storage layer does not import the database server drivers peewee
probes for (an installed psycopg cost ~0.1 s of every start), and they still import
as usual afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = (
    "import sys\n"
    "import milton_desktop.storage.db\n"
    "print('after storage:', 'psycopg' in sys.modules, 'pymysql' in sys.modules)\n"
    "import psycopg\n"
    "print('then:', psycopg.MARK)\n"
)


def test_storage_imports_peewee_without_the_server_drivers(tmp_path):
    # stand-ins that say when they are imported, whatever is installed here
    (tmp_path / "psycopg.py").write_text("print('psycopg imported')\nMARK = 'imported later'\n")
    (tmp_path / "pymysql.py").write_text("print('pymysql imported')\n")
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])},
        check=True,
    )
    assert out.stdout.splitlines() == [
        "after storage: False False",
        "psycopg imported",
        "then: imported later",
    ]
