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


def json_requested(args: Sequence[str]) -> bool:
    """Whether the command line asks for `--format json` (read before, or without, click); what
    follows `--` is another command line's (`batch ... -- phase1 ...`)."""
    args = list(args)
    args = args[: args.index("--")] if "--" in args else args
    return any(
        arg == "--format=json" or (arg == "--format" and index + 1 < len(args) and args[index + 1] == "json")
        for index, arg in enumerate(args)
    )


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
    if json_requested(args):
        document = error_document(command_named(args), message, 130)
        os.write(1, (json.dumps(document, indent=2) + "\n").encode())
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
