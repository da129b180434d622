from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from async_migrate.cli.main import app

REPO = Path(__file__).resolve().parent.parent
BOOKSHOP = REPO / "testdata" / "bookshop"


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: source} under root; str sources are dedented."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str):  # type: ignore[no-untyped-def]
        return self.runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    def json(self, *args: str) -> dict:
        result = self(*args, "--format", "json")
        assert result.exit_code in (0, 1, 3), result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def project(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build a small target application: project({"api/x.py": "..."}) -> root."""

    def build(files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path / "app", files)

    return build


# The pieces most test applications share: a sync engine, a session dependency and its alias.
ENGINE = """
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
DEPENDENCIES = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session

session_dependency = Annotated[Session, Depends(get_db_session)]
"""


@pytest.fixture
def app_files() -> dict[str, str]:
    return {"db/__init__.py": "", "db/engine.py": ENGINE, "core/__init__.py": "", "core/dependencies.py": DEPENDENCIES}
