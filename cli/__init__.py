"""The `async-migrate` command line.

Loaded first, before the command line's libraries: a Ctrl-C while Python loads them (the first
tenth of a second or so, before the commands' own guard is in place) exits 130 with one line on
standard error, and with `--format json` the error document on standard output, instead of a
KeyboardInterrupt traceback. `cli.main` gives SIGINT back to Python once it is loaded.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

# The JSON documents' `schema`: changes only when a field changes meaning.
SCHEMA = 1


def tool_version() -> str:
    found = _version_from_dist_info()
    if found is not None:
        return found
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("async-migrate")
    except PackageNotFoundError:
        return "unknown"


def _version_from_dist_info() -> str | None:
    """The installed version, read where importlib.metadata finds it first (the first
    `async_migrate-*.dist-info` on sys.path) without importing it and the email parser it
    loads: most of `--version`'s time. None when there is no such folder."""
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            if name.startswith("async_migrate-") and name.endswith(".dist-info"):
                try:
                    with open(os.path.join(entry or ".", name, "METADATA"), encoding="utf-8") as stream:
                        for line in stream:
                            if line.startswith("Version:"):
                                return line.split(":", 1)[1].strip()
                            if not line.strip():
                                break  # the headers end at the first blank line
                except OSError:
                    pass
                return None
    return None


def format_requested(args: Sequence[str]) -> str | None:
    """The `--format` the command line asks for (read before, or without, click); what follows
    `--` is another command line's (`batch ... -- phase1 ...`)."""
    args = list(args)
    args = args[: args.index("--")] if "--" in args else args
    found = None
    for index, arg in enumerate(args):
        if arg.startswith("--format="):
            found = arg.partition("=")[2]
        elif arg == "--format" and index + 1 < len(args):
            found = args[index + 1]
    return found


def json_requested(args: Sequence[str]) -> bool:
    return format_requested(args) == "json"


def sarif_log(
    rules: list[dict[str, Any]], results: list[dict[str, Any]], notifications: list[dict[str, Any]]
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one run; the run failed when it has notifications."""
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "async-migrate", "version": tool_version(), "rules": rules}},
                "results": results,
                "invocations": [
                    {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}
                ],
            }
        ],
    }


def github_escape(value: str) -> str:
    """A workflow command's message, its newlines kept."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def failure_output(args: Sequence[str], message: str, code: int, **more: Any) -> str | None:
    """What standard output carries when a run ends without its own output (exit 2 or 130), in the
    format asked for: a CI step reading it (an annotation, a SARIF upload, a JSON parser) gets the
    failure in its own format, not an empty stream."""
    requested = format_requested(args)
    if requested == "json":
        return json.dumps(error_document(command_named(args), message, code, **more), indent=2) + "\n"
    if command_named(args) != "check":  # only check writes github and sarif: `phase1 --format sarif` is a usage error
        return None
    if requested == "github":
        return f"::error title=async-migrate::{github_escape(message)}\n"
    if requested == "sarif":
        notification = {"level": "error", "message": {"text": message}}
        return json.dumps(sarif_log([], [], [notification]), indent=2) + "\n"
    return None


def command_named(args: Sequence[str]) -> str | None:
    """The command a command line runs: its first word that is no option."""
    return next((arg for arg in args if not arg.startswith("-")), None)


def error_document(command: str | None, message: str, code: int, **more: Any) -> dict[str, Any]:
    """What `--format json` prints when a run ends without its own document (exit 2 or 130):
    the same shape verify's failures have, led by the version and schema as every document."""
    return {
        "version": tool_version(), "schema": SCHEMA, "command": command, "ok": False,
        "error": message, "exit_code": code, **more,
    }


def _interrupted_while_loading(signum: int, frame: object) -> None:
    args = sys.argv[1:]
    message = "interrupted: nothing written"
    output = failure_output(args, message, 130)
    if output is not None:
        os.write(1, output.encode())
    os.write(2, f"async-migrate: {message}\n".encode())
    os._exit(130)


def restore_interrupts() -> None:
    """SIGINT raises KeyboardInterrupt again, for the commands' guard (and any caller) to handle."""
    try:
        if signal.getsignal(signal.SIGINT) is _interrupted_while_loading:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: nothing was installed
        pass


try:
    # Only Python's own handler is replaced: an ignored SIGINT (a background job) or a
    # handler the embedding program installed stays as it is.
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted_while_loading)
except ValueError:  # imported outside the main thread
    pass
