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
    from milton_desktop.publishers import registry

    for platform in registry.names():
        monkeypatch.delenv(f"MILTON_{platform.upper()}_API_BASE", raising=False)
    return home


class MemoryKeyring:
    """keyring's own in-memory backend pattern, for tests that need no real keyring."""

    def __init__(self) -> None:
        import keyring.backend

        class _Backend(keyring.backend.KeyringBackend):
            priority = 1  # type: ignore[assignment]

            def __init__(self) -> None:
                super().__init__()
                self.store: dict[tuple[str, str], str] = {}

            def get_password(self, service, username):
                return self.store.get((service, username))

            def set_password(self, service, username, password):
                self.store[(service, username)] = password

            def delete_password(self, service, username):
                import keyring.errors

                if (service, username) not in self.store:
                    raise keyring.errors.PasswordDeleteError(username)
                del self.store[(service, username)]

        self.backend = _Backend()


@pytest.fixture
def memory_keyring():
    import keyring

    previous = keyring.get_keyring()
    mk = MemoryKeyring()
    keyring.set_keyring(mk.backend)
    yield mk.backend
    keyring.set_keyring(previous)


@pytest.fixture
def db(milton_home):
    """A real SQLite database file in the test's MILTON_HOME."""
    from milton_desktop.paths import resolve_paths
    from milton_desktop.storage.db import close_database, open_database

    paths = resolve_paths().ensure()
    database = open_database(paths.db_path)
    yield database
    close_database()
