"""Writes are atomic: a reader, a crash or an interrupted run sees each file old or new, never half.

`codemods.sources.write_atomic` is exercised directly (permission bits, links, a failure
at every step of the write), and through `phase1 --apply` with the N-th write failing.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from pathlib import Path

import pytest
from conftest import write_tree

import async_migrate.cli.main as cli_main
from async_migrate.codemods import sources

OLD = b"".join(b"line %05d of the original file\n" % i for i in range(2000))
NEW = b"".join(b"LINE %05d OF THE REWRITTEN FILE, LONGER\n" % i for i in range(2500))


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp") or p.name.startswith("."))


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o640, 0o755, 0o2775])  # read-only: tests/test_failures.py
def test_write_atomic_replaces_the_content_and_keeps_the_mode(tmp_path, mode):
    target = tmp_path / "module.py"
    target.write_bytes(OLD)
    target.chmod(mode)
    sources.write_atomic(target, NEW)
    assert target.read_bytes() == NEW
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert not target.is_symlink()
    assert leftovers(tmp_path) == []


def test_write_atomic_writes_through_a_symlink_and_keeps_the_link(tmp_path):
    real = tmp_path / "real" / "module.py"
    real.parent.mkdir()
    real.write_bytes(OLD)
    real.chmod(0o640)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    sources.write_atomic(link, NEW)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_bytes() == NEW
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


class _HalfWriter:
    """A stream that writes half of the data to the real file, then fails like a full disk."""

    def __init__(self, stream, target: Path, exception: BaseException):  # type: ignore[no-untyped-def]
        self.stream, self.target, self.exception = stream, target, exception

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc):  # type: ignore[no-untyped-def]
        self.stream.close()
        return False

    def write(self, data: bytes) -> int:
        self.stream.write(data[: len(data) // 2])
        self.stream.flush()
        # Midway: whoever reads the target now must still see the old file in full.
        assert self.target.read_bytes() == OLD
        raise self.exception

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.stream, name)


def _fail_in_write(monkeypatch, target: Path, exception: BaseException) -> None:  # type: ignore[no-untyped-def]
    real_fdopen = os.fdopen
    monkeypatch.setattr(sources.os, "fdopen", lambda fd, *a, **k: _HalfWriter(real_fdopen(fd, *a, **k),
                                                                                 target, exception))


def _fail_in(name: str):  # type: ignore[no-untyped-def]
    def install(monkeypatch, target: Path, exception: BaseException) -> None:  # type: ignore[no-untyped-def]
        def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
            assert target.read_bytes() == OLD
            raise exception

        monkeypatch.setattr(sources.os, name, broken)

    return install


FAILURES = {
    "write": _fail_in_write,
    "fsync": _fail_in("fsync"),
    "chmod": _fail_in("chmod"),
    "replace": _fail_in("replace"),
}


@pytest.mark.parametrize("exception", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "interrupt"])
@pytest.mark.parametrize("step", sorted(FAILURES))
def test_an_interrupted_write_leaves_the_original_intact_and_no_temporary_file(tmp_path, monkeypatch, step,
                                                                                 exception):
    target = tmp_path / "module.py"
    target.write_bytes(OLD)
    target.chmod(0o640)
    FAILURES[step](monkeypatch, target, exception)
    with pytest.raises(type(exception)):
        sources.write_atomic(target, NEW)
    monkeypatch.undo()
    assert target.read_bytes() == OLD
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_a_concurrent_reader_only_ever_sees_a_whole_file(tmp_path):
    target = tmp_path / "module.py"
    target.write_bytes(OLD)
    seen: set[bytes] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(target.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for index in range(60):
            sources.write_atomic(target, NEW if index % 2 == 0 else OLD)
    finally:
        stop.set()
        reader.join()
    assert seen <= {OLD, NEW}, f"{len(seen - {OLD, NEW})} torn reads"
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------ an interrupted run

ROUTE = """\
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/{name}")
async def read_{name}(session: session_dependency):
    return session.execute("select {name}")
"""
NAMES = [f"r{index}" for index in range(6)]


@pytest.fixture
def routes_app(tmp_path, app_files):  # type: ignore[no-untyped-def]
    files = {**app_files, "api/__init__.py": ""}
    files.update({f"api/{name}.py": ROUTE.replace("{name}", name) for name in NAMES})
    root = write_tree(tmp_path / "app", files)
    old = {name: (root / f"api/{name}.py").read_bytes() for name in NAMES}
    new = {name: data.replace(b"async def", b"def", 1) for name, data in old.items()}
    return root, old, new


class FailingWrites:
    """Stands in for write_atomic: the `fail_on`-th call fails in the given way."""

    def __init__(self, fail_on: int, how: str) -> None:
        self.fail_on, self.how = fail_on, how
        self.calls: list[Path] = []
        self.real = sources.write_atomic

    def __call__(self, path: Path, data: bytes) -> None:
        self.calls.append(Path(path))
        if len(self.calls) != self.fail_on:
            return self.real(path, data)
        if self.how == "refused":  # e.g. a read-only file system: nothing written
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        if self.how == "rename-fails":  # the temporary file is written, the rename fails
            real_replace = os.replace

            def replace(source, destination):  # type: ignore[no-untyped-def]
                raise OSError(errno.EXDEV, "Invalid cross-device link")

            os.replace = replace
            try:
                return self.real(path, data)
            finally:
                os.replace = real_replace
        if self.how == "interrupted":  # Ctrl-C in the middle of writing the data
            real_fsync = os.fsync

            def fsync(fd):  # type: ignore[no-untyped-def]
                raise KeyboardInterrupt

            os.fsync = fsync
            try:
                return self.real(path, data)
            finally:
                os.fsync = real_fsync
        raise AssertionError(self.how)


def _install(monkeypatch, writes: FailingWrites) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sources, "write_atomic", writes)
    if hasattr(cli_main, "write_atomic"):
        monkeypatch.setattr(cli_main, "write_atomic", writes)


def _state(root: Path, old: dict[str, bytes], new: dict[str, bytes]) -> dict[str, str]:
    state = {}
    for name in NAMES:
        data = (root / f"api/{name}.py").read_bytes()
        state[name] = "new" if data == new[name] else "old" if data == old[name] else "HALF"
    return state


@pytest.mark.parametrize("how", ["refused", "rename-fails", "interrupted"])
def test_a_run_whose_second_write_fails_leaves_every_file_old_or_new(how, cli, routes_app, monkeypatch):
    root, old, new = routes_app
    writes = FailingWrites(fail_on=2, how=how)
    _install(monkeypatch, writes)
    result = cli.runner.invoke(cli_main.app, ["phase1", str(root), "--apply", "--jobs", "1", "--format", "json"])
    assert len(writes.calls) >= 2, "the writes did not go through write_atomic"
    failed = writes.calls[1].name[: -len(".py")]
    state = _state(root, old, new)
    assert "HALF" not in state.values(), state
    assert state[failed] == "old", state
    assert state[writes.calls[0].name[: -len(".py")]] == "new", state
    assert leftovers(root / "api") == [], "temporary files left behind"
    if how == "interrupted":
        assert result.exit_code != 0
        assert list(state.values()).count("new") == 1, state  # the run stopped at the interrupted write
    else:
        # A failed write is a named per-file error; the other files are still written.
        assert result.exit_code == 3, result.output
        document = json.loads(result.stdout)
        assert [e["file"] for e in document["errors"]] == [f"api/{failed}.py"], document["errors"]
        assert "write" in document["errors"][0]["message"].lower()
        assert [name for name, value in state.items() if value == "old"] == [failed], state
    # Running again finishes the job.
    monkeypatch.undo()
    again = cli.runner.invoke(cli_main.app, ["phase1", str(root), "--apply", "--format", "json"])
    assert again.exit_code == 0, again.output
    assert set(_state(root, old, new).values()) == {"new"}


def test_a_file_that_could_not_be_written_is_not_reported_as_changed(cli, routes_app, monkeypatch):
    root, old, new = routes_app
    writes = FailingWrites(fail_on=2, how="refused")
    _install(monkeypatch, writes)
    result = cli.runner.invoke(cli_main.app, ["phase1", str(root), "--apply", "--jobs", "1", "--format", "json"])
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    failed = f"api/{writes.calls[1].name}"
    assert failed in {error["file"] for error in document["errors"]}
    assert failed not in document["files_changed"], document["files_changed"]


# ------------------------------------------------------------- phase two: all files or none

PHASE2_ROUTE = """\
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/notes")
async def read_notes(session: session_dependency):
    return list(session.execute("select 1"))
"""


@pytest.fixture
def phase2_app(tmp_path, app_files):  # type: ignore[no-untyped-def]
    root = write_tree(tmp_path / "app", {**app_files, "api/__init__.py": "", "api/notes.py": PHASE2_ROUTE})
    old = {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*.py")}
    return root, old


def _phase2(cli, root: Path):  # type: ignore[no-untyped-def]
    args = ["phase2", str(root), "--subsystem", "api/notes.py", "--apply", "--jobs", "1", "--format", "json"]
    return cli.runner.invoke(cli_main.app, args)


def _unchanged(root: Path, old: dict[str, bytes]) -> bool:
    return all((root / path).read_bytes() == data for path, data in old.items())


@pytest.mark.parametrize("how", ["read-only", "refused", "rename-fails"])
def test_phase2_whose_file_cannot_be_written_writes_none_of_its_files(how, cli, phase2_app, monkeypatch):
    # The router importing the async dependency its module never received would not import:
    # a file phase two cannot write leaves every file of the migration as it was.
    root, old = phase2_app
    if how == "read-only":
        (root / "core/dependencies.py").chmod(0o444)
        writes = FailingWrites(fail_on=0, how=how)
    else:
        writes = FailingWrites(fail_on=2, how=how)
    _install(monkeypatch, writes)
    result = _phase2(cli, root)
    assert result.exit_code == 3, result.output
    document = json.loads(result.stdout)
    assert document["files_changed"] == [], document["files_changed"]
    assert _unchanged(root, old), "phase two left a half-written migration"
    assert leftovers(root / "api") == [] and leftovers(root / "core") == []
    named = {error["file"] for error in document["errors"]}
    assert {"api/notes.py", "core/dependencies.py"} <= named, document["errors"]
    assert any("write" in error["message"] for error in document["errors"])
    monkeypatch.undo()
    (root / "core/dependencies.py").chmod(0o644)
    again = _phase2(cli, root)
    assert again.exit_code == 0, again.output
    assert "async_session_dependency" in (root / "api/notes.py").read_text()


def test_phase2_interrupted_while_writing_restores_the_files_written(cli, phase2_app, monkeypatch):
    root, old = phase2_app
    _install(monkeypatch, FailingWrites(fail_on=2, how="interrupted"))
    result = _phase2(cli, root)
    assert result.exit_code == 130, result.output
    assert _unchanged(root, old), "phase two left a half-written migration"
    assert json.loads(result.stdout)["files_written"] == []
