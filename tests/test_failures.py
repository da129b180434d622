"""Failures and interrupts: bad --diff-file (2), read-only files (3), Ctrl-C (130), internal
errors (4). Each leaves every file either untouched or fully written, and says which."""

from __future__ import annotations

import os
import signal
import stat
import sys
import time
from pathlib import Path

import pytest

ROUTE = """
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/{name}")
async def read_{name}(session: session_dependency):
    return session.execute("select 1").all()
"""


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    files = {f"api/r{i}.py": ROUTE.replace("{name}", f"r{i}") for i in range(5)}
    return project({**app_files, "api/__init__.py": "", **files})


def snapshot(root) -> dict:  # type: ignore[no-untyped-def]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def err(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.stderr.split())


# ------------------------------------------------------------------ --diff-file


@pytest.mark.parametrize(
    ("where", "message"),
    [("missing/x.patch", "no such directory"), (".", "is a directory")],
)
def test_a_bad_diff_file_is_refused_before_any_work(cli, app, tmp_path, monkeypatch, where, message):
    from async_migrate.codemods import run

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the analysis ran")

    monkeypatch.setattr(run, "phase1", never)
    before = snapshot(app)
    result = cli("phase1", app, "--apply", "--diff-file", tmp_path / where)
    assert result.exit_code == 2
    assert message in err(result) and "Traceback" not in result.output
    assert snapshot(app) == before


def test_a_good_diff_file_is_written(cli, app, tmp_path):
    patch = tmp_path / "phase1.patch"
    assert cli("phase1", app, "--diff-file", patch).exit_code == 0
    assert patch.read_text(encoding="utf-8").count("+def read_r") == 5


# ------------------------------------------------------------------ read-only files


def test_a_read_only_file_is_refused_and_named(cli, app):
    target = app / "api" / "r2.py"
    before = target.read_bytes()
    target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        result = cli("phase1", app, "--apply")
        assert result.exit_code == 3
        assert target.read_bytes() == before
        assert "error: api/r2.py: cannot write: read-only file" in result.stderr
        assert ".tmp" not in result.stderr
        assert result.stderr.splitlines()[-1].endswith("wrote 4 files; 1 file failed")
        for other in ("r0", "r1", "r3", "r4"):
            assert f"def read_{other}(" in (app / "api" / f"{other}.py").read_text()
        assert not list(app.rglob("*.tmp"))
    finally:
        target.chmod(0o644)


def test_a_permission_error_names_the_real_file_not_the_temporary(cli, app, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", "/somewhere/.r1.py.abc123.tmp")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    result = cli("phase1", app, "--apply", "--format", "json")
    assert result.exit_code == 3
    import json

    document = json.loads(result.stdout)
    assert {e["file"] for e in document["errors"]} == {f"api/r{i}.py" for i in range(5)}
    assert all(e["message"] == "cannot write: Permission denied" for e in document["errors"])
    assert document["files_changed"] == []


def test_write_atomic_names_the_target_in_the_exception(tmp_path):
    from async_migrate.codemods.sources import write_atomic

    target = tmp_path / "x.py"
    target.write_text("x = 1\n")
    target.chmod(0o444)
    with pytest.raises(PermissionError) as raised:
        write_atomic(target, b"x = 2\n")
    assert raised.value.filename == str(target)
    assert target.read_text() == "x = 1\n"


def test_a_file_saved_during_the_run_is_not_overwritten(cli, app, monkeypatch):
    # An editor (or a second run) saves api/r1.py after the analysis read it: writing the
    # rewrite of the old text would lose that save. The others are written; r1 is named.
    from async_migrate.codemods import apply as applying

    real = applying.refuse_dirty
    saved = ROUTE.replace("{name}", "r1") + "\n\nEDITED = True\n"

    def save_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        (app / "api/r1.py").write_text(saved, encoding="utf-8")
        return real(*args, **kwargs)

    monkeypatch.setattr(applying, "refuse_dirty", save_meanwhile)
    result = cli("phase1", app, "--apply")
    assert result.exit_code == 3, result.output
    assert (app / "api/r1.py").read_text(encoding="utf-8") == saved
    assert "api/r1.py: cannot write: changed on disk since it was read" in err(result)
    assert all("async def" not in (app / f"api/r{i}.py").read_text() for i in (0, 2, 3, 4))


def test_two_runs_at_once_both_succeed(cli, app, monkeypatch):
    # Both read the files before either wrote: the second finds the first's rewrite, which is
    # its own, and counts it written instead of failing it as changed on disk.
    from async_migrate.codemods import apply as applying
    from async_migrate.codemods import sources

    real = applying.refuse_dirty
    expected = {}

    def other_run_meanwhile(root, result, *args, **kwargs):  # type: ignore[no-untyped-def]
        for change in result.changed:
            expected[change.path] = change.after
            sources.write_atomic(root / change.path, change.after)
        return real(root, result, *args, **kwargs)

    monkeypatch.setattr(applying, "refuse_dirty", other_run_meanwhile)
    result = cli("phase1", app, "--apply", "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(expected) == 5
    assert {path: (app / path).read_bytes() for path in expected} == expected


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_while_writing_finishes_the_file_and_names_what_was_written(cli, app, monkeypatch):
    from async_migrate.codemods import sources

    real = sources.write_atomic
    calls = []

    def write_then_interrupt(path, data):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # arrives while this file is being written
        real(path, data)

    monkeypatch.setattr(sources, "write_atomic", write_then_interrupt)
    result = cli("phase1", app, "--apply")
    assert result.exit_code == 130
    assert result.stderr.splitlines() == [
        "async-migrate: interrupted: wrote 2 of 5 files",
        "  api/r0.py",
        "  api/r1.py",
    ]
    assert [p.name for p in calls] == ["r0.py", "r1.py"]
    assert "def read_r1(" in (app / "api/r1.py").read_text()
    assert "async def read_r2(" in (app / "api/r2.py").read_text()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_during_the_analysis_writes_nothing(cli, app, monkeypatch):
    from async_migrate.codemods import run

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "decide", interrupted)
    before = snapshot(app)
    result = cli("phase1", app, "--apply")
    assert result.exit_code == 130
    assert result.stderr == "async-migrate: interrupted: nothing written\n"
    assert snapshot(app) == before


def test_ctrl_c_after_the_writing_names_the_files_written(cli, app, monkeypatch, tmp_path):
    # Ctrl-C while the report is written (or the commit made, or the summary printed) comes
    # after every file was written: "nothing written" would tell a script the tree is clean.
    from async_migrate.codemods import report

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "build_report", interrupted)
    result = cli("phase1", app, "--apply", "--report", tmp_path / "r.md")
    assert result.exit_code == 130
    assert result.stderr.splitlines() == [
        "async-migrate: interrupted: wrote 5 of 5 files",
        *[f"  api/r{i}.py" for i in range(5)],
    ]
    assert all("async def" not in (app / f"api/r{i}.py").read_text() for i in range(5))


def test_ctrl_c_while_the_interpreter_exits_changes_nothing(tmp_path):
    # The command has finished and printed its result: a late Ctrl-C (the interpreter freeing
    # the analysis takes a moment) neither prints a traceback nor turns the status into 130.
    import subprocess
    import sys

    script = tmp_path / "late.py"
    script.write_text(
        "import atexit, os, signal, sys, time\n"
        "from async_migrate.cli import main\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.2)))\n"
        "sys.argv = ['async-migrate', '--version']\n"
        "main.main()\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("async-migrate ")
    assert done.stderr == ""


def test_ctrl_c_while_the_modules_load_is_no_traceback(cli, app, monkeypatch):
    import sys

    class Interrupting:
        def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
            if name == "async_migrate.codemods.run":
                raise KeyboardInterrupt
            return None

    import async_migrate.codemods

    monkeypatch.delitem(sys.modules, "async_migrate.codemods.run", raising=False)
    monkeypatch.delattr(async_migrate.codemods, "run", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    result = cli("scan", app)
    assert result.exit_code == 130
    assert result.stderr == "async-migrate: interrupted: nothing written\n"


def test_workers_leave_ctrl_c_to_the_main_process(project, app_files):
    """A SIGINT sent to a worker (the terminal sends it to the whole process group) neither kills
    it nor makes it print a traceback; the main process decides."""
    from async_migrate.codemods.workers import Pool

    files = {f"api/r{i}.py": ROUTE.replace("{name}", f"r{i}") for i in range(60)}
    root = project({**app_files, "api/__init__.py": "", **files})
    paths = sorted(files)
    with Pool(root, jobs=2) as pool:
        first = list(pool.collect(paths[:30]))
        for process in pool._processes:
            os.kill(process.pid, signal.SIGINT)
        second = list(pool.collect(paths[30:]))
        assert all(process.is_alive() for process in pool._processes)
    assert len(first) == len(second) == 30
    assert all(c.error is None for c in first + second)


def test_leaving_the_pool_on_an_exception_stops_the_workers_at_once(project, app_files):
    from async_migrate.codemods.workers import Pool

    files = {f"api/r{i}.py": ROUTE.replace("{name}", f"r{i}") for i in range(60)}
    root = project({**app_files, "api/__init__.py": "", **files})
    with pytest.raises(KeyboardInterrupt):
        with Pool(root, jobs=2) as pool:
            next(iter(pool.collect(sorted(files))))
            processes = list(pool._processes)
            raise KeyboardInterrupt
    assert processes and not any(process.is_alive() for process in processes)



@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers: Linux only")
def test_workers_of_a_killed_run_exit_instead_of_waiting_for_ever(project, app_files, tmp_path):
    """A run killed mid-round (SIGKILL: a CI job's timeout) leaves no worker behind: each one sees
    its pipe close. A forked worker holding copies of the parent's pipe ends (its own, and those
    of the workers started before it) waited for ever, blocked in a read or a send."""
    import subprocess

    files = {f"api/r{i}.py": ROUTE.replace("{name}", f"r{i}") for i in range(80)}
    root = project({**app_files, "api/__init__.py": "", **files})
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from async_migrate.codemods.workers import Pool\n"
        "root = Path(sys.argv[1])\n"
        "paths = sorted(str(p.relative_to(root)) for p in (root / 'api').glob('r*.py'))\n"
        "pool = Pool(root, jobs=3).__enter__()\n"
        "list(pool.collect(paths))  # 80 files: three workers\n"
        "print(' '.join(str(p.pid) for p in pool._processes), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    # Output to files, not pipes: workers left behind would hold a pipe open and hang the wait.
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("w") as stdout, err.open("w") as stderr:
        returncode = subprocess.run([sys.executable, str(script), str(root)], stdout=stdout, stderr=stderr,
                                    timeout=60).returncode
    assert returncode == -signal.SIGKILL, err.read_text()
    workers = [int(pid) for pid in out.read_text().split()]
    assert len(workers) >= 2

    def running(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        return state not in ("Z", "X")  # an orphan exited but not yet reaped is gone too

    deadline = time.monotonic() + 10
    while any(map(running, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if running(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left

# ------------------------------------------------------------------ internal errors


def test_an_internal_error_exits_4_naming_the_file(cli, app, monkeypatch):
    from async_migrate.codemods import run

    real = run.decide

    def broken(project, handler, *args):  # type: ignore[no-untyped-def]
        if handler.module.path == "api/r3.py":
            raise KeyError("boom")
        return real(project, handler, *args)

    monkeypatch.setattr(run, "decide", broken)
    before = snapshot(app)
    result = cli("phase1", app, "--apply")
    assert result.exit_code == 4
    assert result.stderr.splitlines() == [
        "async-migrate: internal error while processing api/r3.py: KeyError: 'boom'",
        "this is a bug in async-migrate; please report it (-v shows the traceback)",
    ]
    assert snapshot(app) == before
    verbose = cli("phase1", app, "-v")
    assert verbose.exit_code == 4 and "Traceback (most recent call last)" in verbose.stderr


def test_usage_errors_keep_their_own_exit_code(cli, app):
    assert cli("phase1", app, "--apply", "--check").exit_code == 2
    assert cli("phase1", app, "--no-such-option").exit_code == 2


# ------------------------------------------------------------------ progress


def test_progress_knows_each_stage_total_and_never_overruns(app, tmp_path):
    from async_migrate.codemods import apply as applying
    from async_migrate.codemods import run
    from async_migrate.codemods.config import Config
    from async_migrate.codemods.sources import discover

    seen: list[tuple[str, int, int]] = []
    result = run.phase1(app, Config(), run.Options(jobs=1), lambda *step: seen.append(step))
    written = applying.write(app, result, None, lambda *step: seen.append(step))
    assert len(written) == 5
    stages = [stage for stage, _, _ in seen]
    assert list(dict.fromkeys(stages)) == ["read", "analyse", "rewrite", "write"]
    for stage, done, total in seen:
        assert 0 <= done <= total, (stage, done, total)
    last = {stage: (done, total) for stage, done, total in seen}
    files = len(discover(app))
    handlers = len(result.outcomes)
    assert handlers == 6  # five routes and the session dependency
    assert last == {"read": (files, files), "analyse": (handlers, handlers), "rewrite": (5, 5), "write": (5, 5)}


# ------------------------------------------------------------------ --format json on exit 2 and 130
# A script parsing standard output always gets one JSON document, also when the run ends early.


@pytest.mark.parametrize(("args", "command", "said"), [
    (("scan", "{missing}"), "scan", "no such directory"),
    (("phase1", "{root}", "--traffic", "t.csv"), "phase1", "--traffic only ranks the report"),
    (("phase2", "{root}"), "phase2", "Missing option '--subsystem'"),
    (("check", "{root}", "--jobs", "0"), "check", "Invalid value for '--jobs'"),
    (("rules", "--bogus"), "rules", "No such option: --bogus"),
    (("verify", "{root}"), "verify", "Missing option '--app'"),
    (("nosuch", "{root}"), "nosuch", "No such command 'nosuch'"),
])
def test_json_usage_and_configuration_errors_print_an_error_document(cli, app, tmp_path, args, command, said):
    import json

    given = [a.format(root=app, missing=tmp_path / "missing") for a in args]
    for spelled in (["--format", "json"], ["--format=json"]):
        result = cli(*given, *spelled)
        assert result.exit_code == 2, result.output
        document = json.loads(result.stdout)
        assert document["command"] == command and document["ok"] is False and document["exit_code"] == 2
        assert said in document["error"], document
        assert {"version", "schema"} <= set(document)
        assert said in err(result)  # standard error says it as before
    assert cli(*given).stdout == ""  # text: standard output stays empty


def test_json_ctrl_c_prints_an_error_document(cli, app, monkeypatch):
    import json

    from async_migrate.codemods import run

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "decide", interrupted)
    result = cli("phase1", app, "--apply", "--format", "json")
    assert result.exit_code == 130
    document = json.loads(result.stdout)
    assert (document["command"], document["error"], document["exit_code"]) == (
        "phase1", "interrupted: nothing written", 130
    )
    assert result.stderr == "async-migrate: interrupted: nothing written\n"


def test_json_ctrl_c_while_writing_names_the_files_written_in_the_document(cli, app, monkeypatch):
    import json

    from async_migrate.codemods import sources

    real = sources.write_atomic
    calls = []

    def write_then_interrupt(path, data):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        real(path, data)

    monkeypatch.setattr(sources, "write_atomic", write_then_interrupt)
    result = cli("phase1", app, "--apply", "--format", "json")
    assert result.exit_code == 130
    document = json.loads(result.stdout)
    assert document["error"] == "interrupted: wrote 2 of 5 files"
    assert document["files_written"] == ["api/r0.py", "api/r1.py"]


def test_near_miss_a_run_ending_2_after_its_own_document_prints_no_second_one(cli, app):
    import json

    result = cli("verify", app, "--app", "main:app", "--format", "json")  # not a git repository
    assert result.exit_code == 2
    document = json.loads(result.stdout)  # exactly one document: verify's own
    assert document["command"] == "verify" and "git" in document["error"]


@pytest.mark.parametrize("fmt", [[], ["--format", "json"]])
def test_ctrl_c_while_the_command_line_loads_is_no_traceback(tmp_path, app, fmt):
    # Interrupted after the package starts loading and before the commands' guard exists (typer
    # and the command modules load for a tenth of a second): one line, exit 130, no traceback.
    import json
    import subprocess
    import sys

    script = tmp_path / "early.py"
    script.write_text(
        "import os, signal, sys, time\n"
        f"sys.argv = ['async-migrate', 'scan', {str(app)!r}, *{fmt!r}]\n"
        "import async_migrate.cli\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(5)\n"
        "from async_migrate.cli import main\n"
        "main.main()\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130
    assert done.stderr == "async-migrate: interrupted: nothing written\n"
    if fmt:
        assert json.loads(done.stdout)["exit_code"] == 130
    else:
        assert done.stdout == ""


def test_loaded_the_command_line_leaves_ctrl_c_to_python():
    import async_migrate.cli.main  # noqa: F401

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
