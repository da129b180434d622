"""`verify`: proves a migration against a git revision.

1. the HTTP contract (OpenAPI and non-Session dependencies) of the app imported on both
   sides, compared (`contract.py`);
2. the service's tests on the after side under the runtime guard (`testrun.py`); when the
   guard sees something (or with tests_before), the tests run on the before side under the
   guard as well, and what it saw there too is pre-existing: reported, not failed, since
   verify proves the change made nothing worse;
3. `check` on the after side.

While the tests override only the synchronous session dependency and the migrated routes inject
the async one (`overrides.py`), the tests would run those routes on the application's own
database: the tests are not run and the proof fails, naming the override to add, unless the gap
is acknowledged (`--allow-override-gap`: they run, listed with the database they reach).

Presentation-free: the CLI renders the `Verification` this returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from async_migrate.codemods import gitstate
from async_migrate.codemods.config import Config
from async_migrate.codemods.pragma import parse_pragma
from async_migrate.codemods.rules.am301_blocking_session import RULE as AM301
from async_migrate.codemods.run import Options
from async_migrate.codemods.verify import contract, overrides, testrun
from async_migrate.codemods.verify.runner import (
    AppSpec,
    Revision,
    VerifyError,
    before_tree,
    configured_folders,
    import_app,
    import_folders,
    own_checkouts,
    require_different,
    require_own_code,
    resolve_revision,
)

Step = Callable[[str], None]  # told what runs now, for a status line


@dataclass
class Request:
    """What to verify; built by the CLI from its options."""

    root: Path
    app: AppSpec
    python: str
    against: str | None = None
    test_command: str | None = None  # overrides the configuration's test-command
    contract: bool = True
    tests: bool = True
    tests_before: bool = False  # run the tests on the before side even when the after side's guard saw nothing
    check: bool = True
    allow_override_gap: bool = False  # the tests run despite an override gap, which is listed, not failed
    cache: bool = True  # the static re-check reads and writes the warm cache, as `check` does


@dataclass
class Verification:
    root: Path
    app: str
    python: str
    revision: Revision | None = None
    differences: list[contract.Difference] | None = None  # None: not compared
    routes: int = 0
    tests: testrun.TestRun | None = None
    tests_before: testrun.TestRun | None = None
    findings: list[dict[str, Any]] | None = None  # check's findings on the after side
    check_errors: list[dict[str, str]] = field(default_factory=list)
    # Overrides of the sync session dependency the migrated routes escape (`overrides.py`): the
    # tests would run those routes against the application's own database.
    override_gaps: list[str] = field(default_factory=list)
    override_gap_allowed: bool = False
    override_gap_database: str = ""  # what the source names of that database, when the gap is allowed

    @property
    def ok(self) -> bool:
        return (
            not self.differences
            and (self.tests is None or (self.tests.passed and (not self.override_gaps or self.override_gap_allowed)))
            and not self.findings
            and not self.check_errors
        )

    def new_failures(self) -> list[str] | None:
        """Failing tests that passed on the before side, or whose guard events are new there;
        None when it was not run."""
        if self.tests is None or self.tests_before is None:
            return None
        old = {test for test, outcome in self.tests_before.outcomes.items() if outcome in ("failed", "error")}
        return [f["test"] for f in self.tests.failures if f["guard"] or f["test"] not in old]

    def to_json(self) -> dict[str, Any]:
        tests: dict[str, Any] = self.tests.to_json() if self.tests is not None else {"status": "skipped"}
        if self.tests is not None:
            tests["override_gaps"] = self.override_gaps
            tests["override_gap_allowed"] = self.override_gap_allowed
            tests["override_gap_database"] = self.override_gap_database
            if self.override_gaps and not self.override_gap_allowed and tests["status"] == "pass":
                tests["status"] = "fail"  # they passed on the application's database, which proves nothing
        if self.tests_before is not None:
            tests["before"] = self.tests_before.to_json()
            tests["new_failures"] = self.new_failures()
        return {
            "command": "verify",
            "root": str(self.root),
            "app": self.app,
            "python": self.python,
            "against": {"rev": self.revision.name, "commit": self.revision.commit} if self.revision else None,
            "ok": self.ok,
            "contract": {
                "status": "skipped" if self.differences is None else ("fail" if self.differences else "pass"),
                "routes": self.routes,
                "differences": [d.to_json() for d in self.differences or []],
            },
            "tests": tests,
            "check": {
                "status": "skipped" if self.findings is None else (
                    "fail" if self.findings or self.check_errors else "pass"
                ),
                "findings": self.findings or [],
                "errors": self.check_errors,
            },
        }


def verify(request: Request, config: Config, step: Step = lambda _: None) -> Verification:
    """Run the three proofs; VerifyError (exit 2 or 3) when one cannot be run at all."""
    from async_migrate.codemods.check import check

    result = Verification(request.root, str(request.app), request.python)
    root = request.root
    # Everything that can be refused is checked before anything runs.
    argv = testrun.command_line(request.test_command or config.test_command, request.python) if (
        request.tests or request.tests_before
    ) else []
    uncompared = None
    if request.contract or request.tests_before or request.against is not None:
        try:
            result.revision = resolve_revision(root, request.against)
        except VerifyError as error:
            if request.contract and gitstate.repository(root) is None:
                raise VerifyError(
                    f"{error}; the HTTP contract compares with it: --no-contract runs the other proofs "
                    "without one (every guard finding then fails, with nothing to tell it is old)", error.code,
                ) from None
            raise
        require_different(root, result.revision, configured_folders(root, config))
    elif request.tests:
        try:  # only to tell old guard events from new ones: its absence is said, not fatal
            result.revision = resolve_revision(root, None)
            require_different(root, result.revision, configured_folders(root, config))
        except VerifyError as error:
            result.revision = None
            uncompared = f"no before side to compare with: {error}"

    step("check: static analysis of the after side")
    checked = check(root, config, Options(cache=request.cache))
    acknowledged = acknowledged_blocking(root, checked.project)
    folders = import_folders(checked.project.roots) if checked.project is not None else configured_folders(root, config)
    if request.check:
        result.findings = [f.to_json() for f in checked.findings]
        result.check_errors = checked.errors + [{"file": "", "message": w} for w in checked.warnings]

    if request.contract:
        assert result.revision is not None
        with before_tree(root, result.revision) as before_root:
            step(f"contract: importing {request.app} on both sides")
            # The synchronous Session dependencies stay through both phases, so the after side's
            # analysis names them for the before side too (`get_db` yielding `SessionLocal()`,
            # unannotated: only the analysis tells it from an auth dependency).
            known = session_dependency_names(checked.project)
            before = import_app(request.python, before_root, request.app, folders=folders, session_dependencies=known)
            after = import_app(request.python, root, request.app, folders=folders, session_dependencies=known)
            _import_errors(request.app, result.revision, before, after, request.python)
            assert before.document is not None and after.document is not None
            # A side importing the application from elsewhere (the working tree through PYTHONPATH,
            # an installed copy) compares that code with itself: an empty difference that proves nothing.
            checkouts = own_checkouts(root, before_root)
            for label, document in (("before", before.document), ("after", after.document)):
                origin = document.pop("origin", None)
                if origin:
                    require_own_code(label, result.revision, request.app.module, Path(origin).resolve(), checkouts,
                                     command="verify")
            result.differences = contract.compare(before.document, after.document, config.twin_suffix)
            result.routes = contract.operation_count(after.document)
    if request.tests:
        escaped = overrides.escapes(checked.project, root, config.twin_suffix)
        result.override_gaps = escaped.gaps
        result.override_gap_allowed = request.allow_override_gap
        if escaped.gaps and not request.allow_override_gap:
            # Run, they would write to the database the application itself is configured with
            # (a developer's, or production's): nothing undoes that afterwards.
            result.tests = testrun.TestRun(argv, refused=refusal(escaped))
            return result
        if escaped.gaps:
            result.override_gap_database = escaped.database
            step(f"tests: {' '.join(argv)} under the runtime guard, the migrated routes on the application's "
                 f"own database ({escaped.database})")
        else:
            step(f"tests: {' '.join(argv)} under the runtime guard")
        result.tests = testrun.run_tests(root, request.python, argv, acknowledged, folders=folders)
    if request.tests_before or (result.tests is not None and (result.tests.events or result.tests.not_run)):
        if result.revision is None:
            assert result.tests is not None
            result.tests.uncompared = uncompared
        else:
            with before_tree(root, result.revision) as before_root:
                step(f"tests: {' '.join(argv)} on the before side, to tell old guard findings and skips from new ones")
                result.tests_before = testrun.run_tests(before_root, request.python, argv, [], folders=folders)
            if result.tests is not None:
                testrun.set_aside_preexisting(result.tests, result.tests_before)
                testrun.set_aside_dropped(result.tests, result.tests_before)
                testrun.set_aside_removed(result.tests, result.tests_before)
    elif result.tests is not None and result.tests.problem is None and result.revision is not None:
        with before_tree(root, result.revision) as before_root:
            step("tests: listing the before side's tests, to tell tests the change removed")
            listed = testrun.run_tests(before_root, request.python, argv, [], collect_only=True, folders=folders)
        testrun.set_aside_removed(result.tests, listed)
    return result


def refusal(escaped: overrides.Escapes) -> str:
    """Why the tests were not run, and the two ways on."""
    named = f"`{escaped.dependency}`" if escaped.dependency else "the async session dependency"
    override = (
        f"override {named} too (`app.dependency_overrides[{escaped.dependency or 'get_async_db_session'}] = ...`, "
        "an async generator yielding an AsyncSession of the test database)"
    ) if escaped.session else "add the override each line below names"
    return (
        f"not run: they would write to the application's own database ({escaped.database or named}), which the "
        f"override{'s' if len(escaped.gaps) > 1 else ''} below {'do' if len(escaped.gaps) > 1 else 'does'} not "
        f"reach; {override}, or pass --allow-override-gap to run them on the application's database anyway"
    )


def session_dependency_names(project: Any) -> list[str]:
    """`module.qualname` of every function the analysis found hands out a Session."""
    if project is None:
        return []
    return sorted(
        f"{project.functions[fid][0].name}.{project.functions[fid][1].qualname}" for fid in project.session_dependencies
    )


def acknowledged_blocking(root: Path, project: Any) -> list[testrun.Acknowledged]:
    """Every function whose pragma acknowledges blocking with a reason, whether or not the static
    analysis saw it block: the guard sees what the analysis may not."""
    found = []
    for _, module, function in project.iter_functions() if project is not None else ():
        pragma = parse_pragma(function.pragma)
        if pragma is not None and pragma.reason and pragma.silences(AM301):
            found.append(testrun.Acknowledged(str(root / module.path), function.qualname, pragma.reason))
    return found


_MISSING = re.compile(r"^ModuleNotFoundError: No module named '([\w.]+)'", re.MULTILINE)


def _import_errors(app: AppSpec, revision: Revision, before: Any, after: Any, python: str) -> None:
    if before.error and after.error:
        missing = _MISSING.search(after.error)
        hint = ""
        if missing and missing.group(1).split(".")[0] != app.module.split(".")[0]:
            # A library the service installs, absent from the interpreter used: usually the tool's own.
            hint = (f"\n{python} has no `{missing.group(1)}`: give the service's own interpreter with --python "
                    "(the one its tests run with), or run the tool from the service's virtual environment")
        raise VerifyError(f"--app {app} does not import on either side:\n{after.error}{hint}", 2)
    if before.error:
        raise VerifyError(f"--app {app} does not import at {revision.name} (the before side):\n{before.error}", 3)
    if after.error:
        raise VerifyError(f"--app {app} does not import in the working tree (the after side):\n{after.error}", 3)
