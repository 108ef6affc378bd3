"""A team database opens in a process whose peewee was imported with the server
drivers hidden (what ``milton_desktop.storage`` does for a quick start)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import milton_desktop.storage  # peewee imported, psycopg reading as absent
import peewee
assert peewee.psycopg is None, "peewee saw psycopg at import"
from milton_desktop.storage.db import close_database, open_database
from milton_desktop.storage.models import Account
open_database(sys.argv[1])
Account.create(platform="x", display_name="brand-x", remote_id="1")
print(Account.select().count())
close_database()
"""


def test_a_team_database_opens_after_the_quick_peewee_import(postgres_url, tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, postgres_url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
