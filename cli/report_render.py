"""The migration report as Markdown, for a pull request description: the same facts as the
report's JSON (`codemods/report.py`), and nothing the JSON does not state."""

from __future__ import annotations

from collections import Counter

from async_migrate.codemods.handlers import HandlerKind
from async_migrate.codemods.outcome import Blocking, shown_path
from async_migrate.codemods.report import RANKING, Entry, Report
from async_migrate.codemods.report_causes import summary
from async_migrate.codemods.rules import texts


def render_markdown(report: Report) -> str:
    if report.phase == 2:
        return _render_phase2(report)
    out: list[str] = []
    totals = report.totals
    if report.command == "scan":
        title, verb = "phase one plan", "would convert"
    elif report.applied:
        title, verb = "phase one applied", "converted"
    else:
        title, verb = "phase one (dry run)", "would convert"
    out.append(f"# Migration report: {title}")
    out.append("")
    out.append(
        f"`async-migrate {report.command}` on `{report.root}`: phase one {verb} "
        f"{totals['convert']} of {totals['handlers']} handlers; "
        + _still_blocking_sentence(totals["still_blocking"], totals["still_blocking_def"])
        + _unverified_handlers_sentence(totals["unverified_handlers"])
        + _unverified_sentence(totals["unresolved_endpoints"])
        + _moved_sentence(report)
    )
    out.append("")
    out.append(_table(
        # `unverified` counts the unverified handlers (AM125) and the routes whose endpoint is
        # unresolved (AM310), as the JSON's totals do; the second are also counted apart.
        ["handlers", "convert", "keep", "unchanged", "still blocking", "unverified", "unresolved endpoints"],
        [[totals[key] for key in (
            "handlers", "convert", "keep", "unchanged", "still_blocking", "unverified", "unresolved_endpoints",
        )]],
        right={0, 1, 2, 3, 4, 5, 6},
    ))
    _unverified_section(out, report)
    out.append("")
    out.append("## Rollout priority")
    out.append("")
    ranking = RANKING if report.traffic else RANKING[1:]
    out.append("Routes phase one converts, ranked by: " + "; ".join(ranking) + ".")
    out.append("")
    header = ["rank", "route", "handler", "file:line", "category", "eager loads / joins", "session calls"]
    if report.traffic:
        header.append("traffic")
    rows = []
    for rank, entry in enumerate(report.priority, start=1):
        row = [
            rank,
            _route(entry),
            entry.handler.function.qualname,
            f"{entry.handler.module.path}:{entry.handler.function.line}",
            entry.category,
            ", ".join(sorted({eager.call for eager in entry.eager})),
            entry.session_calls,
        ]
        if report.traffic:
            row.append(entry.traffic if entry.traffic is not None else "")
        rows.append(row)
    out.append(_table(header, rows, right={0, 6, 7}) if rows else "Nothing to convert.")
    out.append("")
    out.append("## Subsystems")
    for subsystem in report.subsystems:
        counts = subsystem.counts
        out.append("")
        out.append(f"### {subsystem.name}")
        out.append("")
        out.append(", ".join(f"{counts[action]} {action}" for action in counts))
        out.append("")
        # A subsystem of one module names it in its heading; one of several names each row's file.
        several = len({entry.handler.module.path for entry in subsystem.entries}) > 1
        column = "file:line" if several else "line"
        out.append(_table(
            [column, "handler", "kind", "route", "phase one", "reasons"],
            [
                [
                    _where(entry, several),
                    entry.handler.function.qualname,
                    entry.handler.kind,
                    _route(entry),
                    entry.outcome.action,
                    "<br>".join(map(_cell, texts(entry.outcome.reasons))),
                ]
                for entry in subsystem.entries
            ],
            right={0},
            raw={5},
        ))
        if subsystem.blocking:
            out.append("")
            out.append(
                "Kept `async def` but still blocking the event loop:"
                if all(entry.handler.function.is_async for entry in subsystem.blocking)
                else "Still blocking the event loop after phase one:"
            )
            out.append("")
            out.append(_table(
                [column, "handler", "route", "blocks at", "fix"],
                [
                    [
                        _where(entry, several),
                        entry.handler.function.qualname,
                        _route(entry),
                        "<br>".join(_cell(_blocking(b)) for b in entry.blocking),
                        "<br>".join(map(_cell, entry.fixes)),
                    ]
                    for entry in subsystem.blocking
                ],
                right={0},
                raw={3, 4},
            ))
    if report.traffic_unmatched:
        out.append("")
        out.append("## Traffic rows matching no route")
        out.append("")
        out.append(_table(
            ["method", "path", "count"],
            [[row.method, row.path, row.count] for row in report.traffic_unmatched],
            right={2},
        ))
    _warnings_section(out, report)
    if report.errors:
        out.append("")
        out.append("## Files that could not be read")
        out.append("")
        out.append(_table(["file", "error"], [[e["file"], e["message"]] for e in report.errors]))
    out.append("")
    return "\n".join(out)


def _unverified_handlers_sentence(count: int) -> str:
    if not count:
        return ""
    handlers = "1 more handler it keeps" if count == 1 else f"{count} more handlers it keeps"
    return (
        f" {handlers} may block it too: the analysis cannot tell whether it does synchronous Session "
        "work (unverified, AM125; `check` fails on it with AM304)."
    )


def _unverified_sentence(count: int) -> str:
    if not count:
        return ""
    routes = "1 route is" if count == 1 else f"{count} routes are"
    return (
        f" {routes} registered with an endpoint the analysis cannot resolve (AM310): unverified, "
        "it may block the event loop too."
    )


def _unverified_section(out: list[str], report: Report) -> None:
    if not report.unverified:
        return
    out += ["", "## Unverified routes", ""]
    out.append(
        "Registered with an endpoint the analysis cannot resolve to a project function (AM310): "
        "never analysed, not converted, and whether they do synchronous Session work on the event "
        "loop is not checked. Register a function or a method of a project class, or check them by hand."
    )
    out.append("")
    out.append(_table(
        ["file:line", "registration", "endpoint", "path", "code"],
        [
            [f"{item.file}:{item.line}", f"{item.call}(...)", item.endpoint or "", item.route or "", "AM310"]
            for item in report.unverified
        ],
    ))


def _moved_sentence(report: Report) -> str:
    if not report.moved:
        return ""
    files = ", ".join(f"`{path}`" for path in report.moved)
    return (
        f" The lines cited below are those of the files before the rewrite, which added or removed lines in "
        f"{files} (`git diff` shows where)."
    )


def _warnings_section(out: list[str], report: Report) -> None:
    if report.warnings:
        out += ["", "## Warnings", ""]
        out += [f"- {_cell(warning)}" for warning in report.warnings]


def _render_phase2(report: Report) -> str:
    document = report.phase2 or {}
    name = document.get("name") or "subsystem"
    totals = report.totals
    state = "applied" if report.applied else "dry run"
    out = [f"# Migration report: phase two, {name} ({state})", ""]
    verb = "moved" if report.applied else "would move"
    sentence = (
        f"`async-migrate phase2` on `{report.root}`: phase two {verb} {totals['migrate']} of "
        f"{totals['routes']} routes of `{name}` to `AsyncSession`"
    )
    if totals["blocked"]:
        sentence += (
            f"; {totals['blocked']} {'stays' if totals['blocked'] == 1 else 'stay'} on the "
            "synchronous Session, blocked as listed below"
        )
    if totals["unchanged"]:
        # already on an AsyncSession, or no Session work: a route with nothing to move is not blocked
        sentence += f"; {totals['unchanged']} unchanged, each with its reason below"
    out.append(sentence + "." + _moved_sentence(report))
    out.append("")
    keys = ["routes", "migrate", "blocked", "unchanged", "helpers_migrate", "helpers_twin", "blockers"]
    out.append(_table(
        ["routes", "migrate", "blocked", "unchanged", "helpers now async", "async twins", "blockers"],
        [[totals[key] for key in keys]],
        right=set(range(len(keys))),
    ))
    out.append("")
    out.append("## Routes")
    out.append("")
    entries = report.subsystems[0].entries if report.subsystems else []
    out.append(_table(
        ["route", "handler", "file:line", "phase two", "reasons"],
        [
            [
                _route(entry),
                entry.handler.function.qualname,
                f"{entry.handler.module.path}:{entry.handler.function.line}",
                entry.outcome.action,
                _reasons_cell([(r.code, r.text) for r in entry.outcome.reasons]),
            ]
            for entry in entries
        ],
        raw={4},
    ) if entries else "No routes.")
    helpers = document.get("helpers", [])
    if helpers:
        out += ["", "## Helpers", ""]
        label = {"migrate": "now async", "twin": "async twin added (sync original kept)", "blocked": "blocked"}
        out.append(_table(
            ["helper", "file:line", "phase two", "reasons"],
            [
                [h["function"], f"{h['file']}:{h.get('line', '')}",
                 "async twin reused (an earlier run's; sync original kept)" if h.get("twin_exists")
                 else label.get(h["action"], h["action"]),
                 _reasons_cell(list(zip(h.get("codes", []), h.get("reasons", []), strict=False)))]
                for h in helpers
            ],
            raw={3},
        ))
    global_blockers = document.get("global_blockers", [])
    if global_blockers:
        out += ["", "## What blocks the whole subsystem", ""]
        out.append("The async stack cannot be built, so no route moves until this is fixed:")
        out.append("")
        out += [f"- {_cell(blocker)}" for blocker in global_blockers]
    blockers = document.get("blockers", [])
    if blockers:
        out += ["", "## What blocks", ""]
        found = report.causes()
        rows = []
        for index, cause in enumerate(found):
            if cause.count == 1:
                where = f"{cause.places[0][0]}:{cause.places[0][1]}"
            elif index and cause.places == found[index - 1].places:
                where = "the places of the row above"  # `__repr__` of two models at each of them
            else:
                where = cause.locations()
            rows.append((where, cause.message, cause.count))
        shorten = sum(len(where) + len(message) for where, message, _ in rows) > _BLOCKS_BUDGET
        notes = []
        if len(found) < len(blockers):
            notes.append(
                f"{len(blockers)} blockers from {_count(len(found), 'cause')}: each cause once, with every place "
                "it blocks at (a place's own values where they differ)"
            )
        if shorten:
            notes.append(f"explanations longer than {_SHORT} characters are cut short (…)")
        if notes:
            out.append("; ".join(notes) + "; the JSON report (`--report NAME.json`) lists each blocker in full.")
            out.append("")
        out.append(_table(
            ["file:line", "blocker"],
            [[where, (_shortened(message) if shorten else message) + (f" ({count} places)" if count > 1 else "")]
             for where, message, count in rows],
        ))
    follow_ups = document.get("follow_ups", [])
    if follow_ups:
        out += ["", "## Follow-ups", ""]
        out += [f"- {item}" for item in follow_ups]
    _warnings_section(out, report)
    if report.errors:
        out += ["", "## Files that could not be read", ""]
        out.append(_table(["file", "error"], [[e["file"], e["message"]] for e in report.errors]))
    out.append("")
    return "\n".join(out)


def _route(entry: Entry) -> str:
    handler = entry.handler
    # As scan, the JSON and the commit message name it: the full path, else the known tail behind
    # the unknown-prefix marker.
    path = entry.route if entry.route is not None else shown_path(entry.outcome.path, entry.outcome.path_incomplete) or ""
    if entry.outcome.served_paths and len(handler.registrations) == 1:
        path = ", ".join(entry.outcome.served_paths)  # a router factory's route, at each call's path
    if handler.kind == HandlerKind.WEBSOCKET:
        return f"WEBSOCKET {path}".strip()
    if handler.kind != HandlerKind.ROUTE:  # a dependency, middleware, exception or lifecycle handler: no route
        return ""
    return f"{', '.join(handler.methods)} {path}".strip()


def _still_blocking_sentence(count: int, left_def: int) -> str:
    """The handlers still blocking the event loop after phase one: those it keeps `async def`,
    and those it leaves `def` that `check` finds blocking it (an `async def` background task)."""
    if not left_def:
        if count == 1:
            return "1 handler it keeps `async def` still blocks the event loop."
        return f"{count} handlers it keeps `async def` still block the event loop."
    verb = "still blocks" if count == 1 else "still block"
    return (
        f"{count} handler{'s' if count != 1 else ''} {verb} the event loop: {count - left_def} it keeps "
        f"`async def`, {left_def} it leaves `def` whose work on the event loop blocks it."
    )


def _blocking(blocking: Blocking) -> str:
    return f"line {blocking.line}: {blocking.call}" + (" (offloaded)" if blocking.offloaded else "")


# a handler with more reasons than this gets one line per cause instead of each reason in full
_REASONS_IN_FULL = 3


def _reasons_cell(reasons: list[tuple[str, str]]) -> str:
    """A handler's reasons: each in full when few, else each cause's first reason up to its first
    `; ` and how often the handler cites it (every one is under "What blocks" or in the JSON)."""
    if len(reasons) <= _REASONS_IN_FULL:
        return "<br>".join(_cell(text) for _, text in reasons)
    grouped = summary(reasons)
    counts = Counter(code for code, _ in reasons)
    lines = [
        f"{len(reasons)} reasons from {_count(len(grouped), 'cause')} ("
        + ", ".join(f"{code} ×{n}" for code, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))) + ")"
    ]
    for code, text, count in grouped[:_REASONS_IN_FULL]:
        lines.append(_cell(f"{code}: {text.split('; ', 1)[0]}" + (f" (×{count})" if count > 1 else "")))
    if len(grouped) > _REASONS_IN_FULL:
        lines.append(f"… and {_count(len(grouped) - _REASONS_IN_FULL, 'more cause')}, under What blocks")
    return "<br>".join(lines)


# What blocks, past this many characters, cuts each explanation short: a pull request description
# holds 65,536 characters, and the JSON report keeps every word
_BLOCKS_BUDGET = 40_000
_SHORT = 600


def _shortened(message: str) -> str:
    if len(message) <= _SHORT:
        return message
    cut = message.rfind(" ", 0, _SHORT)
    return message[: cut if cut > 0 else _SHORT] + " …"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _cell(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _where(entry: Entry, several: bool) -> str | int:
    line = entry.handler.function.line
    return f"{entry.handler.module.path}:{line}" if several else line


def _table(
    header: list[str],
    rows: list[list[object]],
    right: frozenset[int] | set[int] = frozenset(),
    raw: frozenset[int] | set[int] = frozenset(),
) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("| " + " | ".join("---:" if i in right else "---" for i in range(len(header))) + " |")
    for row in rows:
        cells = [str(value) if i in raw else _cell(value) for i, value in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
