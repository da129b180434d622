"""The migration report: per subsystem, what phase one plans (scan) or did (phase1), or what
phase two did to one subsystem (phase2).

Built from a run's `Result`: every route, websocket and dependency of each
subsystem with its phase-one action and reasons, the counts, every handler that
phase one keeps `async def` although it still blocks the event loop, and every one it leaves
that `check` finds blocking it (with the blocking lines and the concrete fix), and the rollout
priority the design record asks for. Two renderings of the same facts: JSON (`to_json`) and Markdown for a
pull request description (`cli/report_render.py`); everything the Markdown states is
in the JSON.

A subsystem is a router module (`api/books.py`), or a name from
`[tool.async-migrate.subsystems]` whose globs match the module; dependencies are
grouped under their module.

Over 500 lines: the report's records (entries, subsystems, totals) and the builders filling
them, per phase, whose JSON shapes the Markdown renderer reads as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from async_migrate.codemods import facts
from async_migrate.codemods.check import blocking_calls, blocking_findings, fixes
from async_migrate.codemods.diff import moves_lines
from async_migrate.codemods.outcome import Blocking, Outcome
from async_migrate.codemods.project import ROUTE_KINDS, FunctionId, Handler, HandlerKind, Project
from async_migrate.codemods.report_causes import Cause, causes, key
from async_migrate.codemods.rules import codes, texts
from async_migrate.codemods.rules.am129_lazy_load_on_loop import RULE as AM129
from async_migrate.codemods.run import Result, unverified_routes
from async_migrate.codemods.session_work import session_handoffs
from async_migrate.codemods.sources import matches
from async_migrate.codemods.vocabulary.python import CONTAINER_TYPES
from async_migrate.codemods.vocabulary.sqlalchemy import JOIN_METHODS, LOADER_NAMES, SESSION_IO_METHODS

ACTIONS = ("convert", "keep", "unchanged")
PHASE2_ACTIONS = ("migrate", "blocked", "unchanged")
READ_METHODS = frozenset({"GET", "HEAD"})
CATEGORIES = ("list", "detail", "write", "websocket")
RANKING = (
    "traffic (from --traffic), highest first",
    "list endpoints (GET without path parameters), then detail endpoints (GET with path parameters, or "
    "returning the one object a dependency provides: `GET /users/me`), then other routes",
    "routes reaching eager loads or joins first",
    "session calls reached through the call graph (Session methods that do I/O, and the Session "
    "handed to code outside the project) and lazy loads phase one finds on the event loop, most first",
)


class TrafficError(ValueError):
    """A traffic file that cannot be read; the message names the line."""


@dataclass(frozen=True)
class TrafficRow:
    method: str
    path: str
    count: int


def load_traffic(path: Path) -> list[TrafficRow]:
    """`method,path,count` rows (a header row is allowed); repeated routes add up."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise TrafficError(f"{path}: cannot read: {error}") from None
    totals: dict[tuple[str, str], int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 3:
            raise TrafficError(f"{path}:{number}: expected method,path,count, got {len(row)} field{'' if len(row) == 1 else 's'}: {','.join(row)}")
        method, route, count = (cell.strip() for cell in row)
        if number == 1 and method.lower() == "method" and not count.isdigit():
            continue
        if not count.isdigit():
            raise TrafficError(f"{path}:{number}: count {count!r} is not a whole number")
        if not route.startswith("/"):
            raise TrafficError(f"{path}:{number}: path {route!r} does not start with /")
        key = (method.upper(), route)
        totals[key] = totals.get(key, 0) + int(count)
    return [TrafficRow(method, route, count) for (method, route), count in totals.items()]


@dataclass
class Eager:
    function: str
    file: str
    line: int
    call: str  # selectinload, join, ...

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function, "file": self.file, "line": self.line, "call": self.call}


@dataclass
class Entry:
    """One handler in the report."""

    outcome: Outcome
    subsystem: str
    route: str | None  # the full path, router prefix included, when known
    blocking: list[Blocking] = field(default_factory=list)  # set when it still blocks after phase one
    fixes: list[str] = field(default_factory=list)
    category: str | None = None
    eager: list[Eager] = field(default_factory=list)
    session_calls: int = 0
    traffic: int | None = None

    @property
    def handler(self) -> Handler:
        return self.outcome.handler

    @property
    def still_blocking(self) -> bool:
        return any(not b.offloaded for b in self.blocking)

    def to_json(self) -> dict[str, Any]:
        document = self.outcome.to_json()
        document["route"] = self.route
        return document

    def blocking_json(self) -> dict[str, Any]:
        function = self.handler.function
        return {
            "file": self.handler.module.path,
            "line": function.line,
            "function": function.qualname,
            "kind": self.handler.kind,
            "methods": self.handler.methods,
            "route": self.route,
            "reasons": texts(self.outcome.reasons),
            "codes": codes(self.outcome.reasons),
            "blocking": [{"line": b.line, "call": b.call, "offloaded": b.offloaded} for b in self.blocking],
            "fixes": self.fixes,
        }

    def priority_json(self, rank: int) -> dict[str, Any]:
        function = self.handler.function
        return {
            "rank": rank,
            "file": self.handler.module.path,
            "line": function.line,
            "function": function.qualname,
            "subsystem": self.subsystem,
            "methods": self.handler.methods,
            "route": self.route,
            "category": self.category,
            "action": self.outcome.action,
            "eager_loads": [eager.to_json() for eager in self.eager],
            "session_calls": self.session_calls,
            "traffic": self.traffic,
        }


@dataclass(frozen=True)
class Unverified:
    """A route registered with an endpoint the analysis cannot resolve (AM310): never analysed,
    so it may block the event loop; counted apart, never as fine."""

    file: str
    line: int
    call: str  # add_api_route, add_api_websocket_route, ...
    endpoint: str | None  # as written
    route: str | None  # the path as written, when literal

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file, "line": self.line, "call": self.call, "endpoint": self.endpoint,
            "route": self.route, "code": "AM310",
        }


@dataclass
class Subsystem:
    name: str
    entries: list[Entry] = field(default_factory=list)
    actions: tuple[str, ...] = ACTIONS  # the phase's actions, counted

    @property
    def files(self) -> list[str]:
        return sorted({entry.handler.module.path for entry in self.entries})

    @property
    def counts(self) -> dict[str, int]:
        return _counts(self.entries, self.actions)

    @property
    def blocking(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.still_blocking]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "files": self.files,
            "counts": self.counts,
            "handlers": [entry.to_json() for entry in self.entries],
            "still_blocking": [entry.blocking_json() for entry in self.blocking],
        }


@dataclass
class Report:
    command: str
    root: Path
    applied: bool
    subsystems: list[Subsystem]
    priority: list[Entry]
    traffic: bool = False
    traffic_unmatched: list[TrafficRow] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    # Phase two: the subsystem's helpers, blockers and follow-ups, as in the run's JSON.
    phase2: dict[str, Any] | None = None
    unverified: list[Unverified] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the run's other warnings, as on standard error
    # Applied: the files written whose lines the rewrite moved (added or removed lines), where the
    # lines the report cites, read before the rewrite, no longer point at the same code.
    moved: list[str] = field(default_factory=list)

    @property
    def phase(self) -> int:
        return 2 if self.command == "phase2" else 1

    @property
    def entries(self) -> list[Entry]:
        return [entry for subsystem in self.subsystems for entry in subsystem.entries]

    @property
    def totals(self) -> dict[str, int]:
        if self.phase == 2:
            totals = {"routes": len(self.entries), **_counts(self.entries, PHASE2_ACTIONS)}
            helpers = (self.phase2 or {}).get("helpers", [])
            for action in ("migrate", "twin", "blocked"):
                totals[f"helpers_{action}"] = sum(1 for h in helpers if h.get("action") == action)
            totals["blockers"] = len((self.phase2 or {}).get("blockers", []))
            totals["global_blockers"] = len((self.phase2 or {}).get("global_blockers", []))
            return totals
        totals = {"handlers": len(self.entries), **_counts(self.entries)}
        totals["still_blocking"] = sum(1 for entry in self.entries if entry.still_blocking)
        # of which phase one leaves `def` (a background task, a decorator's wrapper runs on the loop)
        totals["still_blocking_def"] = sum(
            1 for entry in self.entries if entry.still_blocking and not entry.handler.function.is_async
        )
        # kept because the analysis cannot tell whether they do synchronous Session work (AM125):
        # they may block the event loop as much as the ones counted above
        handlers = sum(
            1 for entry in self.entries
            if entry.outcome.action == "keep" and not entry.still_blocking and "AM125" in codes(entry.outcome.reasons)
        )
        # Everything the analysis could not verify, as the Markdown's `unverified` column counts
        # it: the handlers above and the routes whose endpoint it cannot resolve (AM310).
        totals["unverified"] = handlers + len(self.unverified)
        totals["unverified_handlers"] = handlers
        totals["unresolved_endpoints"] = len(self.unverified)
        return totals

    def to_json(self) -> dict[str, Any]:
        if self.phase == 2:
            subsystems = [subsystem.to_json() for subsystem in self.subsystems]
            return {
                "command": self.command,
                "phase": 2,
                "root": str(self.root),
                "applied": self.applied,
                "totals": self.totals,
                "subsystems": subsystems,
                "subsystem": self._phase2_json(subsystems),
                "unverified": [item.to_json() for item in self.unverified],
                "warnings": self.warnings,
                "errors": self.errors,
                "lines_moved_in": self.moved,
            }
        return {
            "command": self.command,
            "phase": 1,
            "root": str(self.root),
            "applied": self.applied,
            "totals": self.totals,
            "subsystems": [subsystem.to_json() for subsystem in self.subsystems],
            "ranking": list(RANKING if self.traffic else RANKING[1:]),
            "priority": [entry.priority_json(rank) for rank, entry in enumerate(self.priority, start=1)],
            "traffic": self.traffic,
            "traffic_unmatched": [
                {"method": row.method, "path": row.path, "count": row.count} for row in self.traffic_unmatched
            ],
            "unverified": [item.to_json() for item in self.unverified],
            "warnings": self.warnings,
            "errors": self.errors,
            "lines_moved_in": self.moved,
        }


    def causes(self) -> list[Cause]:
        """Phase two's blockers grouped by cause (`report_causes.py`)."""
        return causes(
            list((self.phase2 or {}).get("blockers") or ()),
            ((e.handler.function.qualname, codes(e.outcome.reasons), texts(e.outcome.reasons)) for e in self.entries),
        )

    def _phase2_json(self, subsystems: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The run's subsystem document with its blockers' `causes`; each handler of `subsystems`
        gains the ids of the causes its reasons cite."""
        if self.phase2 is None:
            return None
        found = self.causes()
        numbers = {key(cause.code, cause.message): number for number, cause in enumerate(found, start=1)}
        for subsystem, document in zip(self.subsystems, subsystems, strict=True):
            for entry, handler in zip(subsystem.entries, document["handlers"], strict=True):
                cited = (numbers.get(key(r.code, r.text)) for r in entry.outcome.reasons)
                handler["causes"] = list(dict.fromkeys(n for n in cited if n is not None))
        return {**self.phase2, "causes": [cause.to_json(number) for number, cause in enumerate(found, start=1)]}


def _counts(entries: list[Entry], actions: tuple[str, ...] = ACTIONS) -> dict[str, int]:
    counts = dict.fromkeys(actions, 0)
    for entry in entries:
        counts[entry.outcome.action] = counts.get(entry.outcome.action, 0) + 1
    return counts


# ----------------------------------------------------------------- building


def build_report(result: Result, traffic: list[TrafficRow] | None = None, applied: bool = False) -> Report:
    """The migration report of a run of scan, phase1 or phase2 (`result`, with its project): its
    handlers grouped by subsystem, the rollout ranked by `traffic` when given (rows of
    `load_traffic`), `applied` saying whether the run wrote. Rendered by `Report.to_json` and
    `cli/report_render.py`."""
    if result.command == "phase2":
        return _build_phase2(result, applied)
    project = result.project
    by_name: dict[str, Subsystem] = {}
    reported = {handler.id for handler in project.reported_handlers}
    for outcome in result.outcomes:
        handler = outcome.handler
        name = subsystem_of(project, handler.module.path)
        entry = Entry(outcome, name, outcome.full_path)
        found: list[Blocking] = []
        if outcome.before == "async":
            # a call offloaded beside the same call on the loop on its line is no done one
            done = {(b.line, b.call) for b in outcome.blocking if b.offloaded} - {
                (b.line, b.call) for b in outcome.blocking if not b.offloaded
            }
            found = blocking_calls(project, handler)
            for blocking in found:
                blocking.offloaded = (blocking.line, blocking.call) in done
            if outcome.action == "keep" and any(not b.offloaded for b in found):
                entry.blocking = list(found)
                entry.fixes = fixes(project, handler, done)
        if outcome.action != "convert" and handler.id in reported:
            _checked_blocking(project, entry, found)
        by_name.setdefault(name, Subsystem(name)).entries.append(entry)
    subsystems = [by_name[name] for name in sorted(by_name)]
    for subsystem in subsystems:
        subsystem.entries.sort(
            key=lambda e: (e.handler.module.path, e.handler.function.line, e.handler.function.key)
        )
    report = Report(
        result.command, result.root, applied, subsystems, [], traffic is not None, errors=result.errors
    )
    _add_warnings(report, result)
    report.moved = _moved(result, applied)
    report.priority = _rank(project, report, traffic)
    return report


def _checked_blocking(project: Project, entry: Entry, found: list[Blocking]) -> None:
    """What `check` finds blocking the event loop in a handler phase one leaves as it is, beyond
    the Session work read above (`found`, offloaded or not): an `async def` background task a
    `def` route schedules (AM306), engine work, lazy loads. Each adds its calls and, as the fix,
    the finding."""
    seen = {(b.line, b.call) for b in found}
    for finding in blocking_findings(project, entry.handler):
        new = [b for b in finding.blocking if (b.line, b.call) not in seen and not b.offloaded]
        if new:
            seen |= {(b.line, b.call) for b in new}
            entry.blocking.extend(new)
            entry.fixes.append(f"{finding.code}: {finding.message}")


def _add_warnings(report: Report, result: Result, routes: bool = True) -> None:
    """What the run warned about: the routes it could not resolve (AM310) as their own list
    (phase one's, which judges every route), every other warning as written on standard error."""
    project = result.project
    if routes:
        report.unverified = [
            Unverified(module.path, added.line, added.attr, added.written, added.path)
            for module, added in project.unresolved_endpoints
            if project.in_scope(module.path)
        ]
    listed = set(unverified_routes(project)) if routes else set()
    report.warnings = [w for w in dict.fromkeys([*result.warnings, *project.notices]) if w not in listed]


def _build_phase2(result: Result, applied: bool) -> Report:
    """Phase two's report: the one subsystem's routes, helpers, blockers and follow-ups."""
    document = result.subsystem or {}
    name = document.get("name") or "subsystem"
    entries = [Entry(outcome, name, outcome.full_path) for outcome in result.outcomes]
    entries.sort(key=lambda e: (e.handler.module.path, e.handler.function.line, e.handler.function.key))
    subsystem = Subsystem(name, entries, PHASE2_ACTIONS)
    report = Report(result.command, result.root, applied, [subsystem], [], errors=result.errors, phase2=document)
    _add_warnings(report, result, routes=False)
    report.moved = _moved(result, applied)
    return report


def _moved(result: Result, applied: bool) -> list[str]:
    """The files an applied run wrote whose lines moved (`Report.moved`)."""
    return [change.path for change in result.changed if moves_lines(change.diff)] if applied else []


def subsystem_of(project: Project, path: str) -> str:
    """The configured subsystem whose globs match path (the first by name), else path itself."""
    for name, globs in sorted(project.config.subsystems.items()):
        if matches(path, globs):
            return name
    return path


def _category(project: Project, entry: Entry) -> str:
    handler = entry.handler
    if handler.kind == HandlerKind.WEBSOCKET:
        return "websocket"
    path = entry.route if entry.route is not None else (entry.outcome.path or "")
    # A route that also writes (`methods=["GET", "POST"]`) ranks with the writes.
    if handler.methods and set(handler.methods) <= READ_METHODS:
        return "detail" if "{" in path or _dependency_object(project, handler) else "list"
    return "write"


def _dependency_object(project: Project, handler: Handler) -> bool:
    """Whether the route returns, as it is, what a dependency provides (`return user` with `user:
    CurrentUser`): one object per request, whatever its path, unless it or its response model is a list."""
    function = handler.function
    if len(function.results) != 1 or function.results[0][0] != "name":
        return False
    param = next((p for p in function.params if p.name == function.results[0][1]), None)
    if param is None or project.param_dependency(param) is None or any(r in CONTAINER_TYPES for r in param.annotation):
        return False
    declared = [r.declared_response for r in handler.registrations if r.declared_response is not None]
    return not any(ref in CONTAINER_TYPES for _, refs in declared for ref in refs)


def _lazy_loads(project: Project, entry: Entry) -> int:
    """The lazy loads phase one found the route running on the event loop (AM129), each a query:
    `GET /users/me` reading `user.orders` on the dependency's object runs one, and no Session call."""
    if AM129.code not in codes(entry.outcome.reasons):
        return 0
    from async_migrate.codemods.phase1.rule import lazy_loads_on_loop

    return len(lazy_loads_on_loop(project, entry.handler))


def _rank(project: Project, report: Report, traffic: list[TrafficRow] | None) -> list[Entry]:
    ranked = [
        entry
        for entry in report.entries
        if entry.handler.kind in ROUTE_KINDS and entry.outcome.action == "convert"
    ]
    reach = _Reach(project)
    for entry in ranked:
        entry.category = _category(project, entry)
        entry.eager, entry.session_calls = reach.of(entry.handler.id)
        entry.session_calls += _lazy_loads(project, entry)
    if traffic is not None:
        report.traffic_unmatched = _match_traffic(report.entries, traffic)
    return sorted(
        ranked,
        key=lambda e: (
            -(e.traffic or 0),
            CATEGORIES.index(e.category or "write"),
            not e.eager,
            -e.session_calls,
            e.handler.module.path,
            e.handler.function.line,
        ),
    )


def _normal(path: str) -> str:
    path = re.sub(r"\{[^}]*\}", "{}", path.strip())
    return path.rstrip("/") or "/"


def _match_traffic(entries: list[Entry], rows: list[TrafficRow]) -> list[TrafficRow]:
    routes: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.route is None:
            continue
        methods = entry.handler.methods or ["WEBSOCKET"]
        for method in methods:
            routes[(method, _normal(entry.route))].append(entry)
    unmatched = []
    for row in rows:
        method = "WEBSOCKET" if row.method in ("WS", "WEBSOCKET") else row.method
        found = routes.get((method, _normal(row.path)))
        if not found:
            unmatched.append(row)
            continue
        for entry in found:
            entry.traffic = (entry.traffic or 0) + row.count
    for entry in entries:
        if entry.traffic is None and entry.route is not None:
            entry.traffic = 0
    return sorted(unmatched, key=lambda row: (row.path, row.method))


class _Reach:
    """What a handler reaches through the call graph: eager loads and joins, Session calls."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def of(self, start: FunctionId) -> tuple[list[Eager], int]:
        seen = {start}
        stack = [start]
        eager: list[Eager] = []
        calls = 0
        while stack:
            fid = stack.pop()
            module, function = self.project.functions[fid]
            names = self.project.session_names(fid)
            direct = [call.line for call in function.calls if call.receiver in names and call.method in SESSION_IO_METHODS]
            calls += len(direct)
            calls += len(session_handoffs(self.project, fid))
            # Work on a Session the function holds itself (`self.db.execute()`, a scoped
            # session), its opening aside.
            opened = {o.line for o in self.project.opens_directly(fid)}
            calls += sum(1 for line, _ in self.project.own_work(fid) if line not in opened and line not in direct)
            for call in function.calls:
                hint = _hint(call)
                if hint is not None:
                    eager.append(Eager(f"{module.name}.{function.qualname}", module.path, call.line, hint))
            for edge in self.project.all_calls_from[fid]:
                if edge.callee not in seen:
                    seen.add(edge.callee)
                    stack.append(edge.callee)
        eager.sort(key=lambda e: (e.file, e.line, e.call))
        return eager, calls


def _hint(call: facts.Call) -> str | None:
    if call.callee is not None and call.callee.startswith("sqlalchemy."):
        name = call.callee.rsplit(".", 1)[-1]
        if name in LOADER_NAMES:
            return name
    if call.chained in LOADER_NAMES or call.chained in JOIN_METHODS:
        return call.chained
    if call.receiver is not None and call.method in JOIN_METHODS:
        return call.method
    return None
