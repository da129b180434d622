"""The project's tests that live above PATH, for the overrides they make.

In a src layout (`src/app/...` beside `tests/`, PATH `src`) or an application folder run on its
own (`backend/app` with `backend/tests`, PATH `backend/app`'s parent's child), the tests are not
under PATH and the analysis never reads them. Their `app.dependency_overrides[get_db] = ...` or
`monkeypatch.setattr("app.db.SessionLocal", ...)` still decide which database the migrated
routes reach under the tests, so phase two reads them for that alone: the test modules in each
folder from PATH's parent up to the folder holding the project's `pyproject.toml` or repository
(its `conftest.py`, `test_*.py` and the `tests`/`test` folders there), never PATH's own files.
Their paths are relative to PATH (`../tests/conftest.py`), as the notes name them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from async_migrate.codemods import facts
from async_migrate.codemods.roots import folders_above
from async_migrate.codemods.sources import is_test_path

# What a test module must hold to override or redirect anything phase two reads: the words, or
# an assignment of a module's attribute (`db_module.SessionLocal = Testing`).
_NEEDLES = ("dependency_overrides", "setattr", "patch", "configure(")
_ATTRIBUTE_ASSIGNED = re.compile(r"^[ \t]*[A-Za-z_][\w.]*\.\w+[ \t]*=[^=]", re.MULTILINE)
_SKIPPED = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "env"})


def modules(root: Path, read: Callable[[str], str] | None) -> list[facts.Module]:
    """Facts of the test modules above PATH (`root`), named as their imports would name them."""
    from async_migrate.codemods import astcollect

    if read is None:
        return []
    here = root.resolve()
    folders = folders_above(here)
    found: list[facts.Module] = []
    seen: set[Path] = set()
    for top in folders:
        for path in _test_files(top, here):
            if path in seen:
                continue
            seen.add(path)
            relative = Path(os.path.relpath(path, here)).as_posix()
            try:
                text = read(relative)
            except (OSError, ValueError):
                continue
            if not any(n in text for n in _NEEDLES) and _ATTRIBUTE_ASSIGNED.search(text) is None:
                continue
            name = ".".join(path.relative_to(top).with_suffix("").parts)
            try:
                read_as, tree = astcollect.parse_read(text, relative)
                found.append(astcollect.collect(relative, read_as, name.removesuffix(".__init__"), tree))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
    return found


def _test_files(top: Path, here: Path) -> list[Path]:
    """`top`'s own test modules, and every module under its `tests`/`test` folders, not under PATH."""
    files = [p for p in sorted(top.glob("*.py")) if is_test_path(p.name)]
    for name in ("tests", "test"):
        folder = top / name
        if not folder.is_dir() or folder == here or folder in here.parents:
            continue
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).parts
            if any(p.startswith(".") or p in _SKIPPED for p in parts) or here in path.parents:
                continue
            files.append(path)
    return files
