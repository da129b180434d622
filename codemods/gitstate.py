"""The target's git state, through gitpython: what may be written without losing work."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path


class GitError(Exception):
    pass


def repository(root: Path):
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
    changed = set(_status_names(repo, root, "--untracked-files=all", "--", str(root)))
    return sorted(path for repo_path, path in wanted.items() if repo_path in changed)


def _status_names(repo, where: object, *options: str) -> list[str]:
    """The paths `git status --porcelain -z` lists (relative to the top of the work tree)."""
    try:
        status = repo.git.status("--porcelain", "-z", *options)
    except Exception as error:
        raise GitError(f"cannot read the git status of {where}: {error}") from None
    names: list[str] = []
    entries = status.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        if entry[0] in "RC":  # renames and copies carry the old name as the next entry
            index += 1
        names.append(entry[3:])
    return names


# ------------------------------------------------------------ --branch and --commit


def require_repository(root: Path):
    """The repository containing root; GitError when there is none."""
    repo = repository(root)
    if repo is None or repo.working_tree_dir is None:
        raise GitError(f"{root} is not inside a git repository (--branch and --commit need one)")
    return repo


def _top(repo) -> Path:
    return Path(repo.working_tree_dir).resolve()


def _has_commit(repo) -> bool:
    try:
        repo.head.commit  # noqa: B018 (reading it raises on an unborn HEAD)
    except ValueError:  # unborn HEAD: a repository without commits
        return False
    return True


def current_branch(repo) -> str | None:
    """The checked-out branch, or None when HEAD is detached."""
    if repo.head.is_detached:
        return None
    return repo.head.reference.name


def check_branch_name(name: str) -> None:
    """GitError unless git accepts name as a branch name (needs no repository)."""
    try:
        import git

        valid = not name.startswith("-") and bool(git.Git().check_ref_format("--branch", name))
    except Exception:
        valid = False
    if not valid:
        raise GitError(f"{name!r} is not a valid branch name")


def branch_exists(repo, name: str) -> bool:
    return any(head.name == name for head in repo.heads)


def uncommitted_tracked(repo) -> list[str]:
    """Tracked files with staged or unstaged changes, relative to the top of the work tree."""
    return sorted(_status_names(repo, repo.working_tree_dir, "--untracked-files=no"))


def staged_under(root: Path) -> list[str]:
    """Files under root (relative to it) whose staged content differs from HEAD: what a commit
    that failed after staging (a hook said no) leaves behind."""
    repo = repository(root)
    if repo is None or repo.working_tree_dir is None or not _has_commit(repo):
        return []
    try:
        names = repo.git.diff("--cached", "--name-only", "-z", "HEAD", "--", str(root))
    except Exception as error:
        raise GitError(f"cannot read the git index of {root}: {_git_message(error)}") from None
    top = Path(repo.working_tree_dir).resolve()
    return sorted((top / name).relative_to(root).as_posix() for name in names.split("\0") if name)


def switch_to_existing(root: Path, name: str) -> bool:
    """Check out the existing branch name; False when there is no such branch.

    Refused (GitError) while tracked files have uncommitted changes: they would be
    carried onto the other branch, or block the switch half-way.
    """
    repo = require_repository(root)
    check_branch_name(name)
    if not branch_exists(repo, name):
        return False
    if current_branch(repo) == name:
        return True
    dirty = uncommitted_tracked(repo)
    if dirty:
        raise GitError(
            f"refusing to switch to the existing branch {name!r}: the work tree has uncommitted "
            "changes that would be carried over (commit or stash them first): " + ", ".join(dirty)
        )
    try:
        repo.git.checkout(name)
    except Exception as error:
        raise GitError(f"cannot switch to the branch {name!r}: {_git_message(error)}") from None
    return True


def create_branch(root: Path, name: str) -> None:
    """Create branch name at the current HEAD and check it out; the work tree is left as it is."""
    repo = require_repository(root)
    check_branch_name(name)
    if branch_exists(repo, name):
        raise GitError(f"the branch {name!r} already exists")
    base = repo.head.commit.hexsha if _has_commit(repo) else None
    try:
        repo.git.checkout("-b", name)
    except Exception as error:
        raise GitError(f"cannot create the branch {name!r}: {_git_message(error)}") from None
    if base is not None:
        # `verify` and `smoke` compare against this commit by default: the migration's starting point.
        try:
            repo.git.config(f"branch.{name}.{BASE_KEY}", base)
        except Exception:
            pass


BASE_KEY = "asyncMigrateBase"
# The subject of the commit `phase1`/`phase2 --commit` writes (`apply.commit_message`): how
# `verify` and `smoke` recognise the migration's own commit to compare against the one before it.
TOOL_COMMIT_SUBJECT = re.compile(r"async-migrate (?:phase1|phase2 [^:\n]+): ")


def branch_base(repo, name: str) -> str | None:
    """The commit a branch made by `--branch` started from, or None when it was not made so."""
    try:
        return repo.git.config("--get", f"branch.{name}.{BASE_KEY}").strip() or None
    except Exception:
        return None


def tool_commits(repo, depth: int = 50) -> list[tuple[str, str]]:
    """(sha, subject) of the commits `--commit` wrote among HEAD's last `depth` first-parent
    ancestors, HEAD first; [] without commits."""
    try:
        log = repo.git.log("--first-parent", f"-n{depth}", "--format=%H%x00%s", "HEAD")
    except Exception:
        return []
    found = []
    for line in log.splitlines():
        sha, _, subject = line.partition("\0")
        if TOOL_COMMIT_SUBJECT.match(subject):
            found.append((sha, subject))
    return found


def changed_since(root: Path, commit: str, paths: list[Path]) -> list[str]:
    """Files under paths (absolute, inside root's work tree) whose working-tree content differs
    from commit's, untracked ones included, ignored ones not; relative to the top of the tree."""
    repo = require_repository(root)
    top = _top(repo)
    inside = []
    for path in paths:
        try:
            inside.append(path.resolve().relative_to(top).as_posix() or ".")
        except ValueError:
            continue
    if not inside:
        return []
    changed = repo.git.diff("--name-only", "--no-renames", commit, "--", *inside).splitlines()
    changed += repo.git.ls_files("--others", "--exclude-standard", "--", *inside).splitlines()
    return sorted(set(filter(None, changed)))


def can_commit(root: Path, branch: str | None) -> None:
    """GitError when a commit could not land on a branch: detached HEAD and no --branch."""
    repo = require_repository(root)
    if branch is None and _has_commit(repo) and repo.head.is_detached:
        raise GitError("HEAD is detached: pass --branch NAME so that the commit lands on a branch")


def repository_paths(root: Path, paths: list[Path]) -> list[str]:
    """Those of paths (absolute) inside root's work tree, relative to its top, ignored ones left out."""
    repo = require_repository(root)
    top = _top(repo)
    inside: list[str] = []
    for path in paths:
        try:
            relative = path.resolve().relative_to(top).as_posix()
        except ValueError:
            continue
        if relative.split("/", 1)[0] == ".git":
            continue
        inside.append(relative)
    if not inside:
        return []
    try:
        ignored = set(repo.ignored(*inside))
    except Exception:
        ignored = set()
    return [path for path in inside if path not in ignored]


def commit_paths(root: Path, paths: list[str], message: str) -> str:
    """Commit exactly paths (relative to the top of the work tree), whatever else is staged.

    Other staged changes stay staged and out of the commit; untracked files stay
    untracked. Returns the new commit's sha.
    """
    repo = require_repository(root)
    if not paths:
        raise GitError("nothing to commit")
    with _one_writer(repo):
        try:
            repo.git.add("--", *paths)
            # With paths, `git commit` takes exactly their work-tree content (--only).
            repo.git.commit("--only", "-m", message, "--", *paths)
        except Exception as error:
            raise GitError(f"cannot commit: {_git_message(error)}") from None
        return repo.head.commit.hexsha


@contextlib.contextmanager
def _one_writer(repo) -> Iterator[None]:
    """Runs committing into one repository at once (a batch sharded over the roots of a monorepo)
    take turns: otherwise git refuses all but one (index.lock exists), leaving their files
    staged, and HEAD read after the commit may already be another run's.

    A lock on the repository's git folder itself, so nothing is left behind; none where the
    platform has no flock."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        handle = os.open(repo.git_dir, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


def git_message(error: Exception) -> str:
    """git's own complaint from a failed command, on one line."""
    return _git_message(error)


def _git_message(error: Exception) -> str:
    stderr = getattr(error, "stderr", None)
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    if stderr:
        text = stderr.strip()
        if text.startswith("stderr:"):
            text = text[len("stderr:"):].strip().strip("'").strip()
        return " ".join(text.split())
    return str(error)


# ------------------------------------------------------------ files an interrupted run wrote

# In the repository's git folder (per work tree), never in the work tree: no run commits it
# and `git status` does not list it. Also without the cache (`--no-cache`), which a rerun may not use.
INTERRUPTED_FILE = "async-migrate-interrupted.json"


def blob_id(data: bytes) -> str:
    """The id git gives a blob of data (`git hash-object`, without filters)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def head_blob(repo, path: str) -> str | None:
    """The blob id of path (relative to the top of the work tree) in HEAD; None when absent."""
    if not _has_commit(repo):
        return None
    try:
        return repo.head.commit.tree[path].hexsha
    except KeyError:
        return None


def work_tree_blob(repo, path: str) -> str | None:
    try:
        return blob_id((_top(repo) / path).read_bytes())
    except OSError:
        return None


def top_of(repo) -> Path:
    return _top(repo)


@contextlib.contextmanager
def interrupted_files(repo) -> Iterator[list[dict]]:
    """The entries an interrupted run recorded (a list the caller may change: it is written
    back, the file removed when empty), while no other run of the tool commits into the
    repository. An unreadable record counts as empty."""
    import json

    path = Path(repo.git_dir) / INTERRUPTED_FILE
    with _one_writer(repo):
        try:
            entries = json.loads(path.read_text(encoding="utf-8")).get("files") or []
            entries = [e for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)]
        except (OSError, ValueError, AttributeError):
            entries = []
        before = list(entries)
        yield entries
        if entries == before:
            return
        if not entries:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps({"files": entries}, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, path)
