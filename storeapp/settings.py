"""Where things live on disk, and how the database URL is chosen."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path

APP_NAME = "storeapp"


def data_dir(create: bool = True) -> Path:
    """The user's data directory (created unless ``create`` is false: a
    reader such as ``storeapp events``); STOREAPP_DATA_DIR overrides it."""
    override = os.environ.get("STOREAPP_DATA_DIR")
    path = Path(override) if override else user_data_path(APP_NAME, appauthor=False)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_url(create: bool = True) -> str:
    return f"sqlite:///{data_dir(create) / 'storeapp.sqlite3'}"


def resolve_db_url(cli_value: str | None, create: bool = True) -> str:
    """``--db`` wins, then ``STOREAPP_DB``, then the embedded SQLite file."""
    return cli_value or os.environ.get("STOREAPP_DB") or default_db_url(create)
