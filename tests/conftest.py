"""Shared fixtures: every test gets its own MILTON_HOME, database and keyring."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


def pytest_generate_tests(metafunc):
    """A test marked ``both_backends`` runs twice: on the home's SQLite file, then on a
    fresh team database (its ``db`` fixture, and every command it runs)."""
    if metafunc.definition.get_closest_marker("both_backends"):
        if "db_backend" not in metafunc.fixturenames:
            metafunc.fixturenames.append("db_backend")
        metafunc.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def db_backend(request):
    """The backend a ``both_backends`` test runs on this time."""
    return request.param


def on_team_database(request) -> bool:
    """Whether this test's database is a team database (PostgreSQL): its
    ``both_backends`` turn, or MILTON_TEST_DB=postgresql for a whole run."""
    spec = getattr(request.node, "callspec", None)
    # a ``both_backends`` turn, or a test that asks for one with
    # ``parametrize("db", [...], indirect=True)``
    chosen = (spec.params.get("db_backend") or spec.params.get("db")) if spec is not None else None
    if chosen is not None:
        return chosen == "postgresql"
    return os.environ.get("MILTON_TEST_DB") == "postgresql"


@pytest.fixture(autouse=True)
def milton_home(tmp_path, monkeypatch, request):
    """Point MILTON_HOME at a fresh folder so no test touches real user data (on a team
    database, see :func:`on_team_database`, the commands a test runs open a fresh one;
    a test marked ``sqlite_only(reason)`` is skipped there)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MILTON_HOME", str(home))
    monkeypatch.delenv("MILTON_DATABASE_URL", raising=False)
    if on_team_database(request):
        only = request.node.get_closest_marker("sqlite_only")
        if only is not None:
            pytest.skip(f"SQLite only: {only.args[0] if only.args else 'the home file'}")
        monkeypatch.setenv("MILTON_DATABASE_URL", request.getfixturevalue("postgres_url"))
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


#: the team database server the tests may use (scripts/test.sh starts one and sets it)
POSTGRES_ENV = "MILTON_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url():
    """The URL of a fresh, empty PostgreSQL database of its own, dropped afterwards.

    Skipped only when no test server is configured (scripts/test.sh, and so CI, always
    starts one and sets MILTON_TEST_POSTGRES_URL).
    """
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"no PostgreSQL test server: {POSTGRES_ENV} is unset (scripts/test.sh sets it)")
    import psycopg

    name = f"milton_test_{secrets.token_hex(6)}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    parts = urlsplit(base)
    yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    from milton_desktop.storage import backend
    from milton_desktop.storage.db import close_database

    close_database()
    backend.use(backend.SQLITE)
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, milton_home):
    """The test's database on each backend in turn: the home's SQLite file, then a
    fresh PostgreSQL database (skipped without a test server)."""
    from milton_desktop.paths import resolve_paths
    from milton_desktop.storage.db import close_database, open_database

    if request.param == "sqlite":
        target = resolve_paths().ensure().db_path
    else:
        target = request.getfixturevalue("postgres_url")
    database = open_database(target, local_dir=resolve_paths().ensure().data_dir)
    yield database
    close_database()


@pytest.fixture
def db(milton_home, request):
    """A real SQLite database file in the test's MILTON_HOME (on a team database, see
    :func:`on_team_database` and ``tests/backends.py``, a fresh PostgreSQL database
    instead)."""
    from milton_desktop.paths import resolve_paths
    from milton_desktop.storage.db import close_database, open_database

    paths = resolve_paths().ensure()
    if on_team_database(request):
        database = open_database(request.getfixturevalue("postgres_url"), local_dir=paths.data_dir)
    else:
        database = open_database(paths.db_path)
    yield database
    close_database()
