"""Writing a run's changes: the dirty-tree refusal, `--branch`, atomic writes, `--commit`.

Shared by the phase commands and by batch runs, in this order:

1. `prepare(root, git)` before the analysis: the repository exists, and an existing
   `--branch` is checked out (the analysis must read that branch's files);
2. `refuse_dirty(root, result, allow_dirty, git)`: never overwrite uncommitted work, and
   `refuse_override_gap(result, allowed)`: never leave the tests on the application's database;
3. `write(root, result, git)`: a new `--branch` is created from HEAD, then every changed
   file is replaced atomically;
4. `commit(root, result, written, git, extra)`: exactly the written files (and extra
   files such as the report, when inside the repository) are committed, with those an
   interrupted phase one wrote and left uncommitted, when they still hold exactly what it
   wrote over HEAD's content (`refuse_dirty` finds them, `note_interrupted` records them).

Presentation-free: errors are exceptions whose message says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from async_migrate.codemods import gitstate, sources
from async_migrate.codemods.gitstate import GitError
from async_migrate.codemods.handlers import HandlerKind
from async_migrate.codemods.outcome import TASK_KIND, plural

if TYPE_CHECKING:
    from async_migrate.codemods.outcome import Outcome
    from async_migrate.codemods.run import Result
    from async_migrate.codemods.workers import Rewritten


class Refused(Exception):
    """The run must not write (a usage-level refusal: exit 2); the message says why."""


class Interrupted(Exception):
    """Ctrl-C while writing: the file being written was finished, the rest left alone."""

    def __init__(self, written: list[str], total: int) -> None:
        super().__init__(f"interrupted: wrote {len(written)} of {total} files")
        self.written = written
        self.total = total


@contextlib.contextmanager
def _interrupt_between_files() -> Iterator[list[int]]:
    """Ctrl-C is noted instead of raised, so the file being written is finished; the caller
    stops before the next. Only the main thread can own the handler: elsewhere, nothing changes."""
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    previous = signal.signal(signal.SIGINT, lambda number, frame: noted.append(number))
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def application_root(path: Path) -> Path:
    """PATH checked and resolved: it must be an existing directory."""
    if not path.exists():
        raise Refused(f"{path}: no such directory")
    if not path.is_dir():
        # Most linters take a file: say how to narrow the run to one instead.
        root = next((d for d in path.resolve().parents if (d / "pyproject.toml").is_file() or (d / ".git").exists()), None)
        hint = ""
        if root is not None:
            hint = f"; to look at this file only, run on the application's root with `--only {path.resolve().relative_to(root).as_posix()}`"
        raise Refused(f"{path}: not a directory (PATH is the root of the application){hint}")
    return path.resolve()


@dataclass
class Git:
    """What `--branch` and `--commit` ask for, and what was done about it."""

    branch_requested: str | None = None
    commit_requested: bool = False
    branch: str | None = None  # the branch checked out for the changes
    created: bool = False  # it was created from HEAD by this run
    commit: str | None = None  # sha of the commit made
    committed: list[str] = field(default_factory=list)  # paths relative to the top of the work tree
    message: str | None = None
    # written files that had uncommitted changes before the run (`--allow-dirty`): committed with them
    carried: list[str] = field(default_factory=list)
    # files an interrupted phase one wrote over HEAD's content and did not commit, unchanged
    # since (entries of gitstate.interrupted_files, with "file" relative to the root): committed
    # with this run's, so that the branch holds the whole migration
    earlier: list[dict[str, Any]] = field(default_factory=list)
    # files an interrupted run wrote and someone changed since (relative to the root): left out
    earlier_changed: list[str] = field(default_factory=list)

    @property
    def earlier_files(self) -> list[str]:
        return [entry["file"] for entry in self.earlier]

    @property
    def wanted(self) -> bool:
        return self.branch_requested is not None or self.commit_requested

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "branch": self.branch,
            "branch_created": self.created,
            "commit": self.commit,
            "committed": self.committed,
        }
        if self.commit and self.carried:
            document["carried_uncommitted"] = self.carried
        if self.commit and self.earlier:
            document["interrupted_run_committed"] = self.earlier_files
        if self.earlier_changed:
            document["interrupted_run_changed_since"] = self.earlier_changed
        return document

    def earlier_notes(self) -> list[str]:
        """What the commit took from an interrupted run, and what it left out: said on every
        run that commits, never a silent "nothing written"."""
        notes = []
        if self.commit and self.earlier:
            notes.append(
                f"also committed {len(self.earlier)} file{'s' if len(self.earlier) != 1 else ''} an interrupted "
                f"run had written: {', '.join(self.earlier_files)}"
            )
        if self.earlier_changed:
            notes.append(
                f"not committed: {', '.join(self.earlier_changed)}, written by an interrupted run and changed since "
                "(not the tool's output alone): review them and commit them yourself, or check them out and run again"
            )
        return notes


def prepare(root: Path, git: Git) -> None:
    """Before the analysis: a repository is there, and an existing branch is checked out."""
    if not git.wanted:
        return
    gitstate.require_repository(root)
    if git.branch_requested is not None:
        if gitstate.switch_to_existing(root, git.branch_requested):
            git.branch = git.branch_requested
    if git.commit_requested:
        gitstate.can_commit(root, git.branch_requested)


def refuse_dirty(root: Path, result: Result, allow_dirty: bool, git: Git | None = None) -> None:
    """Refused when a file to be written has uncommitted changes, unless allow_dirty. Allowed
    with `--commit`, those files are noted in `git.carried`: the commit takes their whole
    content, the user's own uncommitted changes with the migration's."""
    if git is not None:
        find_earlier(root, result, git)
    changed = result.changed
    if not changed or (allow_dirty and (git is None or not git.commit_requested)):
        return
    dirty = gitstate.dirty_files(root, [change.path for change in changed])
    if git is not None:  # the tool's own output, committed with this run's
        dirty = [path for path in dirty if path not in git.earlier_files]
    if allow_dirty:
        assert git is not None
        git.carried = dirty
        return
    if dirty:
        raise Refused(
            "refusing to write into files with uncommitted changes (commit or stash them, "
            "or pass --allow-dirty): " + ", ".join(dirty)
        )


def refuse_override_gap(result: Result, allowed: bool) -> None:
    """Refused when phase two would move routes off a session dependency the tests override
    (`app.dependency_overrides[get_db] = ...`) onto the async one they do not: the tests would
    then run against the application's own database. Unless allowed (the override is added next)."""
    gaps = (result.subsystem or {}).get("override_follow_ups") or []
    if not gaps or allowed or not result.changed:
        return
    raise Refused(
        "refusing to write: after this migration the migrated routes would escape the tests' database "
        "override (or the transaction it rolls back), and the tests would write to the application's own "
        "database (or leave their rows in the test database):\n  "
        + "\n  ".join(gaps)
        + "\nadd the async override first (over an async stack written by hand, which phase two reuses), "
        "or pass --allow-override-gap to write now and add the override before the tests run again"
    )


def write(
    root: Path, result: Result, git: Git | None = None, progress: Callable[[str, int, int], None] | None = None
) -> list[str]:
    """Create a new --branch from HEAD (when anything changes), then write every change atomically.

    A file that cannot be written (read-only, a permission error) is added to result.errors;
    the written paths are returned. Ctrl-C finishes the file being written and raises
    Interrupted with the paths written so far.

    Phase one's changes stand alone (a route turned `def` needs nothing from another file), so
    the others are still written. Phase two's do not: a router importing the async dependency
    that its module never received fails at import. Its files are all written or none: each is
    checked before the first write, and a write failing after that restores those written.
    """
    from async_migrate.codemods.options import CURRENT  # not at import: `--help` needs no workers

    changed = result.changed
    if not changed:
        return []
    together = result.command == "phase2"
    if together:
        problems = _unwritable(root, changed)
        if problems:
            _refuse_all(result, changed, problems)
            return []
    if git is not None and git.branch_requested is not None and git.branch is None:
        gitstate.create_branch(root, git.branch_requested)
        git.branch, git.created = git.branch_requested, True
    written: list[str] = []
    with _interrupt_between_files() as interrupted:
        for change in changed:
            if interrupted:
                if together:
                    written = _restore(root, changed, written)
                note_interrupted(root, result, written)
                raise Interrupted(written, len(changed))
            CURRENT.file = change.path
            try:
                _write_one(root, change)
            except KeyboardInterrupt:  # raised, not noted: off the main thread
                if not together:
                    note_interrupted(root, result, written)
                    raise
                raise Interrupted(_restore(root, changed, written), len(changed)) from None
            except OSError as error:
                if together:
                    written = _restore(root, changed, written)
                    _refuse_all(result, changed, {change.path: f"cannot write: {error.strerror or error}"})
                    return written  # what could not be restored: still written, and named
                change.error = f"cannot write: {error.strerror or error}"  # no longer counted as changed
                result.errors.append({"file": change.path, "message": change.error})
            else:
                written.append(change.path)
            if progress is not None:
                progress("write", len(written), len(changed))
        if interrupted:
            if together:
                written = _restore(root, changed, written)
            note_interrupted(root, result, written)
            raise Interrupted(written, len(changed))
    CURRENT.file = None
    return written


def note_interrupted(root: Path, result: Result, written: list[str]) -> None:
    """Record, in the repository's git folder, the files an interrupted phase one wrote and did
    not commit: the blob ids of what each held before and after, and the handlers it converted.
    A later run that commits takes them (find_earlier) while they still hold exactly that over
    HEAD's content, where it would otherwise find them already converted, write nothing, and
    commit the rest without them. Phase two's files go together and are put back when
    interrupted: nothing to record. Never raises: the interrupt is what the user must see."""
    if result.command != "phase1" or not written:
        return
    try:
        repo = gitstate.repository(root)
        if repo is None or repo.working_tree_dir is None:
            return
        top = gitstate.top_of(repo)
        changes = {change.path: change for change in result.changed}
        new: list[dict[str, Any]] = []
        for path in written:
            change = changes.get(path)
            if change is None:
                continue
            mine = [o for o in result.outcomes if o.handler.module.path == path]
            converted = [o for o in mine if o.action == "convert"]
            new.append({
                "path": (root / path).resolve().relative_to(top).as_posix(),
                "command": result.command,
                "before": gitstate.blob_id(change.before),
                "after": gitstate.blob_id(change.after),
                "converted": [_label(o) for o in converted],
                "tasks": sum(1 for o in converted if o.handler.kind == TASK_KIND),
                "offloaded": [_label(o) for o in mine if o.action != "convert" and o.offload],
            })
        paths = {entry["path"] for entry in new}
        with gitstate.interrupted_files(repo) as entries:
            entries[:] = [entry for entry in entries if entry["path"] not in paths] + new
    except Exception:
        pass


def find_earlier(root: Path, result: Result, git: Git) -> None:
    """With --commit: the files under root an interrupted run of the same command recorded
    (note_interrupted), into git.earlier while HEAD still holds what they held before it and
    the work tree exactly what it wrote, else into git.earlier_changed; those whose work-tree
    content is HEAD's (committed since, or put back) are forgotten."""
    if not git.commit_requested or result.command != "phase1":
        return
    git.earlier, git.earlier_changed = [], []
    repo = gitstate.repository(root)
    if repo is None or repo.working_tree_dir is None:
        return
    top = gitstate.top_of(repo)
    try:
        under = root.resolve().relative_to(top).as_posix()
    except ValueError:
        return
    prefix = "" if under in ("", ".") else under + "/"
    try:
        with gitstate.interrupted_files(repo) as entries:
            kept = []
            for entry in entries:
                path = entry["path"]
                if entry.get("command") != result.command or not path.startswith(prefix):
                    kept.append(entry)
                    continue
                now = gitstate.work_tree_blob(repo, path)
                if now == gitstate.head_blob(repo, path):
                    continue
                kept.append(entry)
                file = path[len(prefix):]
                if now == entry.get("after") and gitstate.head_blob(repo, path) == entry.get("before"):
                    git.earlier.append({**entry, "file": file})
                else:
                    git.earlier_changed.append(file)
            entries[:] = kept
    except OSError:
        pass  # the record could not be rewritten (a read-only git folder): what was found stands


def _write_one(root: Path, change: Rewritten) -> None:
    now = (root / change.path).read_bytes()
    if now not in (change.before, change.after):
        # Saved by an editor or another run since the analysis read it: writing
        # would lose that change, and the rewrite was planned on the old text.
        raise OSError(errno.EAGAIN, "changed on disk since it was read; left unchanged (run again)")
    if now != change.after:  # a concurrent run of the same rewrite may have written it
        sources.write_atomic(root / change.path, change.after)  # looked up here: tests patch it


def _unwritable(root: Path, changed: list[Rewritten]) -> dict[str, str]:
    """What write_atomic would refuse, per file, found before anything is written."""
    problems: dict[str, str] = {}
    for change in changed:
        try:
            now = (root / change.path).read_bytes()
            if now not in (change.before, change.after):
                raise OSError(errno.EAGAIN, "changed on disk since it was read; left unchanged (run again)")
            sources.check_writable((root / change.path).resolve())
        except OSError as error:
            problems[change.path] = f"cannot write: {error.strerror or error}"
    return problems


def _refuse_all(result: Result, changed: list[Rewritten], problems: dict[str, str]) -> None:
    """Every change of a migration that goes together is left unwritten; each file is named."""
    failed = ", ".join(sorted(problems))
    for change in changed:
        change.error = problems.get(change.path) or (
            f"not written: phase two's changes go together, and {failed} could not be written"
        )
        result.errors.append({"file": change.path, "message": change.error})


def _restore(root: Path, changed: list[Rewritten], written: list[str]) -> list[str]:
    """Put back what the written files held before; returns those that could not be restored."""
    before = {change.path: change.before for change in changed}
    left: list[str] = []
    for path in written:
        try:
            sources.write_atomic(root / path, before[path])
        except OSError:
            left.append(path)
    return left


def commit(
    root: Path, result: Result, written: list[str], git: Git, extra: tuple[Path, ...] = ()
) -> str | None:
    """Commit exactly the written files, plus those of extra inside the repository (not ignored),
    and those an interrupted run wrote (git.earlier, found by refuse_dirty)."""
    if not git.commit_requested or not (written or git.earlier):
        return None
    paths = gitstate.repository_paths(root, [root / path for path in written])
    paths += [entry["path"] for entry in git.earlier if entry["path"] not in paths]
    paths += [p for p in gitstate.repository_paths(root, list(extra)) if p not in paths]
    git.message = commit_message(result, written, git.earlier)
    git.commit = gitstate.commit_paths(root, paths, git.message)
    git.committed = paths
    if git.earlier:
        done = set(paths)
        try:
            repo = gitstate.require_repository(root)
            with gitstate.interrupted_files(repo) as entries:
                entries[:] = [entry for entry in entries if entry["path"] not in done]
        except (GitError, OSError):
            pass  # the next run finds them committed (HEAD's content) and forgets them
    if git.branch is None:  # no --branch: the commit is on the branch checked out (none when detached)
        repo = gitstate.repository(root)
        git.branch = gitstate.current_branch(repo) if repo is not None else None
    return git.commit


# ------------------------------------------------------------------ the commit message


def _label(outcome: Outcome) -> str:
    handler = outcome.handler
    name = handler.function.qualname
    if handler.kind == HandlerKind.DEPENDENCY:
        return f"{name} (dependency)"
    return f"{name} ({outcome.route})" if outcome.route else name


def _by_file(outcomes: list[Outcome], more: dict[str, list[str]] | None = None) -> list[str]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for outcome in outcomes:
        grouped[outcome.handler.module.path].append(_label(outcome))
    for path, labels in (more or {}).items():
        if labels:
            grouped[path] += labels
    return [f"- {path}: {', '.join(labels)}" for path, labels in sorted(grouped.items())]


def commit_message(result: Result, written: list[str], earlier: list[dict[str, Any]] | None = None) -> str:
    """`async-migrate phase1: 32 handlers to def in 6 files`, and a body listing files and handlers;
    earlier: the files an interrupted run wrote, committed with these (entries of git.earlier)."""
    earlier = earlier or []
    files = set(written) | {entry["file"] for entry in earlier}
    outcomes = [o for o in result.outcomes if o.handler.module.path in files]
    body: list[str] = []
    if result.command == "phase2":
        name = (result.subsystem or {}).get("name") or "subsystem"
        migrated = [o for o in outcomes if o.action == "migrate"]
        subject = (
            f"async-migrate phase2 {name}: {plural(len(migrated), 'route')} to AsyncSession "
            f"in {plural(len(files), 'file')}"
        )
        if migrated:
            body += ["Routes moved to AsyncSession:", *_by_file(migrated), ""]
        helpers = [
            h for h in (result.subsystem or {}).get("helpers", ()) if h.get("action") in ("migrate", "twin")
        ]
        if helpers:
            body.append("Helpers:")
            body += [
                # a migrated `__init__` stays `def` and a dependency may have been async already:
                # what they all share is the AsyncSession they now take
                f"- {h['file']}: {h['function']} ({'async twin' if h['action'] == 'twin' else 'on AsyncSession'})"
                for h in helpers
            ]
            body.append("")
        blocked = [o for o in result.outcomes if o.action == "blocked"]
        if blocked:
            body += ["Still on the synchronous Session:", *_by_file(blocked)]
            body.append("")
    else:
        converted = [o for o in outcomes if o.action == "convert"]
        offloaded = [o for o in outcomes if o.action != "convert" and o.offload]
        earlier_converted = {entry["file"]: list(entry.get("converted") or ()) for entry in earlier}
        earlier_offloaded = {entry["file"]: list(entry.get("offloaded") or ()) for entry in earlier}
        count = len(converted) + sum(len(labels) for labels in earlier_converted.values())
        offloads = len(offloaded) + sum(len(labels) for labels in earlier_offloaded.values())
        tasks = sum(1 for o in converted if o.handler.kind == TASK_KIND)  # no handler: named as what it is
        tasks += sum(int(entry.get("tasks") or 0) for entry in earlier)
        named = [plural(count - tasks, "handler")] if count > tasks or not tasks else []
        counts = " and ".join([*named, *([plural(tasks, "background task")] if tasks else [])]) + " to def"
        if offloads:
            counts += f" and {offloads} with blocking calls offloaded"
        subject = f"async-migrate {result.command}: {counts} in {plural(len(files), 'file')}"
        if count:
            body += ["Now `def` (FastAPI runs them in its threadpool):", *_by_file(converted, earlier_converted), ""]
        if offloads:
            body += ["Still `async def`, blocking helper calls wrapped in run_in_threadpool:"]
            body += [*_by_file(offloaded, earlier_offloaded), ""]
        if earlier:
            body += ["Written by an interrupted run, committed now:"]
            body += [f"- {entry['file']}" for entry in sorted(earlier, key=lambda e: e["file"])] + [""]
    body += ["Files:", *(f"- {path}" for path in sorted(files))]
    return subject + "\n\n" + "\n".join(body) + "\n"
