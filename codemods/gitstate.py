"""The target's git state, through gitpython: what may be written without losing work."""

from __future__ import annotations

from pathlib import Path


class GitError(Exception):
    pass


def repository(root: Path):  # type: ignore[no-untyped-def]
    """The repository containing root, or None when root is not in one."""
    try:
        import git
    except ImportError as error:  # git executable missing
        raise GitError(f"git is not available: {error}") from None
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def dirty_files(root: Path, paths: list[str]) -> list[str]:
    """Those of paths (relative to root) with uncommitted or untracked changes."""
    repo = repository(root)
    if repo is None or repo.working_tree_dir is None:
        return []
    top = Path(repo.working_tree_dir).resolve()
    wanted = {(root / path).resolve().relative_to(top).as_posix(): path for path in paths}
    changed: set[str] = set()
    try:
        status = repo.git.status("--porcelain", "-z", "--untracked-files=all", "--", str(root))
    except Exception as error:
        raise GitError(f"cannot read the git status of {root}: {error}") from None
    entries = status.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:]
        if code[0] in "RC":  # renames carry the old name as the next entry
            index += 1
        changed.add(name)
    return sorted(path for repo_path, path in wanted.items() if repo_path in changed)
