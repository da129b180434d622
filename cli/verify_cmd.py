"""The `verify` and `smoke` commands: the only ones that import and run the target's code."""


import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from async_migrate.cli.console import Console, escape

AppOption = Annotated[
    str,
    typer.Option("--app", help="The application as MODULE:ATTRIBUTE, imported from PATH (e.g. main:app).",
                 show_default=False),
]
AgainstOption = Annotated[
    str | None,
    typer.Option("--against", help="The git revision of the before side [default: the commit a phase1/phase2 "
                 "--branch run started from, else HEAD~1 when HEAD is the commit --commit wrote, else HEAD]. The "
                 "after side is the working tree; the same code on both sides is refused.", show_default=False),
]
PythonOption = Annotated[
    str | None,
    typer.Option("--python", help="The service's interpreter [default: the active virtual environment's].",
                 show_default=False),
]
VReportOption = Annotated[
    Path | None,
    typer.Option("--report", help="Also write the Verification section into this Markdown report (added to, "
                 "or replaced in, a report phase one or two wrote); a .json name gets the JSON document."),
]


SHOWN_EVENTS = 3  # guard events printed per failing test


class _Termination:
    """SIGTERM taken as Ctrl-C, so worktrees and servers are cleaned up on the way out.

    A signal handler's exception is raised wherever the main thread happens to be, and the
    interpreter drops one raised inside a weakref callback or a `__del__` (asyncio runs one
    for every finished Task): the run would then go on and exit 0. So the signal is also
    remembered: the next step raises again, and a run that finishes anyway still exits 130.
    """

    def __init__(self) -> None:
        self.received = False

    def __call__(self, signum, frame):
        self.received = True
        raise KeyboardInterrupt


def _running(
    command: str, format, interrupted: str, work: Callable[[Callable[[str], None]], Any], quiet: bool = False,
) -> Any:
    """work(step), with SIGTERM taken as Ctrl-C (so its cleanup runs); a VerifyError exits with its
    code, an interrupt with 130."""
    from async_migrate.cli.main import Format
    from async_migrate.codemods.verify.runner import VerifyError

    err = Console(stderr=True)
    termination = _Termination()

    def step(text: str) -> None:
        if termination.received:
            raise KeyboardInterrupt
        if format is Format.text and not quiet:
            err.print(f"{command}: {text}", markup=False, highlight=False, soft_wrap=True)

    previous = signal.signal(signal.SIGTERM, termination)
    try:
        result = work(step)
        if termination.received:
            raise KeyboardInterrupt
        return result
    except VerifyError as error:
        raise _failed(command, format, str(error), error.code) from None
    except KeyboardInterrupt:
        raise _failed(command, format, f"interrupted: {interrupted}", 130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _failed(command: str, format, message: str, code: int):
    """The run could not go on: the message on standard error, and with --format json a document
    saying so on standard output, which a script reads whatever happened."""
    from async_migrate.cli.main import Format, _fail, _print_json

    if format is Format.json:
        _print_json({"command": command, "ok": False, "error": message, "exit_code": code})
    return _fail(message, code)


def _finish(path: Path | None, block: str, document: dict[str, Any], markdown, format, printer, ui) -> None:
    """Write the report, then print the JSON document or the summary (-q: its last line)."""
    from async_migrate.cli.main import Format, _print_json

    _write_report(path, block, document, markdown)
    if format is Format.json:
        _print_json(document)
    else:
        printer(ui.out, document, ui.quiet)


def _write_report(path: Path | None, block: str, document: dict[str, Any], markdown) -> None:
    from async_migrate.cli.main import _fail, _versioned
    from async_migrate.codemods import report_sections
    from async_migrate.codemods.verify.report import merge

    if path is None:
        return
    try:
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(_versioned(document), indent=2) + "\n", encoding="utf-8")
        else:
            report_sections.write(path, block, markdown(document), merge)
    except OSError as error:
        raise _fail(f"cannot write the report {path}: {error}") from None


def register(app: typer.Typer) -> None:
    from async_migrate.cli.main import (
        ColorOption,
        ConfigOption,
        Format,
        FormatOption,
        PathArgument,
        QuietOption,
        VerboseOption,
    )

    @app.command("verify")
    def verify_command(
        path: PathArgument,
        app_spec: AppOption,
        against: AgainstOption = None,
        python: PythonOption = None,
        test_command: Annotated[
            str | None,
            typer.Option("--test-command", help="The service's test command [default: test-command in "
                         "[tool.async-migrate], else `python -m pytest`; `python` is the service's interpreter].",
                         show_default=False),
        ] = None,
        tests_before: Annotated[
            bool, typer.Option("--tests-before", help="Also run the tests on the before side, to tell new "
                               "failures from old ones (done anyway, under the guard, when the guard finds "
                               "something: what it finds there too is a warning, not a failure).")
        ] = False,
        no_tests: Annotated[bool, typer.Option("--no-tests", help="Skip the test run (reported as skipped).")] = False,
        no_contract: Annotated[
            bool, typer.Option("--no-contract", help="Skip the HTTP contract comparison (reported as skipped).")
        ] = False,
        allow_override_gap: Annotated[
            bool, typer.Option("--allow-override-gap", help="Run the tests even though they override only the "
                               "synchronous session dependency, which the migrated routes escape: those routes "
                               "then write to the application's own database (named in the output). Without it "
                               "the tests are not run and the proof fails.")
        ] = False,
        no_cache: Annotated[
            bool, typer.Option("--no-cache", help="Neither read nor write the cache (PATH/.async_migrate_cache) "
                               "in the static re-check.")
        ] = False,
        format: FormatOption = Format.text,
        config: ConfigOption = None,
        report: VReportOption = None,
        quiet: QuietOption = False,
        verbose: VerboseOption = False,
        color: ColorOption = None,
    ) -> None:
        """Prove a migration: the HTTP contract (OpenAPI, auth dependencies) is unchanged against REV,
        the service's tests pass under the runtime guard (what it also finds on REV is a warning, not a
        failure), and `check` is clean. Imports and runs the
        target's code. Exit 0 all proven, 1 something differs or fails, 2 usage error, 3 the app does
        not import on one side."""
        from async_migrate.cli.main import EXIT_CHANGES, EXIT_OK, _check_report_file, _prepare, _ui
        from async_migrate.codemods.verify.report import verify_markdown
        from async_migrate.codemods.verify.runner import AppSpec, interpreter
        from async_migrate.codemods.verify.verify import Request, verify

        ui = _ui(quiet, verbose, color)
        root, settings = _prepare(path, config, ui)
        _check_report_file(report)

        def work(step):
            request = Request(
                root=root, app=AppSpec.parse(app_spec), python=interpreter(python), against=against,
                test_command=test_command, contract=not no_contract, tests=not no_tests,
                tests_before=tests_before, allow_override_gap=allow_override_gap, cache=not no_cache,
            )
            return verify(request, settings, step)

        result = _running("verify", format, "the before worktree and the test run were stopped and removed", work,
                          quiet)
        _finish(report, "verify", result.to_json(), verify_markdown, format, print_verification, ui)
        raise typer.Exit(EXIT_OK if result.ok else EXIT_CHANGES)

    @app.command("smoke")
    def smoke_command(
        path: PathArgument,
        app_spec: AppOption,
        heavy: Annotated[
            str, typer.Option("--heavy", help='The DB-heavy request, "METHOD /path?query".', show_default=False)
        ],
        light: Annotated[
            str, typer.Option("--light", help='The light request probed under load, "METHOD /path".',
                              show_default=False)
        ],
        headers: Annotated[
            list[str] | None, typer.Option("--header", metavar="'NAME: VALUE'", help='A header sent with every request, "NAME: VALUE" '
                                           "(repeatable; values are never printed).", show_default=False)
        ] = None,
        heavy_body: Annotated[
            str | None, typer.Option("--heavy-body", help="The heavy request's body, or @FILE to read it "
                                     "(sent as application/json unless a --header names the Content-Type).",
                                     show_default=False)
        ] = None,
        against: AgainstOption = None,
        python: PythonOption = None,
        concurrency: Annotated[
            int, typer.Option("--concurrency", "-k", min=1, max=64, help="Heavy requests sent at once.")
        ] = 8,
        interval: Annotated[
            float, typer.Option("--interval", min=1.0, max=1000.0, help="Milliseconds between light probes.")
        ] = 10.0,
        max_light: Annotated[
            int, typer.Option("--max-light", min=1, max=20000, help="Most light probes under load.")
        ] = 2000,
        timeout: Annotated[
            float, typer.Option("--timeout", min=1.0, max=600.0, help="Seconds each request may take.")
        ] = 60.0,
        port: Annotated[
            int | None, typer.Option("--port", min=1, max=65535,
                                        help="Serve on this loopback port [default: a free one].")
        ] = None,
        max_ratio: Annotated[
            float | None, typer.Option("--max-ratio", min=0.0,
                                          help="Exit 1 when the after side's loop-blocked ratio is above this "
                                          "(or means nothing: the heavy request is too light; or light "
                                          "requests timed out under load).")
        ] = None,
        format: FormatOption = Format.text,
        config: ConfigOption = None,
        report: VReportOption = None,
        quiet: QuietOption = False,
        verbose: VerboseOption = False,
        color: ColorOption = None,
    ) -> None:
        """Light-request latency under DB-heavy load, before (REV) and after (the working tree), each
        on one uvicorn worker on 127.0.0.1. Runs the target's code. Exit 0 when both sides were
        measured (1 with --max-ratio exceeded), 2 usage error, 3 the service starts on one side only."""
        from async_migrate.cli.main import EXIT_CHANGES, EXIT_OK, _check_report_file, _prepare, _ui
        from async_migrate.codemods.verify.report import smoke_markdown
        from async_migrate.codemods.verify.runner import AppSpec, interpreter, project_folders
        from async_migrate.codemods.verify.smoke import Endpoint, Settings, body, header, smoke

        ui = _ui(quiet, verbose, color)
        root, loaded = _prepare(path, config, ui)
        _check_report_file(report)

        def work(step):
            sent = tuple(header(text) for text in headers or ())
            payload = body(heavy_body) if heavy_body is not None else b""
            settings = Settings(
                root=root, app=AppSpec.parse(app_spec), python=interpreter(python),
                heavy=Endpoint.parse(heavy, "--heavy", sent, payload), light=Endpoint.parse(light, "--light", sent),
                against=against, concurrency=concurrency, interval=interval / 1000, max_light=max_light,
                timeout=timeout, port=port, folders=project_folders(root, loaded),
            )
            return smoke(settings, step)

        document = _running("smoke", format, "the servers were stopped and the before worktree removed", work,
                            quiet).to_json()
        _finish(report, "smoke", document, smoke_markdown, format, print_smoke, ui)
        after = document["after"]["loop_blocked_ratio"]
        # A ratio that means nothing does not meet the bound either, nor one that is only a lower
        # bound because light requests timed out.
        exceeded = max_ratio is not None and (
            after is None or after > max_ratio or not document["after"]["measurable"]
            or bool(document["after"]["light_timeouts"])
        )
        raise typer.Exit(EXIT_CHANGES if exceeded else EXIT_OK)


def _status(status: str) -> str:
    return {"pass": "[green]pass[/]", "fail": "[bold red]FAIL[/]", "skipped": "[yellow]skipped[/]",
            "unverified": "[bold red]UNVERIFIED[/]"}.get(status, status)


def _contract_counts(contract: dict[str, Any]) -> str:
    """What was compared and how much differs: the operations are the after side's OpenAPI's."""
    if contract["status"] == "skipped":
        return ""
    operations = contract["routes"]
    compared = f"{operations} OpenAPI operation{'s' if operations != 1 else ''} compared"
    differences = len(contract["differences"])
    if not differences:
        return f" ({compared})"
    return f" ({differences} difference{'s' if differences != 1 else ''}; {compared})"


def print_verification(console: Console, document: dict[str, Any], quiet: bool = False) -> None:
    """The verification as text; `quiet`: only the sections that did not pass (what needs acting
    on), then the verdict."""
    if not quiet:
        against = document.get("against")
        console.print(
            f"verify {escape(document['app'])} in {escape(document['root'])}"
            + (f" against {escape(against['rev'])} ({against['commit'][:12]})" if against else ""),
            highlight=False, soft_wrap=True,
        )
    contract = document["contract"]
    if not quiet or contract["status"] not in ("pass", "skipped"):
        console.print(f"HTTP contract: {_status(contract['status'])}" + _contract_counts(contract))
        for d in contract["differences"]:
            console.print(
                f"  {escape(d['route'])}: {escape(d['what'])}: {escape(d['before'])} -> {escape(d['after'])}",
                highlight=False, soft_wrap=True,
            )
    tests = document["tests"]
    if not quiet or tests["status"] not in ("pass", "skipped") or tests.get("preexisting") or tests.get("override_gaps"):
        _print_tests(console, tests)
    check = document["check"]
    if not quiet or check["status"] not in ("pass", "skipped") or check["errors"]:
        console.print(f"check: {_status(check['status'])}")
        for finding in check["findings"]:
            console.print(f"  {escape(finding['file'])}:{finding['line']} {escape(finding['function'])}: "
                          f"{escape(finding['message'])}", highlight=False, soft_wrap=True)
        for error in check["errors"]:
            console.print(f"  {escape(error['file'])}: {escape(error['message'])}", highlight=False, soft_wrap=True)
    _verdict(console, document)


def _print_tests(console: Console, tests: dict[str, Any]) -> None:
    line = f"tests under the runtime guard: {_status(tests['status'])}"
    if tests.get("refused"):
        line += f" ({escape(tests['command'])}: not run)"
    elif tests["status"] != "skipped":
        counts = ", ".join(f"{n} {k}" for k, n in sorted(tests["counts"].items())) or "no results"
        line += f" ({escape(tests['command'])}: {counts})"
    console.print(line, highlight=False, soft_wrap=True)
    if tests.get("refused"):
        console.print(f"  [bold red]{escape(tests['refused'])}[/]", highlight=False, soft_wrap=True)
    if tests.get("override_gap_database"):
        console.print("  [bold yellow]warning[/]: --allow-override-gap: the tests ran the migrated routes on the "
                      f"application's own database, not the tests': {escape(tests['override_gap_database'])}",
                      highlight=False, soft_wrap=True)
    if tests.get("problem"):
        console.print(f"  {escape(tests['problem'])}", highlight=False, soft_wrap=True)
    new = tests.get("new_failures")
    for failure in tests.get("failures", []):
        mark = "" if new is None else (" (new)" if failure["test"] in new else " (failed before too)")
        outcome = "failed under the guard" if failure["outcome"] == "guard" else failure["outcome"]
        console.print(f"  {escape(failure['test'])}: {outcome}{mark}", highlight=False, soft_wrap=True)
        for event in failure["guard"][:SHOWN_EVENTS]:
            console.print(
                f"    {event['kind']} during {escape(event['request'] or 'the test')} at {escape(event['where'])}: "
                + escape("; ".join(event["calls"])), highlight=False, soft_wrap=True,
            )
        if len(failure["guard"]) > SHOWN_EVENTS:
            console.print(f"    ... and {len(failure['guard']) - SHOWN_EVENTS} more (--format json lists them all)")
    for dropped in tests.get("dropped") or []:
        console.print(f"  {escape(dropped['test'])}: {dropped['before']} on the before side, {dropped['after']} now",
                      highlight=False, soft_wrap=True)
    # An override the migrated routes escape fails a run whose tests all passed: it says why itself.
    gap_fails = bool(tests.get("override_gaps")) and not tests.get("override_gap_allowed")
    unexplained = (tests["status"] == "fail" and not tests.get("failures") and not tests.get("dropped")
                   and not tests.get("problem") and not gap_fails and not tests.get("refused"))
    if unexplained:
        # No test failed, yet the command did (a module that does not collect, a usage error).
        console.print(f"  the test command exited with status {tests.get('exit_code')} with no failing test:",
                      highlight=False, soft_wrap=True)
    if tests.get("output_tail") and (unexplained or (
        tests.get("failures") and not any(f["guard"] for f in tests["failures"])
    )):
        console.print(escape(tests["output_tail"]), highlight=False, soft_wrap=True)
    preexisting = tests.get("preexisting") or []
    for group in preexisting[:SHOWN_EVENTS]:
        console.print(
            f"  [yellow]warning[/]: also on the before side (not introduced by this change, still to fix): "
            f"{group['kind']} during {escape(group['request'] or 'the test')} at {escape(group['where'])}: "
            + escape("; ".join(group["calls"])) + f" ({len(group['tests'])} tests)", highlight=False, soft_wrap=True,
        )
    if len(preexisting) > SHOWN_EVENTS:
        # dozens on a service phase one has not reached yet: the verdict stays in sight
        console.print(f"  ... and {len(preexisting) - SHOWN_EVENTS} more also on the before side "
                      "(--format json lists them all)", highlight=False, soft_wrap=True)
    for gap in tests.get("override_gaps") or []:
        console.print(f"  {_gap_line(tests, escape(gap))}", highlight=False, soft_wrap=True)
    if tests.get("uncompared"):
        console.print(f"  guard findings not compared with the before side: {escape(tests['uncompared'])}",
                      highlight=False, soft_wrap=True)
    if tests.get("acknowledged"):
        places = sorted({e["where"] for e in tests["acknowledged"]})
        console.print(f"  acknowledged by pragma (blocks, reported, not failed): {escape(', '.join(places))}",
                      highlight=False, soft_wrap=True)
    if tests["status"] != "skipped" and not tests.get("guard", {}).get("blockbuster", True):
        from async_migrate.codemods.verify.testrun import INSTALL_HINT

        # escaped: rich would read the extra's `[verify]` as markup and print `async-migrate`
        console.print("  note: blockbuster is not installed in the service's environment, so driver calls "
                      f"outside SQLAlchemy are not checked: {escape(INSTALL_HINT)}",
                      highlight=False, soft_wrap=True)
    if tests["status"] != "skipped" and not tests.get("guard", {}).get("blockbuster-on-trio", True):
        console.print("  note: the tests ran the application on trio (anyio_backend), where blockbuster's hooks "
                      "do not run: driver calls outside SQLAlchemy were not checked there",
                      highlight=False, soft_wrap=True)


def _gap_line(tests: dict[str, Any], gap: str) -> str:
    if tests.get("refused"):
        return ("[bold red]refused[/]: the migrated routes escape the tests' database override, so the tests "
                f"would run them against the application's own database: {gap}")
    mark = "[yellow]acknowledged[/]" if tests.get("override_gap_allowed") else "[bold red]not proven[/]"
    return (f"{mark}: the migrated routes escape the tests' database override, so the tests ran them against the "
            f"application's own database: {gap}")


def _verdict(console: Console, document: dict[str, Any]) -> None:
    warnings = len(document["tests"].get("preexisting") or [])
    if document["ok"]:
        console.print("verify: [green]passed[/]" + (f" with {warnings} pre-existing guard findings (warnings above)"
                                                     if warnings else ""))
    else:
        console.print("verify: [bold red]FAILED[/]")


def print_smoke(console: Console, document: dict[str, Any], quiet: bool = False) -> None:
    from rich.table import Table

    if quiet:
        _smoke_verdict(console, document)
        return

    against = document.get("against")
    console.print(
        f"smoke {escape(document['app'])}: {escape(document['light'])} every {document['interval_ms']:g} ms "
        f"while {document['concurrency']} x {escape(document['heavy'])} run"
        + (f"; before = {escape(against['rev'])} ({against['commit'][:12]}), after = the working tree" if against else ""),
        highlight=False, soft_wrap=True,
    )
    table = Table(box=None)
    table.add_column("")
    sides = [s for s in ("before", "after") if document.get(s)]
    for side in sides:
        table.add_column(side, justify="right")

    def number(value: Any, digits: int) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    rows = [
        ("light idle p95 (ms)", lambda d: number(d["idle"]["p95_ms"], 1)),
        ("light p50 under load (ms)", lambda d: number(d["light"]["p50_ms"], 1)),
        ("light p95 under load (ms)", lambda d: number(d["light"]["p95_ms"], 1)),
        ("light max under load (ms)", lambda d: number(d["light"]["max_ms"], 1)),
        ("light requests (errors)", lambda d: f"{d['light']['count']} ({d['light_errors']})"),
        ("light timed out under load", lambda d: str(d["light_timeouts"])),
        ("heavy alone (ms)", lambda d: number(d["heavy_solo_ms"], 0)),
        ("heavy throughput (req/s)", lambda d: number(d["heavy_throughput"], 2)),
        ("heavy requests (errors)", lambda d: f"{d['heavy_count']} ({d['heavy_errors']})"),
        ("loop-blocked ratio", lambda d: number(d["loop_blocked_ratio"], 2)),
    ]
    for name, value in rows:
        table.add_row(name, *(value(document[side]) for side in sides))
    console.print(table)
    for side in sides:
        for note in document[side]["notes"]:
            console.print(f"{side}: {escape(note)}", highlight=False, soft_wrap=True)
    _smoke_verdict(console, document)


def _smoke_verdict(console: Console, document: dict[str, Any]) -> None:
    """The last line. A blocked loop after exits 0 unless --max-ratio is given (smoke measures;
    the bound is the caller's), so the line itself must not read as a pass."""
    if document.get("session_off_loop"):
        # the heavy route runs in the threadpool: not a failed migration, a loop busy with the rest
        console.print(
            "smoke: [bold yellow]LOOP STILL BUSY[/]: the heavy route's Session work is off the event loop (a "
            "plain def, in the threadpool), but the loop is still busy (serialisation, the GIL): "
            f"{escape(document['verdict'])}",
            highlight=False, soft_wrap=True,
        )
    elif document.get("still_blocked"):
        console.print(f"smoke: [bold red]STILL BLOCKED[/]: {escape(document['verdict'])}", highlight=False,
                      soft_wrap=True)
    else:
        console.print(f"smoke: {escape(document['verdict'])}", highlight=False, soft_wrap=True)
