"""Phase two on a sample, one subsystem after another, with a copy of the tree kept after each
step: the sample's own API tests and `check` then run on every partially migrated copy.

The steps run once per test session (conftest.py's `bookshop_steps` and `taskboard_steps`).
The API tests of all steps on one database run at the same time, one pytest process per
(step, database), forked from one that imported their libraries (tests/forked_pytest.py):
the steps share the machine's cores and each other's waits on the database.
"""

from __future__ import annotations

import hashlib
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from sample import STRICT, copy_service, database, run_service_tests_together

# Every router of the bookshop with Session work, in the order the tests apply them: the later
# runs reuse the stack and the dependency twins the first one generated.
BOOKSHOP_STEPS = ("api/books.py", "api/authors.py", "api/orders.py", "api/reports.py", "api/reviews.py")
# The taskboard's routers, in order; comments and labels migrate nothing (what blocks them is
# asserted in tests/test_phase2_objects.py).
TASKBOARD_STEPS = (
    "api/users.py",
    "api/reports.py",
    "api/tasks.py",
    "api/projects.py",
    "api/comments.py",
    "api/labels.py",
)


def source_digest(root: Path) -> str:
    """One digest of every Python file under root: equal digests, the same code."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass
class Steps:
    """A sample after phase one, then after phase two on each subsystem in turn."""

    prefix: str  # the sample's environment variables (`BOOKSHOP_DATABASE_URL`)
    root: Path  # the tree after the last step
    after_phase1: dict  # `check`'s JSON right after phase one
    phase1_copy: Path  # a copy of the tree right after phase one
    documents: dict[str, dict] = field(default_factory=dict)  # subsystem -> phase two's JSON
    # subsystem -> a copy of the tree after that step, for the steps that changed a file
    copies: dict[str, Path] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # subsystem -> source_digest after it
    checks: dict[str, dict] = field(default_factory=dict)  # subsystem -> `check`'s JSON after it
    _runs: dict[str, dict[str, subprocess.CompletedProcess[str]]] = field(default_factory=dict)

    def service_tests(self, kind: str) -> dict[str, subprocess.CompletedProcess[str]]:
        """The sample's API tests on every copy, on `kind` (sqlite, postgres, mariadb), each on
        a scratch database of its own: run together the first time a test asks, then kept.
        Skips (or fails under ASYNC_MIGRATE_REQUIRE_SERVERS) when the server does not answer."""
        if kind not in self._runs:
            with ExitStack() as stack:
                urls = {
                    step: stack.enter_context(database(kind, self.prefix.lower())) for step in self.copies
                }
                results = run_service_tests_together(
                    [(self.copies[step], url) for step, url in urls.items()],
                    prefix=self.prefix,
                    pytest_args=STRICT,
                )
                self._runs[kind] = dict(zip(urls, results))
        return self._runs[kind]


def phase2_steps(cli, source: Path, target: Path, subsystems, prefix: str) -> Steps:  # type: ignore[no-untyped-def]
    """Copy `source` to `target`, apply phase one, then phase two on each subsystem in turn,
    copying the tree beside `target` after every step that changed a file."""
    root = copy_service(source, target)
    assert cli("phase1", root, "--apply").exit_code == 0
    phase1_copy = copy_service(root, target.with_name(f"{target.name}-0-phase1"))
    steps = Steps(prefix, root, cli.json("check", root), phase1_copy)
    for number, subsystem in enumerate(subsystems, 1):
        document = steps.documents[subsystem] = cli.json("phase2", root, "--subsystem", subsystem, "--apply")
        assert document["errors"] == [], subsystem
        steps.digests[subsystem] = source_digest(root)
        if document["files_changed"]:
            copy = target.with_name(f"{target.name}-{number}-{Path(subsystem).stem}")
            steps.copies[subsystem] = copy_service(root, copy)
        steps.checks[subsystem] = cli.json("check", root)
    return steps
