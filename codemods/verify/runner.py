"""Running the target's code: the "before" worktree, its interpreter, the app import.

Everything here starts processes or touches git; nothing here decides. Errors are
`VerifyError` with the exit code the CLI uses (2: usage, 3: the app does not import
on one side) and a message that says what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from async_migrate.codemods import gitstate
from async_migrate.codemods.config import Config
from async_migrate.codemods.roots import Roots, configured

IMPORT_TIMEOUT = 180.0  # seconds for one import of the application


class VerifyError(Exception):
    """A run that cannot go on; `code` is the exit code (2 usage, 3 import failed on one side)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class AppSpec:
    module: str
    attribute: str

    @classmethod
    def parse(cls, text: str) -> AppSpec:
        """`package.module:attribute` as uvicorn takes it; VerifyError otherwise."""
        module, sep, attribute = text.partition(":")
        parts = module.split(".") + attribute.split(".")
        if not sep or not all(part.isidentifier() for part in parts):
            raise VerifyError(f"--app {text!r}: expected MODULE:ATTRIBUTE, e.g. main:app")
        return cls(module, attribute)

    def __str__(self) -> str:
        return f"{self.module}:{self.attribute}"


def interpreter(python: str | None) -> str:
    """The service's interpreter: --python, else the active virtual environment's, else ours."""
    import sys

    if python is None:
        venv = os.environ.get("VIRTUAL_ENV")
        candidate = Path(venv) / "bin" / "python" if venv else None
        return str(candidate) if candidate is not None and candidate.exists() else sys.executable
    found = shutil.which(python)
    if found is None:
        raise VerifyError(f"--python {python}: no such interpreter")
    return found


def child_env(python: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the service's processes: ours (its configuration and database
    settings), its interpreter's bin folder first on PATH, and stable hashing so that
    FastAPI's generated operation ids do not change between two imports."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST" and not k.startswith("PYTEST_XDIST")}
    env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def import_folders(roots: Roots) -> tuple[str, ...]:
    """The folders, relative to PATH, that the service's imports start from, most specific
    first: `src` for a src layout (`src = ["src"]`, or found from the imports), `..` when PATH
    is itself the package its imports name. Empty when PATH alone is the root."""
    folders: list[str] = []
    for folder, prefix in roots.entries:
        if prefix:
            folders.append("/".join([".."] * prefix.rstrip(".").count(".") + [".."]))
        elif folder:
            folders.append(folder)
    return tuple(folders)


def configured_folders(root: Path, config: Config) -> tuple[str, ...]:
    """`import_folders` for the configured `src` (commands that do not read the project)."""
    if not config.src:
        return ()
    return import_folders(configured(config.src, config.source.parent if config.source else root, root))


def project_folders(root: Path, config: Config) -> tuple[str, ...]:
    """`import_folders` as `scan`, `phase1` and `verify` read them: the configured `src`, else the
    roots found from the imports (a `src/` layout nothing installs) by the same pre-pass, which
    reads the files but analyses nothing. Its warm cache stays unread and unwritten."""
    if config.src:
        return configured_folders(root, config)
    from async_migrate.codemods.options import Options, open_pool
    from async_migrate.codemods.run import collect_project

    options = Options(cache=False)
    with open_pool(root, config, options) as pool:
        project, _, _ = collect_project(root, config, options, pool, keep=())
    return import_folders(project.roots)


def import_env(root: Path, folders: tuple[str, ...]) -> dict[str, str]:
    """`PYTHONPATH` with the service's import folders under `root` (this side's checkout)
    ahead of what it was: without them a src layout's package does not import at all."""
    if not folders:
        return {}
    paths = [str((root / folder).resolve()) for folder in folders]
    return {"PYTHONPATH": os.pathsep.join(filter(None, [*paths, os.environ.get("PYTHONPATH")]))}


def tool_source(name: str) -> str:
    """The text of one of the standalone scripts shipped in this package."""
    return resources.files("async_migrate.codemods.verify").joinpath(name).read_text(encoding="utf-8")


# ------------------------------------------------------------------ git: the "before" side


@dataclass(frozen=True)
class Revision:
    name: str  # as given, or how it was found
    commit: str


def resolve_revision(root: Path, against: str | None) -> Revision:
    """REV as a commit; default the base of the branch `--branch` created, else the commit
    before HEAD when HEAD is the migration's own (`--commit` without `--branch`), else HEAD."""
    repo = gitstate.repository(root)
    if repo is None or repo.working_tree_dir is None:
        raise VerifyError(f"{root} is not inside a git repository: the before side is read from one")
    if against is None:
        branch = gitstate.current_branch(repo) if _has_head(repo) else None
        base = gitstate.branch_base(repo, branch) if branch else None
        against = base or "HEAD"
        name = f"the base of {branch}" if base else "HEAD"  # the printers add the commit
        if base is None and _has_head(repo):
            own = gitstate.tool_commits(repo, 1)
            if own and own[0][0] == repo.head.commit.hexsha and repo.head.commit.parents:
                against = "HEAD~1"
                name = "HEAD~1, the commit before async-migrate's own commit at HEAD"
    else:
        name = against
    try:
        commit = repo.git.rev_parse("--verify", "--quiet", f"{against}^{{commit}}").strip()
    except Exception:
        commit = ""
    if not commit:
        raise VerifyError(f"--against {against}: no such revision in {repo.working_tree_dir}")
    return Revision(name, commit)


# What the service's code is made of, for telling two sides apart: its Python and the files that
# configure how it imports and how its tests run. A report or README written since changes nothing.
_CODE_SUFFIXES = (".py", ".pyi", ".cfg", ".ini", ".toml", ".env")


def require_different(root: Path, revision: Revision, folders: tuple[str, ...] = (), command: str = "verify") -> None:
    """VerifyError (exit 2) when the before side is the same code as the working tree: nothing
    would be compared, and every guard finding would pass as one the change did not bring.
    Names the revision to pass instead: the commit before the latest one `--commit` wrote."""
    repo = gitstate.repository(root)
    assert repo is not None
    paths = [root, *((root / folder) for folder in folders)]
    try:
        changed = gitstate.changed_since(root, revision.commit, paths)
    except Exception:
        return  # git cannot tell: the comparison runs as asked
    if any(path.endswith(_CODE_SUFFIXES) for path in changed):
        return
    own = gitstate.tool_commits(repo)
    if own:
        sha, subject = own[0]
        hint = f"pass --against {sha[:12]}~1, the commit before async-migrate's own `{subject.rstrip()}` ({sha[:12]})"
    else:
        hint = "pass --against the commit the migration started from (e.g. HEAD~1 when the last commit is the migration)"
    why = (
        "every guard finding would pass as one the change did not bring" if command == "verify"
        else "both sides would measure the same code"
    )
    raise VerifyError(
        f"the before side, {revision.name} ({revision.commit[:12]}), is the same code as the working tree: "
        f"{command} would compare nothing ({why}); {hint}"
    )


# Where the side's interpreter finds the application's top-level package, with the import path
# uvicorn gives it (`--app-dir` first): found, not imported, so no code of the service runs.
_ORIGIN = """import sys, importlib.util as u
sys.path.insert(0, sys.argv[1])
spec = u.find_spec(sys.argv[2])
places = [spec.origin] if spec and spec.origin not in (None, "namespace") else list(spec.submodule_search_locations or []) if spec else []
print(places[0] if places else "")
"""


def import_origin(python: str, root: Path, app_dir: Path, module: str, env: dict[str, str]) -> Path | None:
    """The file (or namespace folder) one side's server would import `module`'s top-level package
    from; None when it finds none, or cannot tell (starting the server then says why)."""
    try:
        proc = subprocess.run(
            [python, "-c", _ORIGIN, str(app_dir), module.split(".")[0]], cwd=root, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=IMPORT_TIMEOUT, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = proc.stdout.strip().splitlines()
    return Path(found[-1]).resolve() if proc.returncode == 0 and found and found[-1] else None


def own_checkouts(root: Path, before_root: Path) -> dict[str, Path]:
    """Each side's whole checkout, where its application may import from: the working tree's
    repository and the before side's worktree (PATH may be a folder of either)."""
    repo = gitstate.repository(root)
    assert repo is not None and repo.working_tree_dir is not None
    top = Path(repo.working_tree_dir).resolve()
    depth = len(root.resolve().relative_to(top).parts)
    before = before_root.resolve()
    return {"before": before.parents[depth - 1] if depth else before, "after": top}


def require_own_code(
    label: str, revision: Revision, module: str, origin: Path, checkouts: dict[str, Path], command: str = "smoke"
) -> None:
    """VerifyError (exit 2) when one side would import the application from outside its own
    checkout: the before side from the working tree (through PYTHONPATH, say), or either from an
    installed copy. Its numbers would be another code's, and the comparison nothing."""
    own = checkouts[label]
    if origin == own or own in origin.parents:
        return
    head = module.split(".")[0]
    side = f"the before side, {revision.name} ({revision.commit[:12]})," if label == "before" else "the working tree"
    working = checkouts["after"]
    where = "the working tree" if working == origin or working in origin.parents else "outside its checkout"
    if label == "after":
        consequence = "the after side would not measure the working tree's code"
    elif where == "the working tree":
        consequence = "both sides would measure the working tree's code"
    else:
        consequence = f"the before side would not measure {revision.name}'s code"
    entries = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    through = next(
        (entry for entry in entries if (placed := Path(entry).resolve()) == origin or placed in origin.parents), None
    )
    folder = origin.parent if origin.name == "__init__.py" else origin
    folder = folder.parent if folder.name == head or folder.name == f"{head}.py" else folder
    src = f'src = ["{folder.relative_to(working).as_posix()}"]' if working in folder.parents else 'src'
    fix = (
        f"PYTHONPATH ({through}) puts it first: leave that entry out, {command} puts each side's own import folders "
        f"on the path itself (set {src} in [tool.async-migrate] when they are not found from the imports)"
        if through is not None
        else f"set {src} in [tool.async-migrate] so that each side's own import folders come first"
    )
    raise VerifyError(f"{side} imports `{head}` from {origin}, {where}: {consequence}; {fix}")


def _has_head(repo) -> bool:
    try:
        repo.head.commit  # noqa: B018 (reading it raises ValueError on an unborn HEAD)
    except ValueError:
        return False
    return True


@contextmanager
def before_tree(root: Path, revision: Revision) -> Iterator[Path]:
    """The application root as it was at the revision, in a temporary `git worktree`.

    The user's checkout is never touched; the worktree and its folder are removed on
    the way out, whatever happened.
    """
    repo = gitstate.repository(root)
    assert repo is not None and repo.working_tree_dir is not None
    top = Path(repo.working_tree_dir).resolve()
    scratch = Path(tempfile.mkdtemp(prefix="async-migrate-before-"))
    tree = scratch / "tree"
    added = False
    try:
        try:
            repo.git.worktree("add", "--detach", "--quiet", str(tree), revision.commit)
            added = True
        except Exception as error:
            raise VerifyError(f"cannot check out {revision.name} into a worktree: {gitstate.git_message(error)}") from None
        relative = root.resolve().relative_to(top)
        before_root = tree / relative
        if not before_root.is_dir():
            raise VerifyError(f"{relative} does not exist at {revision.name}")
        yield before_root
    finally:
        if added:
            try:
                repo.git.worktree("remove", "--force", str(tree))
            except Exception:
                pass
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            repo.git.worktree("prune")
        except Exception:
            pass


# ------------------------------------------------------------------ importing the app


@dataclass
class Imported:
    document: dict[str, Any] | None
    error: str | None  # the import's own traceback (its last lines) when it failed


def import_app(
    python: str, root: Path, app: AppSpec, timeout: float = IMPORT_TIMEOUT, folders: tuple[str, ...] = (),
    session_dependencies: Iterable[str] = (),
) -> Imported:
    """Import the application under its interpreter from root (and its import `folders` under
    root); its contract document. `session_dependencies` (`module.qualname`) are the Session
    dependencies the static analysis found, also those whose annotations do not say so."""
    with tempfile.TemporaryDirectory(prefix="async-migrate-import-") as scratch:
        out = Path(scratch) / "contract.json"
        known = {"ASYNC_MIGRATE_SESSION_DEPENDENCIES": "\n".join(sorted(session_dependencies))}
        env = child_env(python, {"PYTHONDONTWRITEBYTECODE": "1", **known, **import_env(root, folders)})
        try:
            proc = subprocess.run(
                [python, "-c", tool_source("introspect.py"), str(app), str(out)],
                cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Imported(None, f"importing {app} took longer than {timeout:.0f} s")
        except OSError as error:
            raise VerifyError(f"cannot run {python}: {error}") from None
        if proc.returncode != 0 or not out.exists():
            lines = (proc.stderr or proc.stdout or f"exit status {proc.returncode}").strip().splitlines()
            return Imported(None, "\n".join(lines[-12:]))
        return Imported(json.loads(out.read_text(encoding="utf-8")), None)
