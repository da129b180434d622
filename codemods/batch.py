"""Batch runs: one phase over many repositories, each on its own branch, committed.

For every application root the phase runs with `--apply --branch NAME --commit`
semantics, through the functions the single commands use (configuration, the
run, codemods/apply.py's refuse, branch, write and commit steps). A failure is
recorded with its message and the batch goes on. Presentation-free: the CLI
renders the outcomes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from async_migrate.codemods import apply as applying
from async_migrate.codemods import gitstate
from async_migrate.codemods import run as runner
from async_migrate.codemods.config import ConfigError, load
from async_migrate.codemods.gitstate import GitError
from async_migrate.codemods.outcome import plural
from async_migrate.codemods.project import ROUTE_KINDS, Project
from async_migrate.codemods.sources import NO_ROUTES

PHASES = ("phase1", "phase2")
# partial: phase two committed changes and left some routes blocked; blocked: it left routes
# blocked and had nothing to write. Both succeed, as phase2 itself does (exit 0), never "unchanged".
# changed_with_errors: files that could not be processed (exit 3, as the phase itself), while the
# others were written and committed: a script retrying or skipping failures must not miss a
# branch holding a commit, so it is no "failed".
STATUSES = ("changed", "partial", "blocked", "unchanged", "changed_with_errors", "failed")
# The statuses that make the batch exit 3.
FAILING = ("changed_with_errors", "failed")
# Named in a summary line only when a repository has them.
OCCASIONAL = ("partial", "blocked", "changed_with_errors")


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
    allow_override_gap: bool = False


@dataclass
class RepoOutcome:
    root: str
    status: str = "unchanged"  # one of STATUSES
    branch: str | None = None  # the branch holding the changes (None: none checked out or created)
    commit: str | None = None
    files_changed: list[str] = field(default_factory=list)  # relative to the root, as written
    error: str | None = None
    blocked: int = 0  # phase two: handlers left blocked on the synchronous path
    blockers: int = 0  # phase two: the blockers behind them (file and line each)
    # What the analysis could not see under this root (PATH too deep, two folders for one
    # package), as `check` warns of it: a status beside it is no all-clear.
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "status": self.status,
            "branch": self.branch,
            "commit": self.commit,
            "files_changed": self.files_changed,
            "error": self.error,
            "blocked": self.blocked,
            "blockers": self.blockers,
            "warnings": self.warnings,
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


def unique_roots(roots: list[Path]) -> tuple[list[Path], list[Path]]:
    """The roots with each application root once, in the order first given, and those given again
    (the same folder by another spelling too: `shop`, `./shop/`, a symlink to it). A root run twice
    would be reported twice, and its second run would find its own first run's branch."""
    seen: set[Path] = set()
    unique: list[Path] = []
    repeated: list[Path] = []
    for root in roots:
        resolved = root.resolve()
        if resolved in seen:
            repeated.append(resolved)
            continue
        seen.add(resolved)
        unique.append(root)
    return unique, repeated


def _without_root(message: str, *roots: object) -> str:
    """The message without a leading `ROOT: `: every failure is printed after its root already
    (`error: /src/gone: no such directory`, not `error: /src/gone: /src/gone: ...`)."""
    for root in roots:
        if message.startswith(f"{root}: "):
            return message[len(f"{root}: ") :]
    return message


def run_one(path: Path, job: Job) -> RepoOutcome:
    """The phase on one application root, with --apply --branch --commit; raises only on Ctrl-C
    (applying.Interrupted with the files written, or KeyboardInterrupt before any)."""
    from async_migrate.codemods.phase2.closure import SubsystemError

    # Absolute from the start: a root that fails before it is resolved (missing, a file) is named
    # as every other, so a result's roots compare (and --merge's overlap check holds) from any cwd.
    outcome = RepoOutcome(root=str(path.resolve()))
    written: list[str] = []
    try:
        root = applying.application_root(path)
        outcome.root = str(root)
        settings = load(root, job.config_file)
        git = applying.Git(branch_requested=job.branch, commit_requested=True)
        applying.prepare(root, git)
        outcome.branch = git.branch
        if job.phase == "phase2":
            from async_migrate.codemods.phase2 import driver as phase2_driver

            result = phase2_driver.phase2(root, settings, job.options)
        else:
            result = runner.phase1(root, settings, job.options)
        outcome.warnings = list(result.project.blind)
        if result.warnings:  # `--only` selecting nothing here: as the single-root commands, not "unchanged"
            outcome.status, outcome.error = "failed", "; ".join(result.warnings)
            return outcome
        if not _routes(result.project):
            # As `check` exits 2 on it: a root holding no route read nothing to migrate, which is
            # no "unchanged" (a wrong root in the list, or routers of a class the tool does not know).
            outcome.status, outcome.error = "failed", NO_ROUTES
            return outcome
        applying.refuse_dirty(root, result, job.allow_dirty, git)
        applying.refuse_override_gap(result, job.allow_override_gap)
        written = applying.write(root, result, git)
        outcome.branch, outcome.files_changed = git.branch, written
        try:
            applying.commit(root, result, written, git)
        except GitError as error:
            raise GitError(f"the changes are written but not committed: {error}") from None
        except KeyboardInterrupt:
            if git.commit is None:
                applying.note_interrupted(root, result, written)
            raise applying.Interrupted(written, len(written)) from None
        outcome.commit = git.commit
        if git.commit and git.earlier:  # on the branch now, with this run's
            outcome.files_changed = written + [f for f in git.earlier_files if f not in written]
        outcome.warnings += git.earlier_notes()
        if git.commit and git.carried:
            outcome.warnings.append(
                "--allow-dirty --commit: the commit also holds the uncommitted changes these files had before "
                f"the migration: {', '.join(git.carried)}"
            )
        if not written and not result.errors:
            left = gitstate.staged_under(root)
            if left:
                # Nothing left to write because an earlier run wrote it and its commit failed:
                # "unchanged" would pass a branch that does not hold the migration.
                outcome.status = "failed"
                outcome.error = (
                    f"nothing left to write, but {', '.join(left)} under the root "
                    f"{'is' if len(left) == 1 else 'are'} staged and not committed (an earlier run's "
                    "commit that failed?): commit or unstage them, then run again"
                )
                return outcome
    except applying.Interrupted:  # Ctrl-C stops the whole batch (run_batch), never one failure
        raise
    except (applying.Refused, ConfigError, GitError, SubsystemError) as error:
        outcome.status, outcome.error = "failed", _without_root(str(error), path, outcome.root)
        return outcome
    except Exception as error:  # one repository's crash must not stop the others
        outcome.status, outcome.error = "failed", f"{type(error).__name__}: {error}"
        return outcome
    if job.phase == "phase2":
        outcome.blocked = sum(1 for o in result.outcomes if o.action == "blocked")
        outcome.blockers = len((result.subsystem or {}).get("blockers") or ())
    if result.errors:
        outcome.status = "changed_with_errors" if outcome.commit else "failed"
        outcome.error = f"{plural(len(result.errors), 'file')} could not be processed: " + "; ".join(
            f"{e['file']}: {e['message']}" for e in result.errors
        )
    else:
        outcome.status = "changed" if written or outcome.commit else "unchanged"
        if outcome.blocked:  # never "unchanged" (or "changed") alone while routes stay blocked
            outcome.status = "partial" if written or outcome.commit else "blocked"
    return outcome


def _routes(project: Project) -> int:
    """The routes anywhere under the root, as `check` counts them: also those `--only` or an
    exclude leave out of what is reported."""
    return sum(1 for h in project.handlers if h.kind in ROUTE_KINDS) + len(project.unresolved_endpoints)


class BatchInterrupted(Exception):
    """Ctrl-C during a batch: the repositories done so far, and in the one interrupted (root,
    absolute as every outcome's root: a script matches them whatever the cwd) the files already
    written (left uncommitted)."""

    def __init__(self, outcomes: list[RepoOutcome], root: Path, written: list[str], total: int) -> None:
        super().__init__(f"interrupted: {len(outcomes)} of {total} repositories done")
        self.outcomes, self.root, self.written, self.total = outcomes, root, written, total


def run_batch(
    roots: Iterable[Path], job: Job, done: Callable[[int, RepoOutcome], None] | None = None
) -> list[RepoOutcome]:
    """run_one for every root in turn; done(index, outcome) after each. Ctrl-C stops the
    batch (BatchInterrupted): it must not count as one repository's failure and go on."""
    roots = list(roots)
    outcomes: list[RepoOutcome] = []
    for index, root in enumerate(roots):
        try:
            outcome = run_one(root, job)
        except applying.Interrupted as interrupted:
            raise BatchInterrupted(outcomes, root.resolve(), interrupted.written, len(roots)) from None
        except KeyboardInterrupt:
            raise BatchInterrupted(outcomes, root.resolve(), [], len(roots)) from None
        outcomes.append(outcome)
        if done is not None:
            done(index, outcome)
    return outcomes


def summary(outcomes: list[RepoOutcome]) -> dict[str, int]:
    return {status: sum(1 for o in outcomes if o.status == status) for status in STATUSES}


# ------------------------------------------------------------------ sharding and merging


@dataclass(frozen=True)
class Shard:
    """The K-th (1-based) of N slices of the repository list."""

    index: int
    count: int

    def to_json(self) -> dict[str, int]:
        return {"index": self.index, "count": self.count}


def parse_shard(text: str) -> Shard:
    """`K/N` with 1 <= K <= N; BatchError otherwise."""
    parts = text.split("/")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise BatchError(f"--shard {text!r}: expected K/N, like 2/5 (the 2nd of 5 slices)")
    index, count = int(parts[0]), int(parts[1])
    if not 1 <= index <= count:
        raise BatchError(f"--shard {text!r}: K must be between 1 and N")
    return Shard(index, count)


def shard_of(roots: list[Path], shard: Shard) -> list[Path]:
    """The shard's roots: every N-th root of the list, from the K-th on, in list order.

    The same list gives every shard the same slice on every machine, the slices are
    disjoint, together they are the whole list, and their sizes differ by at most one.
    """
    return roots[shard.index - 1 :: shard.count]


@dataclass
class Merged:
    """Per-shard batch documents combined: the repositories of every shard, once each."""

    phase: str
    branch: str
    outcomes: list[RepoOutcome]
    shards: list[Shard] = field(default_factory=list)


def merge(documents: list[tuple[str, Any]]) -> Merged:
    """Combine `batch --format json` documents, given as (file name, parsed JSON).

    BatchError (a usage error) when a document is not a batch result, the phases or
    branches differ, a repository appears twice, or the shards are incomplete (a shard
    of N missing or given twice): a partial merge would read as the whole fan-out's result.
    """
    if not documents:
        raise BatchError("--merge needs the JSON results of the shards (batch --format json)")
    phase = branch = None
    outcomes: list[RepoOutcome] = []
    shards: list[Shard] = []
    seen: dict[str, str] = {}
    for name, document in documents:
        if not isinstance(document, dict) or document.get("command") != "batch" or not isinstance(
            document.get("repositories"), list
        ):
            raise BatchError(f"{name}: not the JSON result of `async-migrate batch --format json`")
        if phase is None:
            phase, branch = document.get("phase"), document.get("branch")
        elif (document.get("phase"), document.get("branch")) != (phase, branch):
            raise BatchError(
                f"{name}: phase {document.get('phase')} on branch {document.get('branch')}, but the "
                f"others ran {phase} on {branch}: results of different batches"
            )
        shard = document.get("shard")
        if isinstance(shard, dict):
            shards.append(Shard(int(shard["index"]), int(shard["count"])))
        for entry in document["repositories"]:
            root = entry.get("root")
            if root in seen:
                raise BatchError(f"{root}: in both {seen[root]} and {name}: overlapping results")
            seen[root] = name
            outcomes.append(
                RepoOutcome(
                    root=root,
                    status=entry.get("status", "failed"),
                    branch=entry.get("branch"),
                    commit=entry.get("commit"),
                    files_changed=list(entry.get("files_changed") or []),
                    error=entry.get("error"),
                    blocked=int(entry.get("blocked") or 0),
                    blockers=int(entry.get("blockers") or 0),
                    warnings=[str(w) for w in entry.get("warnings") or ()],
                )
            )
    _complete(shards, len(documents))
    return Merged(phase or "", branch or "", outcomes, sorted(shards, key=lambda s: s.index))


def _complete(shards: list[Shard], documents: int) -> None:
    if not shards:
        return
    if len(shards) != documents:
        raise BatchError("some results come from a --shard run and some do not: results of different batches")
    counts = {shard.count for shard in shards}
    if len(counts) != 1:
        raise BatchError(f"shards of different splits ({', '.join(f'of {c}' for c in sorted(counts))})")
    (count,) = counts
    given = [shard.index for shard in shards]
    twice = sorted({i for i in given if given.count(i) > 1})
    missing = sorted(set(range(1, count + 1)) - set(given))
    if twice:
        raise BatchError(f"shard {', '.join(f'{i}/{count}' for i in twice)} given twice")
    if missing:
        raise BatchError(f"shard {', '.join(f'{i}/{count}' for i in missing)} missing: the merge would not be complete")


def read_results(paths: list[Path]) -> list[tuple[str, Any]]:
    documents = []
    for path in paths:
        try:
            documents.append((str(path), json.loads(path.read_text(encoding="utf-8"))))
        except FileNotFoundError:
            raise BatchError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as error:
            raise BatchError(f"{path}: cannot read: {error}") from None
        except json.JSONDecodeError as error:
            raise BatchError(f"{path}: not JSON: {error}") from None
    return documents


def shown_statuses(outcomes: list[RepoOutcome]) -> list[str]:
    """The statuses a summary line names: partial, blocked and changed_with_errors only when a
    repository has them."""
    return [s for s in STATUSES if s not in OCCASIONAL or any(o.status == s for o in outcomes)]


def blocked_cell(outcome: RepoOutcome) -> str:
    """`2 (1 blocker)`: handlers left blocked and the blockers behind them; empty when none."""
    return f"{outcome.blocked} ({plural(outcome.blockers, 'blocker')})" if outcome.blocked else ""


def render_markdown(phase: str, branch: str, outcomes: list[RepoOutcome]) -> str:
    """The batch report for a pull request or a job summary: one row per repository."""
    counts = summary(outcomes)
    lines = [
        f"# async-migrate batch {phase}",
        "",
        f"{plural(len(outcomes), 'repository', 'repositories')} on branch `{branch}`: "
        + ", ".join(f"{counts[status]} {status}" for status in shown_statuses(outcomes)) + ".",
        "",
        "| root | status | branch | commit | files | blocked |",
        "| --- | --- | --- | --- | ---: | ---: |",
    ]
    for outcome in outcomes:
        lines.append(
            f"| `{outcome.root}` | {outcome.status} | {outcome.branch or ''} | {(outcome.commit or '')[:12]} "
            f"| {len(outcome.files_changed)} | {blocked_cell(outcome)} |"
        )
    failed = [o for o in outcomes if o.error]
    if failed:
        lines += ["", "## Failures", ""]
        lines += [f"- `{o.root}`: {(o.error or '').replace(chr(10), ' ')}" for o in failed]
    warned = [o for o in outcomes if o.warnings]
    if warned:
        lines += ["", "## Warnings", ""]
        lines += [f"- `{o.root}`: {w.replace(chr(10), ' ')}" for o in warned for w in o.warnings]
    return "\n".join(lines) + "\n"
