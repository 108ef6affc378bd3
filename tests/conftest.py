"""Shared fixtures: every test gets its own MILTON_HOME, database and keyring."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def milton_home(tmp_path, monkeypatch):
    """Point MILTON_HOME at a fresh folder so no test touches real user data."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MILTON_HOME", str(home))
    for platform in ("LINKEDIN", "X", "INSTAGRAM"):
        monkeypatch.delenv(f"MILTON_{platform}_API_BASE", raising=False)
    return home
