"""Storage: the database, settings, media files and the keyring."""

import sys

# peewee probes for the PostgreSQL and MySQL drivers when imported. Milton keeps its data
# in SQLite only, and an installed psycopg costs ~0.1 s of start-up, so while peewee is
# imported here those drivers read as absent; they import as usual afterwards.
if "peewee" not in sys.modules:
    _SERVER_DRIVERS = ("psycopg2cffi", "psycopg2", "psycopg", "pymysql", "MySQLdb")
    _masked = [name for name in _SERVER_DRIVERS if name not in sys.modules]
    for _name in _masked:
        sys.modules[_name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import peewee  # noqa: F401
    finally:
        for _name in _masked:
            if sys.modules.get(_name, 0) is None:
                del sys.modules[_name]
