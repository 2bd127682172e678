"""Where things live on disk, and how the database URL is chosen.

The data directory holds password hashes and customers' emails (in the
database), settings and the outbox: it is private to its user (0700) and
so is each file storeapp makes in it (0600), whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "storeapp"


def data_dir(create: bool = True) -> Path:
    """The user's data directory (created unless ``create`` is false: a
    reader such as ``storeapp events``); STOREAPP_DATA_DIR overrides it."""
    override = os.environ.get("STOREAPP_DATA_DIR")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_path  # after the window's first paint

        path = user_data_path(APP_NAME, appauthor=False)
    if create:
        private_dir(path)
    return path


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (0700), made if
    missing; an older one made under the umask (0755) is closed."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file only its owner can read (0600): made empty if
    missing, so a program that writes it later (QSettings) keeps the mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    _chmod(path, 0o600)
    return path


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except PermissionError:  # not ours (a shared folder given on purpose): leave it
        pass


def default_db_url(create: bool = True) -> str:
    return f"sqlite:///{data_dir(create) / 'storeapp.sqlite3'}"


def resolve_db_url(cli_value: str | None, create: bool = True) -> str:
    """``--db`` wins, then ``STOREAPP_DB``, then the embedded SQLite file."""
    return cli_value or os.environ.get("STOREAPP_DB") or default_db_url(create)
