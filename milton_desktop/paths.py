"""Where Milton keeps its database, logs and media.

Everything is resolved here, once: the platform's user dirs by default, or a
single folder given by ``--home DIR`` or the ``MILTON_HOME`` environment variable
(which the tests use to keep every run inside ``tmp_path``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from milton_desktop import APP_ID

HOME_ENV = "MILTON_HOME"


@dataclass(frozen=True)
class Paths:
    data_dir: Path
    log_dir: Path
    media_dir: Path
    custom_home: bool

    @property
    def db_path(self) -> Path:
        return self.data_dir / "milton.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "milton.log"

    def ensure(self) -> Paths:
        """Create the folders, private to the user: they hold post texts and account
        details. Every file this process creates afterwards is private too."""
        keep_private()
        for d in (self.data_dir, self.log_dir, self.media_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.name == "posix":
            # folders and files made by an older version were readable by everyone
            # a folder the user named with --home may be theirs to share: only the
            # folders and files Milton keeps inside it are tightened
            mine = (
                (self.log_dir, self.media_dir)
                if self.custom_home
                else (
                    self.data_dir,
                    self.log_dir,
                    self.media_dir,
                )
            )
            for d in mine:
                _restrict(d, 0o700)
            for pattern, folder in (("milton.sqlite3*", self.data_dir), ("*.log*", self.log_dir)):
                for f in folder.glob(pattern):
                    _restrict(f, 0o600)
        return self


def keep_private() -> None:
    """Files and folders this process creates are readable by the user alone."""
    if os.name == "posix":
        os.umask(0o077)


def _restrict(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:
        pass  # not ours to change (a shared folder): leave it, the files inside are private


def resolve_paths(home: str | os.PathLike[str] | None = None) -> Paths:
    """Return the app's folders; ``home`` (or ``$MILTON_HOME``) puts them all in one place."""
    chosen = home if home is not None else os.environ.get(HOME_ENV) or None
    if chosen:
        root = Path(chosen).expanduser().resolve()
        return Paths(root, root / "logs", root / "media", custom_home=True)
    data = Path(platformdirs.user_data_dir(APP_ID, appauthor=False))
    logs = Path(platformdirs.user_log_dir(APP_ID, appauthor=False))
    return Paths(data, logs, data / "media", custom_home=False)
