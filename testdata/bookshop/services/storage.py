"""Blocking blob storage on the local filesystem (a stand-in for the bucket client)."""

import os
import re
from pathlib import Path

from db.engine import APP_ROOT

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class InvalidBlobName(ValueError):
    pass


def storage_root() -> Path:
    root = Path(os.environ.get("BOOKSHOP_STORAGE_DIR", str(APP_ROOT / "storage")))
    root.mkdir(parents=True, exist_ok=True)
    return root


def validate_name(name: str) -> None:
    """Reject names that could escape the storage root or hide files."""
    if not _NAME_PATTERN.fullmatch(name):
        raise InvalidBlobName(name)


def _blob_path(name: str) -> Path:
    validate_name(name)
    return storage_root() / name


def write_blob(name: str, data: bytes) -> int:
    path = _blob_path(name)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return len(data)


def read_blob(name: str) -> bytes | None:
    path = _blob_path(name)
    return path.read_bytes() if path.is_file() else None


def delete_blob(name: str) -> bool:
    path = _blob_path(name)
    if not path.is_file():
        return False
    path.unlink()
    return True


def list_blobs() -> list[str]:
    return sorted(p.name for p in storage_root().iterdir() if p.is_file() and not p.name.endswith(".part"))
