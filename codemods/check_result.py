"""`check`'s result and its entry point. Light to import: a warm run takes the last run's
result whole (`codemods.warm_run`) without loading the analysis (`codemods.check`), which is
imported only when the project has to be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from async_migrate.codemods import warm_run
from async_migrate.codemods.config import Config
from async_migrate.codemods.handlers import Handler
from async_migrate.codemods.outcome import Blocking, shown_path
from async_migrate.codemods.rules import Rule
from async_migrate.codemods.sources import NO_ROUTES, nothing_selected

if TYPE_CHECKING:
    from async_migrate.codemods.options import Options, Progress
    from async_migrate.codemods.project import Project


@dataclass(slots=True)
class Finding:
    rule: Rule
    handler: Handler | None
    file: str
    line: int
    function: str
    message: str
    blocking: list[Blocking] = field(default_factory=list)
    phase1: str | None = None  # what phase one does with the handler: convert or keep
    full_path: str | None = None  # the route's path with its router prefixes, when known
    path_incomplete: bool = False  # the prefixes in front of the decorator's path are unknown
    path_tail: str | None = None  # then: the decorator's path behind the prefixes that are known

    @property
    def code(self) -> str:
        return self.rule.code

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "code": self.rule.code,
            "name": self.rule.name,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "kind": self.handler.kind if self.handler is not None else None,
            "methods": self.handler.methods if self.handler is not None else [],
            "path": shown_path(
                self.full_path or self.path_tail or (self.handler.path if self.handler is not None else None),
                self.path_incomplete,
            ),
            "message": self.message,
            "blocking": [{"line": b.line, "call": b.call, "offloaded": b.offloaded} for b in self.blocking],
        }
        if self.path_incomplete:
            document["path_incomplete"] = True
        if self.phase1 is not None:
            document["phase1"] = self.phase1
        return document


@dataclass(slots=True)
class Silenced:
    rule: Rule
    file: str
    line: int
    function: str
    pragma: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.rule.code,
            "name": self.rule.name,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "pragma": self.pragma,
            "reason": self.reason,
        }


@dataclass
class CheckResult:
    root: Path
    findings: list[Finding] = field(default_factory=list)
    silenced: list[Silenced] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    files: int = 0
    handlers: int = 0  # async def handlers checked, async def resolvers among them
    resolvers: int = 0  # def GraphQL resolvers checked (graphql-core runs them on the event loop)
    routes: int = 0  # routes and websockets anywhere under the root, async def or not

    notices: list[str] = field(default_factory=list)  # how the project was read (import roots)
    blind: list[str] = field(default_factory=list)  # code the analysis cannot see: exit 2 (Project.blind)
    project: Project | None = field(default=None, repr=False)  # what the findings were read from

    @property
    def warnings(self) -> list[str]:
        """Why a clean result would prove nothing: `check` exits 2 on any of these."""
        if not self.files:
            return nothing_selected(self.files)
        if self.blind:
            return list(self.blind)
        if not self.routes:
            return [NO_ROUTES]
        return []

    def to_json(self) -> dict[str, Any]:
        return {
            "command": "check",
            "root": str(self.root),
            "findings": [finding.to_json() for finding in self.findings],
            "silenced": [silenced.to_json() for silenced in self.silenced],
            "errors": self.errors,
            "warnings": [*self.warnings, *self.notices],
            "files": self.files,
            "routes": self.routes,
            "handlers_checked": self.handlers,
            "def_resolvers_checked": self.resolvers,
        }


def check(
    root: Path, config: Config, options: Options, progress: Progress | None = None, project_needed: bool = True
) -> CheckResult:
    """`check`'s findings. Without `project_needed` (the command line's run, which shows the
    findings alone), the result of the last run is taken whole when this run would read exactly
    what it read (`codemods.warm_run`), and `result.project` is then None."""
    from async_migrate.codemods.options import MARKERS, open_pool

    with open_pool(root, config, options) as pool:
        exclude = (*options.exclude, *config.exclude)
        run_key = warm_run.run_key("check", root, config, options) if pool.cache is not None else None
        if not project_needed:
            reused = warm_run.reuse(pool, "check", run_key, MARKERS, _MEMO_KINDS, options.only, exclude, progress)
            found = _from_memo(reused.analysis) if reused is not None else None
            if reused is not None and found is not None:
                if progress is not None:
                    progress("analyse", found.handlers, found.handlers)
                found.blind = reused.blind
                found.notices = [notice for notice in reused.notices if notice not in reused.blind]
                found.root = root
                found.files = reused.files
                return found
        # Imported only now: a warm run never needs the analysis.
        from async_migrate.codemods.check import analyse
        from async_migrate.codemods.project import ROUTE_KINDS
        from async_migrate.codemods.routes import Routes
        from async_migrate.codemods.run import Trace, analysis_key, collect_project, remember, remembered

        trace = Trace() if run_key is not None else None
        project, errors, count = collect_project(
            root, config, options, pool, keep=(), progress=progress, trace=trace, callers=True
        )
        pool.close()  # the workers are done; the analysis still runs without cycle collection (Pool)
        key = analysis_key(pool, project, "check")
        result = _from_memo(remembered(pool, "check", key, project, _MEMO_KINDS))
        if result is not None:
            if progress is not None:
                progress("analyse", result.handlers, result.handlers)
        else:
            result = analyse(project, options.jobs, progress)
            routes = Routes(project)
            for finding in result.findings:
                if finding.handler is not None and finding.handler.kind in ROUTE_KINDS:
                    path, complete = routes.served(finding.handler)
                    finding.full_path = path if complete else None
                    finding.path_tail = None if complete else path
                    finding.path_incomplete = not complete
            remember(pool, "check", key, _MEMO_FIELDS, result, _MEMO_KINDS)
        if trace is not None:
            shown = [finding.handler for finding in result.findings if finding.handler is not None]
            warm_run.remember(pool, "check", run_key, key, trace, project.unseen, shown)
    result.project = project
    result.blind = project.blind
    result.notices = [notice for notice in project.notices if notice not in project.blind]
    result.root = root
    result.errors = errors
    result.files = count
    return result


# What the warm cache keeps of `analyse` (codemods/memo.py); the rest is this run's own.
_MEMO_FIELDS = ("findings", "silenced", "handlers", "resolvers", "routes")
_MEMO_KINDS = (Finding, Silenced, Blocking)


def _from_memo(document: object) -> CheckResult | None:
    if not isinstance(document, dict) or set(document) != set(_MEMO_FIELDS):
        return None
    return CheckResult(root=Path("."), **document)


