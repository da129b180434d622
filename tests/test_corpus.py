"""`scan` and `phase1` hold up on real code at scale.

The dry runs go over the installed sources of fastapi, starlette, sqlalchemy, pydantic,
libcst, rich and typer and over the whole standard library (its test suite and the
lib2to3 test data included: the files that are not valid Python for libcst must come
back as clean per-file errors). Each package directory is a PATH root. Two roots with
routes make the rewrite checks bite: a copy of the sample service and a synthetic
service stamped out from it (tests/bench/benchmark.py).

For every root:

* no crash: no exception, exit code 0 or 3, and exit 3 only with every failure a named
  per-file error about a file of the root that libcst or `ast` indeed rejects;
* nothing written by a dry run (every file hashed before and after);
* every rewritten file parses with libcst and with `ast`, its `ast` is the original's with
  exactly the converted `async def`s turned into `def`, and its bytes are the original's
  minus those `async` keywords: files without a converted route are unchanged;
* a second run over the rewritten output (written into a temporary copy) changes nothing.

Run: `.venv/bin/python -m pytest -m corpus -s tests/test_corpus.py` (the summary table is
printed even without -s).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import re
import shutil
import sysconfig
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import libcst
import pytest
from conftest import BOOKSHOP, REPO
from typer.testing import CliRunner

import async_migrate.codemods.run as runner
from async_migrate.cli.main import app

pytestmark = pytest.mark.corpus

PACKAGES = ("fastapi", "starlette", "sqlalchemy", "pydantic", "libcst", "rich", "typer")
MIN_FILES = 2500  # all roots together; the standard library alone has well over 1,500
SKIP_DIRS = {"__pycache__", "site-packages"}  # site-packages under stdlib is not the stdlib


def package_root(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"{name} is not installed"
    return Path(list(spec.submodule_search_locations)[0])


def python_files(root: Path) -> list[str]:
    """Our own walk (links not followed): the .py files of a root, relative posix paths."""
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for filename in filenames:
            if filename.endswith(".py"):
                found.append((Path(directory) / filename).relative_to(root).as_posix())
    return sorted(found)


def digest(root: Path, files: list[str]) -> dict[str, str]:
    hashes = {}
    for relative in files:
        try:
            hashes[relative] = hashlib.blake2b((root / relative).read_bytes(), digest_size=16).hexdigest()
        except OSError as error:
            hashes[relative] = f"<{error}>"
    return hashes


def load_benchmark():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("async_migrate_benchmark", REPO / "tests/bench/benchmark.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@dataclass
class Report:
    name: str
    files: int = 0  # our own count of .py files under the root
    read: int = 0  # files the tool discovered (and so read)
    parsed: int = 0  # of these, files with a marker the pre-pass parses
    lines: int = 0
    errors: int = 0
    handlers: int = 0
    converted: int = 0
    changed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def invoke(args: list[str]):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, [str(a) for a in args])
    document = None
    if result.exception is None or isinstance(result.exception, SystemExit):
        try:
            document = json.loads(result.stdout)
        except json.JSONDecodeError:
            pass
    return result, document


def crashed(result, document, report: Report, what: str) -> bool:  # type: ignore[no-untyped-def]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text = "".join(traceback.format_exception(*result.exc_info))[-3000:]
        report.problems.append(f"{what}: crashed:\n{text}")
        return True
    if result.exit_code not in (0, 3):
        report.problems.append(f"{what}: exit code {result.exit_code}: {result.output[-2000:]}")
        return True
    if document is None:
        report.problems.append(f"{what}: standard output is not one JSON document: {result.stdout[:500]}")
        return True
    return False


def check_errors(root: Path, files: set[str], result, document: dict, report: Report, what: str) -> None:  # type: ignore[no-untyped-def]
    errors = document["errors"]
    if (result.exit_code == 3) != bool(errors):
        report.problems.append(f"{what}: exit code {result.exit_code} with {len(errors)} errors")
    for error in errors:
        name, message = error.get("file"), error.get("message")
        if name not in files or not isinstance(message, str) or not message.strip():
            report.problems.append(f"{what}: not a named per-file error: {error}")
            continue
        if message.startswith(("internal error", "could not transform")):
            report.problems.append(f"{what}: the tool failed on {name}: {message}")
            continue
        if "too deeply nested" in message:
            continue  # a documented limit of the recursive libcst printer
        data = (root / name).read_bytes()
        try:
            libcst.parse_module(data)
            ast.parse(data)
        except Exception:  # noqa: BLE001 - the file is indeed not valid for one of them
            continue
        report.problems.append(f"{what}: {name} parses with libcst and ast, yet: {message}")


def converted_ast(before: bytes, converts: set[tuple[str, int]]) -> str:
    """The original's ast with exactly the converted `async def`s made `def`."""

    class MakeSync(ast.NodeTransformer):
        def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
            self.generic_visit(node)
            if (node.name, node.lineno) not in converts:
                return node
            converts.discard((node.name, node.lineno))
            replacement = ast.FunctionDef(**{f: getattr(node, f) for f in node._fields})
            return ast.copy_location(replacement, node)

    tree = MakeSync().visit(ast.parse(before))
    return ast.dump(tree)


def converted_bytes(before: bytes, converts: set[tuple[str, int]]) -> bytes:
    """The original's bytes with exactly `async` (and the blank after it) gone from each converted def."""
    lines = before.splitlines(keepends=True)  # \n, \r\n and \r: the lines Python counts
    for name, line in converts:
        pattern = re.compile(rb"\basync[ \t]+(def[ \t]+" + re.escape(name.encode()) + rb"\b)")
        if 0 < line <= len(lines):
            lines[line - 1] = pattern.sub(rb"\1", lines[line - 1], count=1)
    return b"".join(lines)


def check_changes(result: runner.Result, document: dict, report: Report) -> None:
    by_file: dict[str, list[dict]] = {}
    for handler in document["handlers"]:
        by_file.setdefault(handler["file"], []).append(handler)
    changed = [change.path for change in result.changed]
    if document["files_changed"] != changed:
        report.problems.append(f"files_changed {document['files_changed'][:5]}... is not what changed")
    for change in result.changed:
        handlers = by_file.get(change.path, [])
        converts = {
            (h["function"].rsplit(".", 1)[-1], h["line"]) for h in handlers if h["action"] == "convert"
        }
        offloads = any(b.get("offloaded") for h in handlers for b in h.get("blocking", ()))
        if not converts and not offloads:
            report.problems.append(f"{change.path} changed, but no route or dependency in it is converted")
        try:
            libcst.parse_module(change.after)
            after_tree = ast.dump(ast.parse(change.after))
        except Exception as error:  # noqa: BLE001
            report.problems.append(f"{change.path}: the rewritten file does not parse: {error!r}")
            continue
        if offloads:
            continue  # wrapped calls: the ast differs by more than the keyword
        if converted_bytes(change.before, converts) != change.after:
            report.problems.append(f"{change.path}: not byte for byte the original minus the `async` keywords")
        expected = set(converts)
        if converted_ast(change.before, expected) != after_tree:
            report.problems.append(f"{change.path}: the rewrite changed more than the converted `async def`s")
        if expected:
            report.problems.append(f"{change.path}: converted handlers not found as `async def`: {expected}")


def run_root(name: str, root: Path, tmp_path: Path, monkeypatch) -> Report:  # type: ignore[no-untyped-def]
    report = Report(name)
    files = python_files(root)
    report.files = len(files)
    before = digest(root, files)
    report.lines = 0
    for relative in files:
        try:
            data = (root / relative).read_bytes()
        except OSError:
            continue
        report.lines += data.count(b"\n")
        report.parsed += any(marker in data for marker in runner.MARKERS)

    started = time.perf_counter()
    result, document = invoke(["scan", root, "--format", "json"])
    report.seconds["scan"] = time.perf_counter() - started
    if not crashed(result, document, report, "scan"):
        check_errors(root, set(files), result, document, report, "scan")

    captured: list[runner.Result] = []
    real_phase1 = runner.phase1

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        captured.append(real_phase1(*args, **kwargs))
        return captured[-1]

    monkeypatch.setattr(runner, "phase1", spy)
    started = time.perf_counter()
    result, document = invoke(["phase1", root, "--format", "json"])
    report.seconds["phase1"] = time.perf_counter() - started
    monkeypatch.setattr(runner, "phase1", real_phase1)
    if crashed(result, document, report, "phase1") or not captured:
        return report
    phase1 = captured[0]
    report.read = phase1.files
    report.errors = len(document["errors"])
    report.handlers = len(document["handlers"])
    report.converted = sum(h["action"] == "convert" for h in document["handlers"])
    report.changed = len(phase1.changed)
    check_errors(root, set(files), result, document, report, "phase1")
    check_changes(phase1, document, report)
    if report.read < 0.9 * report.files:
        report.problems.append(f"the tool read {report.read} of {report.files} files")
    if digest(root, files) != before:
        report.problems.append("a dry run wrote into the root")

    # The second run over the rewritten output. Without changes the output is the input,
    # and the run above already shows that phase1 changes nothing on it.
    if phase1.changed:
        copy = tmp_path / f"second-{name}"
        shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(*SKIP_DIRS))
        for change in phase1.changed:
            (copy / change.path).write_bytes(change.after)
        started = time.perf_counter()
        again, second = invoke(["phase1", copy, "--check", "--format", "json"])
        report.seconds["second"] = time.perf_counter() - started
        if not crashed(again, second, report, "second run"):
            if second["files_changed"]:
                report.problems.append(f"the second run still changes {second['files_changed'][:10]}")
            if second["errors"] != document["errors"]:
                report.problems.append(f"the second run has other errors: {second['errors'][:5]}")
    return report


def test_scan_and_phase1_hold_up_on_real_code(tmp_path, monkeypatch, capsys):
    roots: list[tuple[str, Path]] = [(name, package_root(name)) for name in PACKAGES]
    roots.append(("stdlib", Path(sysconfig.get_paths()["stdlib"])))
    bookshop = tmp_path / "bookshop"
    shutil.copytree(BOOKSHOP, bookshop, ignore=shutil.ignore_patterns("__pycache__", "*.db", "storage"))
    roots.append(("bookshop", bookshop))
    synthetic = tmp_path / "synthetic"
    load_benchmark().generate(synthetic, modules=300)
    roots.append(("synthetic", synthetic))

    started = time.perf_counter()
    reports = [run_root(name, root, tmp_path, monkeypatch) for name, root in roots]
    elapsed = time.perf_counter() - started

    read = sum(r.read for r in reports)
    lines = f"{'root':<11} {'files':>6} {'read':>6} {'parsed':>6} {'lines':>9} {'errors':>6} {'handlers':>8} " \
            f"{'convert':>7} {'changed':>7} {'scan s':>7} {'phase1 s':>8} {'2nd s':>6}"
    table = [lines, "-" * len(lines)]
    for r in reports:
        table.append(
            f"{r.name:<11} {r.files:>6} {r.read:>6} {r.parsed:>6} {r.lines:>9,} {r.errors:>6} {r.handlers:>8} "
            f"{r.converted:>7} {r.changed:>7} {r.seconds.get('scan', 0):>7.1f} {r.seconds.get('phase1', 0):>8.1f} "
            f"{r.seconds.get('second', 0):>6.1f}"
        )
    summary = (
        f"corpus: the tool read {read} files ({sum(r.lines for r in reports):,} lines) in "
        f"{len(reports)} roots, twice (scan and phase1), in {elapsed:.0f}s"
    )
    table.append(summary)
    with capsys.disabled():
        print("\n" + "\n".join(table))

    problems = [f"[{r.name}] {problem}" for r in reports for problem in r.problems]
    assert not problems, f"{summary}\n" + "\n".join(problems[:40])
    assert read >= MIN_FILES, f"{summary}: expected at least {MIN_FILES} files"
    assert sum(r.changed for r in reports) > 0 and all(r.changed for r in reports[-2:]), (
        f"{summary}: the roots with routes changed nothing, the rewrite checks did not run"
    )
