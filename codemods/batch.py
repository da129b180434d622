"""Batch runs: one phase over many repositories, each on its own branch, committed.

For every application root the phase runs with `--apply --branch NAME --commit`
semantics, through the functions the single commands use (configuration, the
run, codemods/apply.py's refuse, branch, write and commit steps). A failure is
recorded with its message and the batch goes on. Presentation-free: the CLI
renders the outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from async_migrate.codemods import apply as applying
from async_migrate.codemods import run as runner
from async_migrate.codemods.config import ConfigError, load
from async_migrate.codemods.gitstate import GitError

PHASES = ("phase1", "phase2")
STATUSES = ("changed", "unchanged", "failed")


class BatchError(Exception):
    """Bad batch input (a usage error); the message says what is wrong."""


def default_branch(phase: str) -> str:
    return f"async-migrate/{phase}"


@dataclass
class Job:
    """What every repository gets: the phase, its options, the branch."""

    phase: str
    options: runner.Options
    branch: str
    config_file: Path | None = None
    allow_dirty: bool = False


@dataclass
class RepoOutcome:
    root: str
    status: str = "unchanged"  # changed, unchanged or failed
    branch: str | None = None  # the branch holding the changes (None: none checked out or created)
    commit: str | None = None
    files_changed: list[str] = field(default_factory=list)  # relative to the root, as written
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "status": self.status,
            "branch": self.branch,
            "commit": self.commit,
            "files_changed": self.files_changed,
            "error": self.error,
        }


def read_repos(path: Path) -> list[Path]:
    """Application roots listed in path, one per line.

    Blank lines and `#` comments are skipped; a relative root is relative to the file's folder.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BatchError(f"{path}: no such file (--repos lists one application root per line)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BatchError(f"{path}: cannot read: {error}") from None
    roots = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        root = Path(line).expanduser()
        roots.append(root if root.is_absolute() else path.parent / root)
    return roots


def run_one(path: Path, job: Job) -> RepoOutcome:
    """The phase on one application root, with --apply --branch --commit; never raises."""
    from async_migrate.codemods.phase2.closure import SubsystemError

    outcome = RepoOutcome(root=str(path))
    written: list[str] = []
    try:
        root = applying.application_root(path)
        outcome.root = str(root)
        settings = load(root, job.config_file)
        git = applying.Git(branch_requested=job.branch, commit_requested=True)
        applying.prepare(root, git)
        outcome.branch = git.branch
        if job.phase == "phase2":
            result = runner.phase2(root, settings, job.options)
        else:
            result = runner.phase1(root, settings, job.options)
        applying.refuse_dirty(root, result, job.allow_dirty)
        written = applying.write(root, result, git)
        outcome.branch, outcome.files_changed = git.branch, written
        try:
            applying.commit(root, result, written, git)
        except GitError as error:
            raise GitError(f"the changes are written but not committed: {error}") from None
        outcome.commit = git.commit
    except (applying.Refused, ConfigError, GitError, SubsystemError) as error:
        outcome.status, outcome.error = "failed", str(error)
        return outcome
    except Exception as error:  # one repository's crash must not stop the others
        outcome.status, outcome.error = "failed", f"{type(error).__name__}: {error}"
        return outcome
    if result.errors:
        outcome.status = "failed"
        outcome.error = f"{len(result.errors)} files could not be processed: " + "; ".join(
            f"{e['file']}: {e['message']}" for e in result.errors
        )
    else:
        outcome.status = "changed" if written else "unchanged"
    return outcome


def run_batch(
    roots: Iterable[Path], job: Job, done: Callable[[int, RepoOutcome], None] | None = None
) -> list[RepoOutcome]:
    """run_one for every root in turn; done(index, outcome) after each."""
    outcomes = []
    for index, root in enumerate(roots):
        outcome = run_one(root, job)
        outcomes.append(outcome)
        if done is not None:
            done(index, outcome)
    return outcomes


def summary(outcomes: list[RepoOutcome]) -> dict[str, int]:
    return {status: sum(1 for o in outcomes if o.status == status) for status in STATUSES}
