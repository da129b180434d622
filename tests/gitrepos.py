"""Real temporary git repositories for the git and batch tests (gitpython, local identity)."""

from __future__ import annotations

from pathlib import Path

import git
from conftest import DEPENDENCIES, ENGINE, write_tree

# A tiny application phase one changes in two files: one route each, Session work, no await.
ITEMS = """
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/items")
async def list_items(session: session_dependency):
    return session.execute("select 1").all()


@router.get("/health")
async def health():
    return {"ok": True}
"""
ORDERS = """
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()


@router.post("/orders")
async def place_order(session: session_dependency):
    session.commit()
"""


def tiny_app() -> dict[str, str]:
    return {
        "db/__init__.py": "",
        "db/engine.py": ENGINE,
        "core/__init__.py": "",
        "core/dependencies.py": DEPENDENCIES,
        "api/__init__.py": "",
        "api/items.py": ITEMS,
        "api/orders.py": ORDERS,
    }


def init_repo(path: Path, files: dict[str, str] | None = None, branch: str = "main") -> git.Repo:
    """A repository at path with a local identity and, when files are given, a first commit."""
    path.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(path, initial_branch=branch)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test Author")
        config.set_value("user", "email", "test@example.com")
        config.set_value("commit", "gpgsign", "false")
    if files:
        write_tree(path, files)
        commit_all(repo, "initial")
    return repo


def commit_all(repo: git.Repo, message: str) -> str:
    repo.git.add("--all")
    repo.git.commit("-m", message)
    return repo.head.commit.hexsha


def committed_files(repo: git.Repo, sha: str | None = None) -> set[str]:
    """Paths the commit changed, relative to the top of the work tree."""
    commit = repo.commit(sha) if sha else repo.head.commit
    return set(commit.stats.files)


def committed_copy(source: Path, target: Path) -> Path:
    """A copy of a sample service committed as it is in a new repository: the before side."""
    from sample import copy_service

    root = copy_service(source, target)
    (root / ".gitignore").write_text("*.db\n__pycache__/\nstorage*/\n", encoding="utf-8")
    commit_all(init_repo(root), "sample service")
    return root
