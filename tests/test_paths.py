"""Where Milton keeps its data, and who may read it: the user alone."""

from __future__ import annotations

import os
import stat

import pytest

from milton_desktop.context import open_context
from milton_desktop.paths import resolve_paths

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_logs_and_database_are_private(tmp_path):
    home = tmp_path / "fresh"  # made by Milton itself
    ctx = open_context(str(home))
    logging_file = ctx.log_file
    import logging

    logging.getLogger("milton.test").warning("a line, so the log file exists")
    for h in logging.getLogger("milton").handlers:
        h.flush()
    assert _mode(ctx.paths.data_dir) == 0o700
    assert _mode(ctx.paths.log_dir) == 0o700
    assert _mode(ctx.paths.media_dir) == 0o700
    assert _mode(ctx.paths.db_path) == 0o600
    for wal in home.glob("milton.sqlite3-*"):
        assert _mode(wal) == 0o600
    assert _mode(logging_file) == 0o600


def test_an_older_world_readable_data_folder_is_made_private(tmp_path):
    home = tmp_path / "old"
    (home / "logs").mkdir(parents=True)
    (home / "milton.sqlite3").write_bytes(b"")
    home.chmod(0o755)
    (home / "logs").chmod(0o755)
    (home / "milton.sqlite3").chmod(0o644)
    resolve_paths(str(home)).ensure()
    assert _mode(home / "logs") == 0o700
    assert _mode(home / "milton.sqlite3") == 0o600
    # a folder the user chose with --home keeps its own permissions
    assert _mode(home) == 0o755
