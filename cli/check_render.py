"""Presentation of `check` results: text for people, JSON for tools, GitHub workflow commands, SARIF."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from async_migrate.cli import github_escape, sarif_log
from async_migrate.cli.render import _paint, one_line
from async_migrate.codemods.check_result import CheckResult
from async_migrate.codemods.outcome import plural

_ODD = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # what rich's Text expands (tabs) or strips


def display_path(given: Path, relative: str) -> str:
    """A finding's file the way a reader (and GitHub) finds it: PATH as given, joined with the file.

    GitHub resolves annotation paths against the repository root, where CI runs
    `async-migrate check PATH`; an absolute PATH inside the working directory is
    made relative to it.
    """
    return _display_path(given, relative, os.getcwd())


@lru_cache(maxsize=4096)  # a file has many findings, and pathlib is slow at this
def _display_path(given: Path, relative: str, cwd: str) -> str:
    joined = Path(os.path.normpath(given / relative))
    if joined.is_absolute():
        try:
            joined = joined.relative_to(cwd)
        except ValueError:
            pass
    return joined.as_posix()


def annotation_path(given: Path, relative: str) -> str:
    """A finding's file as GitHub and code scanning resolve it: relative to the top of the git
    repository holding it, wherever the job runs (a `working-directory: services/api` step's
    `check .` gives `services/api/...`, never a path only that folder makes sense of).
    Outside a repository, as display_path gives it."""
    return _annotation_path(given, relative, os.getcwd())


@lru_cache(maxsize=4096)
def _annotation_path(given: Path, relative: str, cwd: str) -> str:
    absolute = Path(os.path.normpath(Path(cwd) / given / relative))
    top = _repository_top(absolute.parent)
    if top is None:
        return _display_path(given, relative, cwd)
    return absolute.relative_to(top).as_posix()


# A file a message cites with a line (`api/items.py:30`), relative to the application's root.
_CITED = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w.-]+\.pyi?)(?=:\d)")


def rebased(message: str, root: Path, shown: Callable[[str], str]) -> str:
    """`message` with the files it cites shown as `shown` shows a finding's own file: the
    analysis names them relative to the root, which reads wrong beside a location that starts
    with PATH as given (`check app` prints `app/api/items.py:28: ... (api/items.py:30)`)."""
    if ".py:" not in message:
        return message

    def swap(found: re.Match[str]) -> str:
        cited = found.group(1)
        return shown(cited) if _in_root(root, cited) else cited

    return _CITED.sub(swap, message)


@lru_cache(maxsize=4096)
def _in_root(root: Path, relative: str) -> bool:
    return (root / relative).is_file()


@lru_cache(maxsize=256)
def _repository_top(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def print_text(console: Console, errors: Console, result: CheckResult, given: Path, quiet: bool = False) -> None:
    write = console.file.write

    def shown(relative: str) -> str:
        return display_path(given, relative)

    # Findings are what check's reader acts on: -q keeps them, as ruff's does.
    for finding in result.findings:
        location = f"{display_path(given, finding.file)}:{finding.line}"
        rule = f"{finding.rule.code} {finding.rule.name}"
        rest = f" {finding.function}: {one_line(rebased(finding.message, result.root, shown))}"
        if not _ODD.search(location + rest):
            # Written straight to the file, as rich would lay it out: thousands of findings
            # take longer through rich's layout than the warm analysis itself.
            write(f"{_paint(console, location, 'bold')}: {_paint(console, rule, 'red')}{rest}\n")
            continue
        line = Text()  # tabs and control characters: rich expands and strips them
        line.append(location, style="bold")
        line.append(": ")
        line.append(rule, style="red")
        line.append(rest)
        console.print(line, soft_wrap=True)
    for error in result.errors:
        errors.print(
            Text(f"error: {display_path(given, error['file'])}: {error['message']}", style="bold red"),
            soft_wrap=True,
        )
    console.print(summary(result), markup=False, highlight=False, soft_wrap=True)


def summary(result: CheckResult) -> str:
    silenced = f", {len(result.silenced)} silenced by pragma" if result.silenced else ""
    resolvers = f" and {plural(result.resolvers, 'def GraphQL resolver')}" if result.resolvers else ""
    checked = f"checked {plural(result.handlers, 'async def handler')}{resolvers} in {plural(result.files, 'file')}"
    if result.findings:
        return f"{plural(len(result.findings), 'finding')} ({checked}{silenced})"
    # a clean result that proves nothing (check exits 2) must not read like an all-clear
    unproven = "; not an all-clear: see the warning below" if result.warnings else ""
    return f"no findings ({checked}{silenced}){unproven}"


def github_lines(result: CheckResult, given: Path) -> list[str]:
    """`::error file=...,line=...,title=async-migrate::message` per finding and per unreadable file,
    `::error title=async-migrate::warning` per warning check exits 2 for, and `::warning
    title=async-migrate::notice` per notice on how the project was read ("read `src/` as the import
    root"): the pull request shows what the JSON's `warnings` holds."""
    lines = []

    def shown(relative: str) -> str:
        return annotation_path(given, relative)

    for finding in result.findings:
        message = rebased(finding.message, result.root, shown)
        lines.append(
            _command(
                annotation_path(given, finding.file),
                finding.line,
                f"[{finding.rule.code} {finding.rule.name}] {finding.function}: {message}",
            )
        )
    for error in result.errors:
        lines.append(_command(annotation_path(given, error["file"]), error_line(error), f"cannot check: {error['message']}"))
    # What makes check exit 2 (no routes, PATH too deep): the pull request shows why it failed.
    lines += [f"::error title=async-migrate::{_data(warning)}" for warning in result.warnings]
    lines += [f"::warning title=async-migrate::{_data(notice)}" for notice in result.notices]
    return lines


_AT_LINE = re.compile(r"^(?:syntax error|not valid [\w.-]+) at line (\d+)\b")


def error_line(error: dict[str, str]) -> int | None:
    """The line a file's error names (a syntax error where the compiler gives one, a byte its
    encoding cannot decode): the pull request annotates that line, not the file as a whole."""
    found = _AT_LINE.match(error.get("message", ""))
    return int(found.group(1)) if found else None


def _command(file: str, line: int | None, message: str) -> str:
    properties = f"file={_property(file)}"
    if line is not None:
        properties += f",line={line}"
    return f"::error {properties},title=async-migrate::{_data(message)}"


_data = github_escape


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def sarif(result: CheckResult, given: Path) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one result per finding (rule id = the finding's code), and each file
    that could not be checked, and each warning check exits 2 for, as a tool execution notification."""
    def shown(relative: str) -> str:
        return annotation_path(given, relative)

    by_code = {finding.rule.code: finding.rule for finding in result.findings}
    codes = sorted(by_code)
    rules = [
        {
            "id": code,
            "name": by_code[code].name,
            "shortDescription": {"text": by_code[code].summary},
            "help": {"text": by_code[code].fix},
        }
        for code in codes
    ]
    results = [
        {
            "ruleId": finding.code,
            "ruleIndex": codes.index(finding.code),
            "level": "error",
            "message": {"text": f"{finding.function}: {rebased(finding.message, result.root, shown)}"},
            "locations": [_location(annotation_path(given, finding.file), finding.line)],
        }
        for finding in result.findings
    ]
    notifications = [
        {
            "level": "error",
            "message": {"text": f"cannot check: {error['message']}"},
            "locations": [_location(annotation_path(given, error["file"]), error_line(error))],
        }
        for error in result.errors
    ]
    # What makes check exit 2 (no routes, PATH too deep) leaves the run without an answer.
    notifications += [{"level": "error", "message": {"text": warning}} for warning in result.warnings]
    return sarif_log(rules, results, notifications)


def _location(uri: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if line:
        physical["region"] = {"startLine": max(1, line)}
    return {"physicalLocation": physical}
