"""The "Verification" section of the migration report (Markdown), written by verify and smoke.

Each command owns one marked block inside the section (`codemods/report_sections.py`), so
either can run first, reruns replace their own block, and the sections scan, phase one and
phase two wrote keep their text.
"""

from __future__ import annotations

from typing import Any

from async_migrate.codemods import report_sections as sections
from async_migrate.codemods.verify.testrun import INSTALL_HINT

HEADING = sections.VERIFICATION


def merge(existing: str, block: str, body: str) -> str:
    """existing with the block replaced (or added under the Verification heading)."""
    replaced = sections.replace(existing, block, body)
    if replaced is not None:
        return replaced
    marked = sections.marked(block, body)
    at = sections.verification_at(existing)
    if at == -1:
        text = existing.rstrip("\n")
        return (text + "\n\n" if text else "") + f"{HEADING}\n\n{marked}"
    at += len(HEADING)
    # After the heading's other blocks: before the next level-two heading, if any.
    following = existing.find("\n## ", at)
    if following == -1:
        return existing.rstrip("\n") + "\n\n" + marked
    return existing[:following].rstrip("\n") + "\n\n" + marked + existing[following:]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def verify_markdown(document: dict[str, Any]) -> str:
    """The verify block from verify's JSON document."""
    lines = [f"### verify: {'passed' if document['ok'] else 'FAILED'}", ""]
    against = document.get("against")
    lines.append(
        f"`{document['app']}` in `{document['root']}`"
        + (f", against `{against['rev']}` (`{against['commit'][:12]}`)" if against else "")
        + "."
    )
    contract = document["contract"]
    lines += ["", f"**HTTP contract**: {contract['status']}"]
    if contract["status"] != "skipped":
        lines[-1] += f" ({contract['routes']} operations compared)"
    if contract["differences"]:
        lines += ["", "| route | what | before | after |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {_cell(d['route'])} | {_cell(d['what'])} | `{_cell(d['before'])}` | `{_cell(d['after'])}` |"
            for d in contract["differences"]
        ]
    tests = document["tests"]
    lines += ["", f"**Tests under the runtime guard**: {tests['status']}"]
    if tests.get("refused"):
        lines[-1] += f" (`{tests['command']}`: not run)"
        lines += ["", f"- {tests['refused']}"]
        for gap in tests.get("override_gaps") or []:
            lines.append(f"- refused: the migrated routes escape the tests' database override, so the tests would "
                         f"run them against the application's own database: {gap}")
    elif tests["status"] != "skipped":
        counts = ", ".join(f"{n} {k}" for k, n in sorted(tests["counts"].items())) or "no results"
        lines[-1] += f" (`{tests['command']}`: {counts})"
        if tests.get("override_gap_database"):
            lines += ["", ("- **warning**: `--allow-override-gap`: the tests ran the migrated routes on the "
                           f"application's own database, not the tests': {tests['override_gap_database']}")]
        if tests.get("problem"):
            lines += ["", f"- {tests['problem']}"]
        for failure in tests["failures"]:
            outcome = "failed under the guard" if failure["outcome"] == "guard" else failure["outcome"]
            lines.append(f"- `{failure['test']}` {outcome}")
            for event in failure["guard"]:
                lines.append(f"  - {event['kind']} during {event['request'] or 'the test'} at `{event['where']}`: "
                             + "; ".join(event["calls"]))
        for dropped in tests.get("dropped") or []:
            lines.append(f"- `{dropped['test']}` {dropped['before']} on the before side, {dropped['after']} now")
        if tests.get("preexisting"):
            lines += ["", ("Found by the guard on the before side too (not introduced by this change, not failed; "
                           "still to fix):")]
            for group in tests["preexisting"]:
                lines.append(f"- {group['kind']} during {group['request'] or 'the test'} at `{group['where']}`: "
                             + "; ".join(group["calls"]) + f" ({len(group['tests'])} tests)")
        for gap in tests.get("override_gaps") or []:
            mark = "acknowledged" if tests.get("override_gap_allowed") else "not proven"
            lines.append(f"- {mark}: the migrated routes escape the tests' database override, so the tests ran "
                         f"them against the application's own database: {gap}")
        if tests.get("uncompared"):
            lines += ["", f"Guard findings not compared with the before side: {tests['uncompared']}"]
        if tests["acknowledged"]:
            handlers = sorted({e["where"] for e in tests["acknowledged"]})
            lines += ["", f"Acknowledged by pragma (blocking, reported, not failed): {len(handlers)} places: "
                      + ", ".join(f"`{h}`" for h in handlers)]
        if not tests["guard"].get("blockbuster", True):
            lines += ["", ("blockbuster was not installed in the service's environment: driver calls outside "
                           f"SQLAlchemy were not checked ({INSTALL_HINT}).")]
        if not tests["guard"].get("blockbuster-on-trio", True):
            lines += ["", ("The tests ran the application on trio (anyio_backend), where blockbuster's hooks do not "
                           "run: driver calls outside SQLAlchemy were not checked there.")]
    check = document["check"]
    lines += ["", f"**Static re-check** (`async-migrate check`): {check['status']}"]
    for finding in check["findings"]:
        lines.append(f"- `{finding['file']}:{finding['line']}` {finding['function']}: {finding['message']}")
    return "\n".join(lines) + "\n"


def _number(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def smoke_markdown(document: dict[str, Any]) -> str:
    """The smoke block: a table and a Mermaid chart of light-request latency, before and after."""
    sides = [s for s in ("before", "after") if document.get(s)]
    lines = [
        "### smoke: light-request latency under heavy load",
        "",
        (f"`{document['light']}` probed every {document['interval_ms']:g} ms while {document['concurrency']} x "
         f"`{document['heavy']}` run (uvicorn, one worker, loopback)."),
        "",
        "| | " + " | ".join(sides) + " |",
        "| --- |" + " --- |" * len(sides),
    ]
    rows = [
        ("light p50 (ms)", lambda s: _number(s["light"]["p50_ms"], 1)),
        ("light p95 (ms)", lambda s: _number(s["light"]["p95_ms"], 1)),
        ("light max (ms)", lambda s: _number(s["light"]["max_ms"], 1)),
        ("light requests", lambda s: str(s["light"]["count"])),
        ("light timed out (counted at --timeout)", lambda s: str(s["light_timeouts"])),
        ("heavy alone (ms)", lambda s: _number(s["heavy_solo_ms"], 0)),
        ("heavy throughput (req/s)", lambda s: _number(s["heavy_throughput"], 2)),
        ("loop-blocked ratio", lambda s: _number(s["loop_blocked_ratio"], 2)),
    ]
    for name, value in rows:
        lines.append(f"| {name} | " + " | ".join(value(document[s]) for s in sides) + " |")
    notes = [f"- {side}: {note}" for side in sides for note in document[side]["notes"]]
    lines += ([""] + notes if notes else []) + ["", f"**{document['verdict']}**"]
    # No light request answered under load: nothing to chart (JSON has no NaN, so these are None).
    bars = [document[side]["light"][stat + "_ms"] or 0.0 for stat in ("p50", "p95", "max") for side in sides]
    lines += [
        "",
        "```mermaid",
        "xychart-beta",
        '    title "Light request latency under load (ms)"',
        "    x-axis [" + ", ".join(f'"{side} {stat}"' for stat in ("p50", "p95", "max") for side in sides) + "]",
        f'    y-axis "ms" 0 --> {max(1, round(max(bars) * 1.1))}',
        "    bar [" + ", ".join(f"{bar:.1f}" for bar in bars) + "]",
        "```",
        "",
    ]
    return "\n".join(lines) + "\n"
