"""The service's own tests, run under the runtime guard (`guard.py`).

The guard is copied into a scratch folder as `async_migrate_guard.py`, put on
`PYTHONPATH` and loaded with `PYTEST_PLUGINS`, so any test command that runs pytest
(`python -m pytest`, `pytest tests`, `make test`) runs guarded, in the service's own
interpreter. A run whose guard report never appears was not guarded, and says so.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from async_migrate.codemods.verify.runner import VerifyError, child_env, tool_source

DEFAULT_COMMAND = "python -m pytest"
TEST_TIMEOUT = 1800.0
GUARD_MODULE = "async_migrate_guard"
SESSION_END = "(end of the test session)"  # guard.py's entry for coroutines unawaited when the tests end
INSTALL_HINT = "pip install 'async-migrate[verify]' (or pip install blockbuster) in the service's environment"


@dataclass
class Acknowledged:
    """A handler whose pragma acknowledges that it blocks: the guard reports, never fails it."""

    file: str  # absolute
    function: str  # qualified name
    reason: str


@dataclass
class TestRun:
    """One run of the test command. The guard never changes a test's outcome: `outcomes` are the
    tests' own, `events` what the guard saw that no pragma acknowledges (each with its "test")."""

    command: list[str]
    exit_code: int | None = None
    counts: dict[str, int] = field(default_factory=dict)  # the tests' own outcomes
    outcomes: dict[str, str] = field(default_factory=dict)  # test id -> passed, failed, error, skipped
    events: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: list[dict[str, Any]] = field(default_factory=list)  # guard events a pragma covers
    preexisting: list[dict[str, Any]] = field(default_factory=list)  # events the before side's run saw too
    uncompared: str | None = None  # why the events could not be compared with the before side
    installed: dict[str, bool] = field(default_factory=dict)
    output_tail: str = ""
    problem: str | None = None  # why the run proves nothing (not guarded, no tests ran)
    # Why the command was not run at all: it would have written to the application's own
    # database (the tests' override does not reach the migrated routes). Fails the proof.
    refused: str | None = None
    # Tests that passed on the before side and are skipped, xfailed or gone on this side: the
    # tests prove less than before, so they do not pass ({"test", "before", "after"}).
    dropped: list[dict[str, str]] = field(default_factory=list)
    collected: list[str] = field(default_factory=list)  # the test ids pytest selected

    @property
    def failures(self) -> list[dict[str, Any]]:
        """{"test", "outcome", "guard": [events]}: each test that failed on its own (outcome
        failed or error) or that has guard events (outcome "guard" when it passed on its own)."""
        by_test: dict[str, list[dict[str, Any]]] = {}
        for event in self.events:
            by_test.setdefault(event["test"], []).append({k: v for k, v in event.items() if k != "test"})
        found = []
        for test, outcome in self.outcomes.items():
            own = outcome in ("failed", "error")
            if own or test in by_test:
                found.append({"test": test, "outcome": outcome if own else "guard", "guard": by_test.get(test, [])})
        return found

    @property
    def passed(self) -> bool:
        return (self.problem is None and self.refused is None and self.exit_code == 0 and not self.failures
                and not self.dropped)

    @property
    def not_run(self) -> bool:
        """Some test was skipped or xfailed: whether it ran on the before side tells."""
        return any(outcome in ("skipped", "xfailed") for outcome in self.outcomes.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "pass" if self.passed else ("unverified" if self.problem else "fail"),
            "command": shlex.join(self.command),
            "exit_code": self.exit_code,
            "counts": self.counts,
            "failures": self.failures,
            "preexisting": grouped(self.preexisting),
            "uncompared": self.uncompared,
            "acknowledged": self.acknowledged,
            "guard": self.installed,
            "problem": self.problem,
            "refused": self.refused,
            "dropped": self.dropped,
            "output_tail": self.output_tail,
        }


_LINE = re.compile(r":\d+(?= in )")


# The guard's place for a connection the garbage collector returned (guard.COLLECTED, standalone).
COLLECTED = "outside the application: a connection the garbage collector returned to the pool"


def occurrence(event: dict[str, Any]) -> tuple[str, str, str | None, str]:
    """What makes guard events on the two sides the same occurrence: the test, the kind, the
    route, and the place without line numbers (the migration moves lines); for two Sessions,
    how many were open at once (the handler's name is the route's). A connection the garbage
    collector returned is one occurrence wherever it happened: the collection starts at a point
    no code chooses, in whichever test and request runs then."""
    if event["kind"] == "blocking" and event["where"].startswith(COLLECTED):
        return ("", event["kind"], None, COLLECTED)
    place = str(event.get("sessions")) if event["kind"] == "two-sessions" else _LINE.sub("", event["where"])
    return (event["test"], event["kind"], event["request"], place)


def grouped(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events of many tests by occurrence: {"kind", "request", "where", "calls", "tests"} (and
    "sessions" for two Sessions), in first-seen order."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for event in events:
        first = {k: v for k, v in event.items() if k in ("kind", "request", "where", "sessions")}
        group = groups.setdefault(occurrence(event)[1:], first | {"calls": [], "tests": []})
        group["calls"] += [call for call in event["calls"] if call not in group["calls"]]
        if event["test"] not in group["tests"]:
            group["tests"].append(event["test"])
    return list(groups.values())


def set_aside_preexisting(after: TestRun, before: TestRun) -> None:
    """Move the after side's guard events that the before side's run saw too into
    `after.preexisting`: the change did not bring them. A before run that proves nothing
    (not guarded, no tests) leaves every event a failure and says why."""
    if before.problem is not None:
        after.uncompared = f"the before side's run proves nothing: {before.problem}"
        return
    seen = {occurrence(event) for event in before.events + before.acknowledged}
    new: list[dict[str, Any]] = []
    for event in after.events:
        (after.preexisting if occurrence(event) in seen else new).append(event)
    after.events = new


def set_aside_dropped(after: TestRun, before: TestRun) -> None:
    """The tests that passed on the before side and no longer run on the after side (skipped,
    xfailed, removed): a migration passing with fewer tests is not proven by them."""
    if before.problem is not None:
        return
    for test, outcome in before.outcomes.items():
        now = after.outcomes.get(test, "absent")
        if outcome == "passed" and test != SESSION_END and now in ("skipped", "xfailed", "absent"):
            after.dropped.append({"test": test, "before": outcome, "after": now})


def set_aside_removed(after: TestRun, before: TestRun) -> None:
    """The tests the before side collects that the after side does not run at all (a test or a
    module deleted, a test renamed): fewer tests passing proves less than before."""
    if (before.problem is not None and not before.collected) or after.exit_code not in (0, 1):
        return  # pytest stopped before the tests (a module that does not collect): that is said
    seen = {entry["test"] for entry in after.dropped}
    for test in before.collected:
        if test not in after.outcomes and test not in seen:
            after.dropped.append({"test": test, "before": "collected", "after": "absent"})


def command_line(command: str | None, python: str) -> list[str]:
    """The test command as argv, `python` meaning the service's interpreter; VerifyError (exit 2)
    when its program cannot be found."""
    text = command or DEFAULT_COMMAND
    try:
        argv = shlex.split(text)
    except ValueError as error:
        raise VerifyError(f"test-command {text!r}: {error}") from None
    if not argv:
        raise VerifyError("test-command is empty")
    if argv[0] in ("python", "python3"):
        argv[0] = python
    elif shutil.which(argv[0], path=child_env(python)["PATH"]) is None:
        raise VerifyError(f"test-command {text!r}: {argv[0]!r} is not found (set test-command in [tool.async-migrate])")
    return argv


def run_tests(
    root: Path,
    python: str,
    argv: list[str],
    acknowledged: list[Acknowledged],
    timeout: float = TEST_TIMEOUT,
    collect_only: bool = False,
    folders: tuple[str, ...] = (),
) -> TestRun:
    """Run argv from root under the guard and read what it saw; the service's import
    `folders` under root (a src layout's `src`) come first on its import path, so each side
    imports its own checkout rather than whatever copy is installed."""
    result = TestRun(command=argv)
    with tempfile.TemporaryDirectory(prefix="async-migrate-guard-") as scratch:
        folder = Path(scratch)
        report = folder / "report.json"
        (folder / f"{GUARD_MODULE}.py").write_text(tool_source("guard.py"), encoding="utf-8")
        ack = folder / "acknowledged.json"
        ack.write_text(json.dumps([a.__dict__ for a in acknowledged]), encoding="utf-8")
        plugins = [p for p in os.environ.get("PYTEST_PLUGINS", "").split(",") if p.strip()]
        extra = {
            "PYTHONPATH": os.pathsep.join(filter(None, [
                scratch, *(str((root / f).resolve()) for f in folders), os.environ.get("PYTHONPATH"),
            ])),
            "PYTEST_PLUGINS": ",".join([*plugins, GUARD_MODULE]),
            "ASYNC_MIGRATE_GUARD_REPORT": str(report),
            "ASYNC_MIGRATE_GUARD_ROOT": str(root),
            "ASYNC_MIGRATE_GUARD_ACK": str(ack),
        }
        if collect_only:  # the guard lists the tests and deselects them all
            extra["ASYNC_MIGRATE_GUARD_COLLECT_ONLY"] = "1"
        log = folder / "output.log"
        with open(log, "wb") as output:
            try:
                proc = subprocess.run(
                    argv, cwd=root, env=child_env(python, extra), stdin=subprocess.DEVNULL,
                    stdout=output, stderr=subprocess.STDOUT, timeout=timeout, check=False,
                )
                result.exit_code = proc.returncode
            except subprocess.TimeoutExpired:
                result.problem = f"the test command did not finish within {timeout:.0f} s"
            except OSError as error:
                raise VerifyError(f"cannot run the test command {shlex.join(argv)}: {error}") from None
        text = log.read_text(encoding="utf-8", errors="replace")
        result.output_tail = "\n".join(text.splitlines()[-40:])
        if "No module named pytest" in text and result.exit_code not in (0, None):
            raise VerifyError(f"the test command {shlex.join(argv)} needs pytest, which {python} does not have")
        reports = sorted(folder.glob("report.json*"))
        if not reports:
            result.problem = result.problem or (
                "the test command did not run pytest with the guard loaded (no guard report): the tests ran unguarded"
            )
        for path in reports:
            _read_report(result, json.loads(path.read_text(encoding="utf-8")))
        blind = [name for name in ("starlette", "sqlalchemy", "never-awaited") if not result.installed.get(name, True)]
        if reports and blind and result.problem is None:
            # Without these hooks the guard cannot see requests, Session work or lost coroutines.
            result.problem = f"the guard could not hook {', '.join(blind)} in {python}: the tests ran partly unguarded"
        if result.exit_code == 5 and result.problem is None:
            result.problem = "no tests ran (pytest exit status 5)"
    return result


def _read_report(result: TestRun, document: dict[str, Any]) -> None:
    for name, present in document.get("installed", {}).items():
        result.installed[name] = result.installed.get(name, True) and bool(present)
    result.collected += [test for test in document.get("collected", []) if test not in result.collected]
    for test in document.get("tests", []):
        outcome = test.get("outcome", "passed")
        result.outcomes[test["nodeid"]] = outcome
        if test["nodeid"] != SESSION_END:  # the guard's own entry, no test
            result.counts[outcome] = result.counts.get(outcome, 0) + 1
        for event in test.get("guard", []):
            entry = {"test": test["nodeid"], **event}
            (result.events if event.get("acknowledged") is None else result.acknowledged).append(entry)
