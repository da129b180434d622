"""The warm cache: same answers as a cold run, exactly the changed files parsed again, and
never a crash or a write where none belongs."""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, write_tree

from async_migrate.codemods import cache as caching
from async_migrate.codemods import run as runner
from async_migrate.codemods.config import load
from async_migrate.codemods.phase1 import rewrite as phase1_rewrite
from async_migrate.codemods.workers import Worker

SAMPLES = [path for path in sorted((REPO / "testdata").iterdir()) if (path / "api").is_dir()]

COMMANDS = [("scan",), ("phase1",), ("phase1", "--offload-mixed"), ("check",)]


def a_router(sample: Path) -> str:
    """A router module of the sample, for phase two: the bookshop's books, else the first one."""
    if (sample / "api" / "books.py").exists():
        return "api/books.py"
    return next(p.relative_to(sample).as_posix() for p in sorted((sample / "api").glob("*.py"))
                if "@router." in p.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def cache_in_the_root(monkeypatch):  # type: ignore[no-untyped-def]
    """These tests look at the cache where users have it: PATH/.async_migrate_cache."""
    monkeypatch.delenv(caching.ENV_DIR, raising=False)
    monkeypatch.delenv(caching.ENV_OFF, raising=False)


def namespace(root: Path) -> Path:
    folder = caching.Cache.open(root.resolve(), load(root.resolve())).folder
    assert folder is not None
    return folder


def parsed(root: Path) -> list[str]:
    """The files the last run parsed, from the cache's own record."""
    return json.loads((namespace(root) / "last-run.json").read_text())["parsed"]


def document(cli, root: Path, *args: str) -> dict:  # type: ignore[no-untyped-def]
    result = cli(*args[:1], root, *args[1:], "--format", "json")
    assert result.exit_code in (0, 1, 3), result.output
    return json.loads(result.stdout)


def copy(source: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(source, tmp_path / source.name, ignore=shutil.ignore_patterns(
        "__pycache__", "*.db", caching.FOLDER)))


def read_table(path: Path) -> dict:
    """A cache table as the cache holds it, each entry without its seal."""
    data = path.read_bytes()
    return {key: entry[:-1] for key, entry in caching._load(data[data.index(b"\n") + 1 :]).items()}


def write_table(path: Path, table: dict) -> None:
    """Forge a table whose entries pass the seal check (what the cache made of them, or a crafted file)."""
    data = path.read_bytes()
    sealed = {key: (*entry, caching._seal(key, entry)) for key, entry in table.items()}
    path.write_bytes(data[: data.index(b"\n") + 1] + pickle.dumps(sealed))


# ---------------------------------------------------------------- same answers


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_a_warm_run_gives_the_cold_json_for_every_command(cli, tmp_path, sample):
    root = copy(sample, tmp_path)
    for command in [*COMMANDS, ("phase2", "--subsystem", a_router(sample))]:
        cold = document(cli, root, *command, "--no-cache")
        filled = document(cli, root, *command)
        warm = document(cli, root, *command)
        assert filled == cold, command
        assert warm == cold, command
        assert parsed(root) == [], command  # facts and rewrites all came from the cache


def test_rewriting_from_cached_facts_writes_what_a_cold_run_writes(cli, tmp_path, bookshop_copy):
    cold_root = bookshop_copy
    warm_root = copy(cold_root, tmp_path / "warm")
    assert cli("phase1", cold_root, "--apply", "--allow-dirty", "--no-cache").exit_code == 0
    assert cli("check", warm_root).exit_code == 1  # every file's facts cached, no tree kept
    assert cli("phase1", warm_root, "--apply", "--allow-dirty").exit_code == 0
    # The files to rewrite, and only those, were parsed again, to have a tree to rewrite.
    changed = sorted(p.relative_to(cold_root).as_posix() for p in cold_root.rglob("*.py")
                     if p.read_bytes() != (REPO / "testdata" / "bookshop" / p.relative_to(cold_root)).read_bytes())
    assert changed and parsed(warm_root) == changed
    for path in cold_root.rglob("*.py"):
        assert (warm_root / path.relative_to(cold_root)).read_bytes() == path.read_bytes()


@pytest.fixture
def bookshop_copy(tmp_path):  # type: ignore[no-untyped-def]
    return copy(REPO / "testdata" / "bookshop", tmp_path / "cold")


# ---------------------------------------------------------------- invalidation

ENGINE = """
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session, sessionmaker

    engine = create_engine("sqlite:///./app.db")
    database_sessionmaker = sessionmaker(engine)


    def get_db_session():
        with database_sessionmaker() as session:
            yield session
"""
DEPENDENCIES = """
    from typing import Annotated

    from fastapi import Depends
    from sqlalchemy.orm import Session

    from db.engine import get_db_session

    session_dependency = Annotated[Session, Depends(get_db_session)]
"""
BOOKS = """
    from fastapi import APIRouter

    from core.dependencies import session_dependency
    from services.{module} import load_books

    router = APIRouter()


    @router.get("/books")
    async def read_books(session: session_dependency):
        return load_books()
"""
HELPER_BLOCKING = """
    from db.engine import database_sessionmaker


    def load_books():
        with database_sessionmaker() as session:
            return session.execute("select 1").all()
"""
HELPER_PURE = """
    def load_books():
        return []
"""
AUTHORS = """
    from fastapi import APIRouter

    from core.dependencies import session_dependency

    router = APIRouter()


    @router.get("/authors")
    async def read_authors(session: session_dependency):
        return session.execute("select 1").all()
"""


def service(root: Path) -> Path:
    return write_tree(root, {
        "db/__init__.py": "",
        "db/engine.py": ENGINE,
        "core/__init__.py": "",
        "core/dependencies.py": DEPENDENCIES,
        "api/__init__.py": "",
        "api/books.py": BOOKS.format(module="books"),
        "services/__init__.py": "",
        "services/books.py": HELPER_BLOCKING,
    })


def findings(document: dict) -> list[str]:
    return sorted(f"{f['file']}:{f['function']}" for f in document["findings"])


def test_editing_adding_deleting_and_renaming_parse_exactly_the_files_concerned(cli, tmp_path):
    root = service(tmp_path / "app")
    first = document(cli, root, "check")
    assert findings(first) == ["api/books.py:read_books"]
    assert "services/books.py" in parsed(root)

    assert findings(document(cli, root, "check")) == ["api/books.py:read_books"]
    assert parsed(root) == []

    os.utime(root / "services" / "books.py", (1, 1))  # a new mtime alone changes nothing
    document(cli, root, "check")
    assert parsed(root) == []

    # Editing the helper: only it is parsed, and the route that calls it is judged anew.
    write_tree(root, {"services/books.py": HELPER_PURE})
    edited = document(cli, root, "check")
    assert parsed(root) == ["services/books.py"]
    assert findings(edited) == []
    assert edited == document(cli, root, "check", "--no-cache")

    # Adding a router: only it is parsed.
    write_tree(root, {"api/authors.py": AUTHORS})
    added = document(cli, root, "check")
    assert parsed(root) == ["api/authors.py"]
    assert findings(added) == ["api/authors.py:read_authors"]

    # Deleting it: nothing is parsed, its findings and its cache entry are gone.
    (root / "api" / "authors.py").unlink()
    deleted = document(cli, root, "check")
    assert parsed(root) == []
    assert findings(deleted) == []
    assert "api/authors.py" not in caching.Cache.open(root.resolve(), load(root))._facts_table("api/authors.py")

    # Renaming the helper module (and the import that names it): those two files are parsed.
    write_tree(root, {"services/books.py": HELPER_BLOCKING})
    document(cli, root, "check")
    (root / "services" / "books.py").rename(root / "services" / "library.py")
    write_tree(root, {"api/books.py": BOOKS.format(module="library")})
    renamed = document(cli, root, "check")
    assert parsed(root) == ["api/books.py", "services/library.py"]
    assert findings(renamed) == ["api/books.py:read_books"]
    assert renamed == document(cli, root, "check", "--no-cache")


def analysed(root: Path) -> dict[str, str]:
    """Whether the last run reused its cross-module analysis ("reused") or made it ("computed")."""
    return json.loads((namespace(root) / "last-run.json").read_text())["analysis"]


def handlers(document: dict) -> list[tuple[str, str, int, str]]:
    """The routes' decisions (the session dependency's is the same every time)."""
    return [(h["file"], h["function"], h["line"], h["action"]) for h in document["handlers"]
            if h["file"].startswith("api/")]


def warm_run(root: Path) -> dict:
    return json.loads((namespace(root) / "last-run.json").read_text())


def test_check_takes_the_last_run_whole_while_every_file_reads_the_same(cli, tmp_path):
    root = service(tmp_path / "app")
    write_tree(root, {"api/notes.py": "NOTES = ['plain text']\n"})  # skipped by the text pre-filter
    first = document(cli, root, "check")
    filled = parsed(root)
    assert filled and "api/notes.py" not in filled, filled
    assert first == document(cli, root, "check")
    # no module's facts loaded, only their identities: each file parsed then came from the cache
    assert (parsed(root), warm_run(root)["reused"]) == ([], len(filled))
    assert analysed(root) == {"check": "reused"}

    # A comment: that file is parsed, its facts keep their identity, the rest is the last run's;
    # of the facts table, only the part holding that file is written again.
    parts = {part.name: part.read_bytes() for part in namespace(root).glob("facts.*")}
    (root / "services" / "books.py").write_text(
        (root / "services" / "books.py").read_text() + "# a note\n", encoding="utf-8")
    assert document(cli, root, "check") == first
    assert parsed(root) == ["services/books.py"]
    assert warm_run(root)["reused"] == len(filled) - 1
    changed = [name for name, data in parts.items() if (namespace(root) / name).read_bytes() != data]
    assert changed == [caching._facts_part("services/books.py")]

    # A file the pre-filter skips that no longer compiles is named, never passed over.
    write_tree(root, {"api/notes.py": "NOTES = ['plain text'\n"})
    broken = document(cli, root, "check")
    assert [e["file"] for e in broken["errors"]] == ["api/notes.py"]
    assert broken == document(cli, root, "check", "--no-cache")
    assert document(cli, root, "check") == broken  # a failed file is read again every run

    # A new file, and the last run's record does not fit: all read again, the same as cold.
    write_tree(root, {"api/notes.py": "NOTES = ['plain text']\n", "api/more.py": HELPER_BLOCKING})
    assert document(cli, root, "check") == document(cli, root, "check", "--no-cache")


def same_as_cold(cli, root: Path, *args: str) -> dict:  # type: ignore[no-untyped-def]
    """The run's JSON, once its text (the diff with it) and its JSON are checked to be a cold run's."""
    text, cold_text = cli(*args[:1], root, *args[1:]), cli(*args[:1], root, *args[1:], "--no-cache")
    assert (text.exit_code, text.output) == (cold_text.exit_code, cold_text.output), args
    warm = document(cli, root, *args)
    assert warm == document(cli, root, *args, "--no-cache"), args
    return warm


@pytest.mark.parametrize("command", ["phase1", "scan"])
def test_a_run_taking_the_last_one_whole_gives_the_cold_output_after_each_edit(cli, tmp_path, command):
    root = service(tmp_path / "app")
    write_tree(root, {"api/notes.py": "NOTES = ['plain text']\n"})  # skipped by the text pre-filter
    document(cli, root, command)
    filled = parsed(root)  # the first run with the cache parses every file the pre-filter lets through
    assert filled and "api/notes.py" not in filled, filled
    first = same_as_cold(cli, root, command)
    assert document(cli, root, command) == first
    assert (parsed(root), warm_run(root)["reused"], analysed(root)) == ([], len(filled), {command: "reused"})

    # A comment in the file rewritten: its facts keep their identity, its rewrite is made again
    # from its new bytes (the diff shows the comment), everything else is the last run's.
    (root / "api" / "books.py").write_text((root / "api" / "books.py").read_text() + "# a note\n", encoding="utf-8")
    commented = same_as_cold(cli, root, command)
    (root / "api" / "books.py").write_text((root / "api" / "books.py").read_text() + "# another\n", encoding="utf-8")
    warm = document(cli, root, command)
    assert (parsed(root), warm_run(root)["reused"], analysed(root)) == (["api/books.py"], len(filled) - 1, {command: "reused"})
    assert warm == same_as_cold(cli, root, command)
    if command == "scan":
        # Scan's preview reads text beside the facts: a module only searched for words it lacks
        # (event listeners) is read again when one appears, one read whole on any change.
        for path, line in [("api/books.py", "# listen\n"), ("db/engine.py", "# a note\n")]:
            (root / path).write_text((root / path).read_text() + line, encoding="utf-8")
            edited = document(cli, root, command)
            assert analysed(root) == {command: "computed"}, path
            assert edited == same_as_cold(cli, root, command)
            assert document(cli, root, command) == edited and analysed(root) == {command: "reused"}
    if command == "phase1":
        assert "+# another" not in commented["diff"] and " # another" in document(cli, root, command)["diff"]
        same_as_cold(cli, root, command, "--offload-mixed")  # other options are another run's record

    same_as_cold(cli, root, command, "--only", "api/books.py")
    same_as_cold(cli, root, command)

    # A function added, a file added, deleted, renamed, the configuration changed: as cold.
    write_tree(root, {"services/books.py": textwrap.dedent(HELPER_BLOCKING) + "\n\ndef count_books():\n    return 0\n"})
    same_as_cold(cli, root, command)
    write_tree(root, {"api/authors.py": AUTHORS})
    assert "api/authors.py" in json.dumps(same_as_cold(cli, root, command))
    (root / "api" / "authors.py").unlink()
    assert "api/authors.py" not in json.dumps(same_as_cold(cli, root, command))
    (root / "services" / "books.py").rename(root / "services" / "library.py")
    same_as_cold(cli, root, command)  # the import no longer resolves
    write_tree(root, {"api/books.py": BOOKS.format(module="library")})
    same_as_cold(cli, root, command)
    write_tree(root, {"pyproject.toml": '[tool.async-migrate]\nexclude = ["api/notes.py"]\n'})
    same_as_cold(cli, root, command)
    same_as_cold(cli, root, command)

    if command == "phase1":  # and what --apply writes
        twin = copy(root, tmp_path / "cold")
        applied = cli(command, root, "--apply", "--allow-dirty")
        assert applied.exit_code == 0, applied.output
        assert cli(command, twin, "--apply", "--allow-dirty", "--no-cache").exit_code == 0
        assert {p.relative_to(root): p.read_bytes() for p in root.rglob("*.py")} == {
            p.relative_to(twin): p.read_bytes() for p in twin.rglob("*.py")}


@pytest.mark.parametrize("command", ["check", "phase1"])
def test_the_analysis_is_reused_exactly_while_every_module_reads_the_same(cli, tmp_path, command):
    root = service(tmp_path / "app")
    document(cli, root, command)
    assert analysed(root) == {command: "computed"}
    document(cli, root, command)
    assert analysed(root) == {command: "reused"}

    # A comment at the end of the helper leaves its facts as they were: parsed, not re-analysed.
    (root / "services" / "books.py").write_text(
        (root / "services" / "books.py").read_text() + "# a note\n", encoding="utf-8")
    warm = document(cli, root, command)
    assert parsed(root) == ["services/books.py"]
    assert analysed(root) == {command: "reused"}
    assert warm == document(cli, root, command, "--no-cache")

    # The helper no longer opens a Session: the route in another file is judged anew.
    write_tree(root, {"services/books.py": HELPER_PURE})
    edited = document(cli, root, command)
    assert analysed(root) == {command: "computed"}
    assert edited == document(cli, root, command, "--no-cache")
    if command == "check":
        assert findings(edited) == []
    else:
        assert handlers(edited) == [("api/books.py", "read_books", 10, "keep")]

    # A line added above the route moves it: the analysis is made again, with the new line.
    text = (root / "api" / "books.py").read_text()
    (root / "api" / "books.py").write_text("# a header\n" + text, encoding="utf-8")
    moved = document(cli, root, command)
    assert analysed(root) == {command: "computed"}
    assert moved == document(cli, root, command, "--no-cache")

    # Back to the blocking helper: a set of facts seen before, analysed again all the same.
    write_tree(root, {"services/books.py": HELPER_BLOCKING})
    back = document(cli, root, command)
    assert back == document(cli, root, command, "--no-cache")
    if command == "check":
        assert findings(back) == ["api/books.py:read_books"]
    else:
        assert handlers(back) == [("api/books.py", "read_books", 11, "convert")]


def test_the_analysis_is_kept_apart_per_command_and_options(cli, tmp_path):
    root = service(tmp_path / "app")
    write_tree(root, {"api/authors.py": AUTHORS})
    for args in [("phase1",), ("phase1", "--offload-mixed"), ("phase1", "--only", "api/authors.py"), ("check",)]:
        first = document(cli, root, *args)
        assert analysed(root) == {args[0]: "computed"}, args
        assert first == document(cli, root, *args, "--no-cache"), args
    for args in [("phase1", "--only", "api/authors.py"), ("phase1",)]:
        assert document(cli, root, *args) == document(cli, root, *args, "--no-cache"), args
    assert handlers(document(cli, root, "phase1", "--only", "api/authors.py")) == [
        ("api/authors.py", "read_authors", 9, "convert")
    ]


@pytest.mark.parametrize("name", ["analysis", "facts-ids"])
def test_a_damaged_analysis_or_identity_file_is_ignored(cli, tmp_path, name):
    root = service(tmp_path / "app")
    cold = document(cli, root, "check", "--no-cache")
    document(cli, root, "check")
    (namespace(root) / name).write_bytes(os.urandom(200))
    assert document(cli, root, "check") == cold
    assert document(cli, root, "check") == cold
    assert analysed(root) == {"check": "reused"}


def test_another_configuration_or_tool_version_never_reuses_the_cache(cli, tmp_path, monkeypatch):
    root = service(tmp_path / "app")
    document(cli, root, "check")
    everything = parsed(root)
    document(cli, root, "check")
    assert parsed(root) == []

    write_tree(root, {"pyproject.toml": '[tool.async-migrate]\nsafe-decorators = ["app.metrics.counted"]\n'})
    document(cli, root, "check")
    assert parsed(root) == everything

    monkeypatch.setattr(caching, "tool_fingerprint", lambda: "another version of the tool")
    document(cli, root, "check")
    assert parsed(root) == everything


def test_plan_keys_do_not_depend_on_the_process_string_hash_seed():
    code = textwrap.dedent("""
        from async_migrate.codemods.cache import key_of
        from async_migrate.codemods.phase1.rewrite import Plan
        names = frozenset(f"handler_{i}" for i in range(50))
        print(key_of(Plan(names, {name: [1, 2] for name in names}, None)))
    """)
    keys = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(keys) == 1


def test_facts_do_not_depend_on_the_process_string_hash_seed():
    # A warm run compares a changed file's facts with those a cold run's worker read (another
    # process): facts in a set's order (`db, user = pair` bound its names so) differ by seed, and
    # every edit then re-ran the whole analysis.
    code = textwrap.dedent("""
        import hashlib, pickle, sys
        from pathlib import Path
        from async_migrate.codemods import astcollect
        digest = hashlib.blake2b()
        for root in sys.argv[1:]:
            for path in sorted(Path(root).rglob("*.py")):
                digest.update(pickle.dumps(astcollect.collect(path.as_posix(), path.read_text(encoding="utf-8"))))
        print(digest.hexdigest())
    """)
    samples = [str(REPO / "testdata" / name) for name in ("bookshop", "taskboard")]
    digests = {
        subprocess.run([sys.executable, "-c", code, *samples], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1


def test_a_plan_with_a_value_of_no_known_form_is_not_cached():
    with pytest.raises(caching.Uncacheable):
        caching.key_of(phase1_rewrite.Plan(frozenset({"f"}), {}, object()))  # type: ignore[arg-type]


def test_a_parsed_file_keeps_its_tree_digest_exactly_while_its_tree_is_the_same():
    import ast

    source = "def f(db):\n    return db.get(Book, 1)  # one\n"
    digest = runner._tree_digest(ast.parse(source))
    assert runner._tree_digest(ast.parse(source.replace("# one", "# two"))) == digest
    assert runner._tree_digest(ast.parse(source.replace("db.get", "db .get"))) != digest  # a position
    assert runner._tree_digest(ast.parse(source.replace("1", "2"))) != digest
    # nested deeper than the pickler goes: the same tree still gives the same digest
    deep = "x = " + "+".join(["a"] * 600)
    assert runner._tree_digest(ast.parse(deep)) == runner._tree_digest(ast.parse(deep + "  # c"))
    assert runner._tree_digest(ast.parse(deep)) != runner._tree_digest(ast.parse(deep + "+a"))


# ---------------------------------------------------------------- damage, permissions, concurrency


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong shape", "bad entry"])
def test_a_damaged_cache_file_is_ignored_and_rewritten(cli, tmp_path, damage):
    # Phase two loads every module's facts (`check`, `scan` and `phase1` on unchanged files read
    # only their identities).
    root = service(tmp_path / "app")
    checked = document(cli, root, "check", "--no-cache")
    phase2 = ("phase2", "--subsystem", "api/books.py")
    cold = document(cli, root, *phase2, "--no-cache")
    document(cli, root, *phase2)
    everything = parsed(root)
    document(cli, root, "check")
    parts = sorted(namespace(root).glob("facts.*"))
    assert len(parts) > 1  # the facts table is kept in parts
    facts_file = namespace(root) / caching._facts_part("services/books.py")
    for part in parts if damage != "bad entry" else []:
        data = part.read_bytes()
        if damage == "garbage":
            part.write_bytes(os.urandom(len(data)))
        elif damage == "truncated":
            part.write_bytes(data[: len(data) // 2])
        elif damage == "empty":
            part.write_bytes(b"")
        else:
            part.write_bytes(data[: data.index(b"\n") + 1] + pickle.dumps(["not", "a", "table"]))
    if damage == "bad entry":  # sealed: what passes the seal is still unpickled with care
        table = read_table(facts_file)
        digest, variants = table["services/books.py"]
        table["services/books.py"] = (digest, {name: b"\x80\x05not a pickle" for name in variants})
        write_table(facts_file, table)
    assert document(cli, root, "check") == checked
    assert document(cli, root, *phase2) == cold
    assert parsed(root) == (["services/books.py"] if damage == "bad entry" else everything)
    assert document(cli, root, *phase2) == cold
    assert parsed(root) == []  # rewritten whole


class _Payload:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("touch PWNED",))


def test_a_crafted_cache_file_cannot_run_code(cli, tmp_path, monkeypatch):
    root = service(tmp_path / "app")
    cold = document(cli, root, "check", "--no-cache")
    document(cli, root, "check")
    facts_file = namespace(root) / caching._facts_part("api/books.py")
    table = read_table(facts_file)
    digest, variants = table["api/books.py"]
    # sealed as the cache seals: a crafted file can carry a matching seal
    table["api/books.py"] = (digest, {name: pickle.dumps(_Payload()) for name in variants})
    write_table(facts_file, table)
    monkeypatch.chdir(tmp_path)
    assert document(cli, root, "check") == cold
    assert not (tmp_path / "PWNED").exists()
    assert parsed(root) == ["api/books.py"]


def test_a_target_folder_that_cannot_be_written_works_without_a_cache(cli, tmp_path, monkeypatch):
    root = service(tmp_path / "app")
    cold = document(cli, root, "check", "--no-cache")
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if caching.FOLDER in self.parts:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    result = cli("check", root, "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == cold
    assert result.stderr == "" or "cache" not in result.stderr
    assert not (root / caching.FOLDER).exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes through permission bits")
def test_a_read_only_target_folder_works_without_a_cache(cli, tmp_path):
    root = service(tmp_path / "app")
    cold = document(cli, root, "check", "--no-cache")
    root.chmod(0o555)
    try:
        assert document(cli, root, "check") == cold
        assert not (root / caching.FOLDER).exists()
    finally:
        root.chmod(0o755)


def test_a_cache_folder_in_the_way_is_left_alone(cli, tmp_path):
    root = service(tmp_path / "app")
    cold = document(cli, root, "check", "--no-cache")
    (root / caching.FOLDER).write_text("not a folder")
    assert document(cli, root, "check") == cold
    assert (root / caching.FOLDER).read_text() == "not a folder"


def test_concurrent_runs_agree_and_leave_a_sound_cache(tmp_path):
    root = service(tmp_path / "app")
    for index in range(30):  # enough files that the runs overlap
        write_tree(root, {f"api/extra_{index}.py": AUTHORS.replace("/authors", f"/extra{index}")})
    environment = {k: v for k, v in os.environ.items() if k not in (caching.ENV_DIR, caching.ENV_OFF)}
    command = [str(Path(sys.executable).parent / "async-migrate"), "check", str(root), "--format", "json"]
    runs = [subprocess.Popen(command + (["--no-cache"] if index == 0 else []), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=environment, text=True) for index in range(4)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [1, 1, 1, 1], [err for _, err in outputs]
    documents = [json.loads(out) for out, _ in outputs]
    assert all(d == documents[0] for d in documents)
    warm = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)
    assert json.loads(warm.stdout) == documents[0]
    assert parsed(root) == []
    assert not [p for p in namespace(root).iterdir() if p.name.endswith(".tmp")]


def test_a_file_changed_between_analysis_and_rewrite_is_not_rewritten(tmp_path):
    root = service(tmp_path / "app")
    expected = caching.digest((root / "api" / "books.py").read_bytes())
    books = root / "api" / "books.py"
    books.write_bytes(books.read_bytes() + b"# edited meanwhile\n")
    plan = phase1_rewrite.Plan(convert=frozenset({"read_books"}))
    result = Worker(root).rewrite("api/books.py", phase1_rewrite.apply, plan, expected=expected)
    assert result.error is not None and "changed on disk" in result.error
    assert not result.changed
    fresh = Worker(root).rewrite("api/books.py", phase1_rewrite.apply, plan, expected=
                                 caching.digest((root / "api" / "books.py").read_bytes()))
    assert fresh.error is None and fresh.changed


# ---------------------------------------------------------------- --no-cache, clean, location


def test_no_cache_neither_reads_nor_writes(cli, tmp_path):
    root = service(tmp_path / "app")
    document(cli, root, "check", "--no-cache")
    assert not (root / caching.FOLDER).exists()

    document(cli, root, "check")
    # Forge the helper's entry: the facts of the blocking helper under the pure helper's digest.
    facts_file = namespace(root) / caching._facts_part("services/books.py")
    write_tree(root, {"services/books.py": HELPER_PURE})
    table = read_table(facts_file)
    _, variants = table["services/books.py"]
    table["services/books.py"] = (caching.digest((root / "services" / "books.py").read_bytes()), variants)
    write_table(facts_file, table)
    before = {p.name: p.read_bytes() for p in namespace(root).iterdir()}

    assert findings(document(cli, root, "check", "--no-cache")) == []  # the file as it is
    assert {p.name: p.read_bytes() for p in namespace(root).iterdir()} == before
    assert findings(document(cli, root, "check")) == ["api/books.py:read_books"]  # what the cache says


def test_the_environment_can_turn_the_cache_off(cli, tmp_path, monkeypatch):
    root = service(tmp_path / "app")
    monkeypatch.setenv(caching.ENV_OFF, "1")
    document(cli, root, "check")
    assert not (root / caching.FOLDER).exists()


def test_the_cache_folder_is_ignored_by_git_and_tagged(cli, tmp_path):
    root = service(tmp_path / "app")
    document(cli, root, "scan")
    folder = root / caching.FOLDER
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
                            capture_output=True, text=True, check=True).stdout
    assert caching.FOLDER not in status and "api/books.py" in status


def test_clean_removes_the_cache_and_nothing_else(cli, tmp_path):
    root = service(tmp_path / "app")
    document(cli, root, "scan")
    files = sorted(p for p in root.rglob("*") if caching.FOLDER not in p.parts)
    result = cli("clean", root)
    assert result.exit_code == 0 and "removed" in result.stderr
    assert not (root / caching.FOLDER).exists()
    assert sorted(root.rglob("*")) == files
    again = cli("clean", root)
    assert again.exit_code == 0 and "no cache" in again.stderr
    assert cli("clean", root / "missing").exit_code == 2


def test_clean_as_json_says_which_folder_and_whether_it_was_there(cli, tmp_path):
    root = service(tmp_path / "app")
    document(cli, root, "scan")
    first = cli("clean", root, "--format", "json")
    assert first.exit_code == 0 and first.stderr == ""
    removed = json.loads(first.stdout)
    assert removed["command"] == "clean" and removed["removed"] is True
    assert removed["cache"] == str(root.resolve() / caching.FOLDER)
    again = json.loads(cli("clean", root, "--format", "json").stdout)
    assert again["removed"] is False and again["cache"] == removed["cache"]
    missing = cli("clean", root / "missing", "--format", "json")
    assert missing.exit_code == 2 and json.loads(missing.stdout)["ok"] is False
    # no table to show: the format its help does not offer is refused, as any unknown one
    assert cli("clean", root, "--format", "table").exit_code == 2


def user_folder(root: Path, subfolders: int = 1) -> dict[str, bytes]:
    """A folder of the user's at the cache's place: no tag of the tool's in it."""
    folder = root / caching.FOLDER
    for index in range(subfolders):
        write_tree(folder, {f"part{index}/data.txt": f"user data {index}\n"})
    write_tree(folder, {"notes.txt": "mine\n"})
    return files_under(folder)


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("format", ["text", "json"])
def test_clean_refuses_a_folder_the_tool_did_not_make(cli, tmp_path, format):
    # The trial: `clean` deleted a `.async_migrate_cache` holding no CACHEDIR.TAG, user files and all.
    root = service(tmp_path / "app")
    kept = user_folder(root)
    result = cli("clean", root, "--format", format)
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"] if format == "json" else result.stderr
    assert "not made by async-migrate" in message and "CACHEDIR.TAG" in message and "nothing was removed" in message
    assert files_under(root / caching.FOLDER) == kept
    # a symbolic link there leading to a folder of the user's: the link stays too
    linked = service(tmp_path / "linked")
    other = Path(write_tree(tmp_path / "elsewhere", {"keep.txt": "x\n"}))
    (linked / caching.FOLDER).symlink_to(other, target_is_directory=True)
    assert cli("clean", linked).exit_code == 2
    assert (linked / caching.FOLDER).is_symlink() and (other / "keep.txt").exists()


def test_clean_removes_a_cache_the_tool_made_through_a_symbolic_link(cli, tmp_path):
    # near miss: the tag is there (the cache wrote it), through a link too
    root = service(tmp_path / "app")
    target = tmp_path / "fast-disk"
    target.mkdir()
    (root / caching.FOLDER).symlink_to(target, target_is_directory=True)
    document(cli, root, "scan")
    assert (target / "CACHEDIR.TAG").exists()
    assert cli("clean", root).exit_code == 0
    assert not (root / caching.FOLDER).exists() and target.exists()


def test_a_run_never_writes_into_or_prunes_a_folder_the_tool_did_not_make(cli, tmp_path):
    # More subfolders than the namespaces a cache keeps: they were removed as stale ones.
    root = service(tmp_path / "app")
    cold = document(cli, root, "check", "--no-cache")
    kept = user_folder(root, subfolders=8)
    assert document(cli, root, "check") == cold
    assert document(cli, root, "phase1") == document(cli, root, "phase1", "--no-cache")
    assert files_under(root / caching.FOLDER) == kept


def test_an_empty_folder_at_the_cache_place_becomes_the_cache(cli, tmp_path):
    # near miss: nothing of the user's in it, so nothing to lose
    root = service(tmp_path / "app")
    (root / caching.FOLDER).mkdir()
    document(cli, root, "check")
    document(cli, root, "check")
    assert parsed(root) == [] and (root / caching.FOLDER / "CACHEDIR.TAG").exists()
    assert cli("clean", root).exit_code == 0


def test_a_cache_directory_from_the_environment_keeps_the_target_untouched(cli, tmp_path, monkeypatch):
    root = service(tmp_path / "app")
    elsewhere = tmp_path / "caches"
    monkeypatch.setenv(caching.ENV_DIR, str(elsewhere))
    document(cli, root, "check")
    document(cli, root, "check")
    assert not (root / caching.FOLDER).exists()
    assert parsed(root) == []
    assert [p.parent for p in elsewhere.glob("*/*/facts-ids")] == [namespace(root)]
    assert cli("clean", root).exit_code == 0
    assert list(elsewhere.iterdir()) == []


def test_facts_are_reused_only_under_the_module_name_the_import_roots_give(tmp_path):
    root = service(tmp_path / "app")
    data = (root / "api" / "books.py").read_bytes()
    with runner.open_pool(root, load(root), runner.Options(jobs=1)) as pool:
        collected = list(pool.collect(["api/books.py"], keep=()))
    assert collected[0].facts is not None and collected[0].facts.name == "api.books"
    cache = caching.Cache.open(root, load(root))
    assert cache.facts_for("api/books.py", data, caching.PARSED, "api.books") is not None
    assert cache.facts_for("api/books.py", data, caching.PARSED, "app.api.books") is None
    assert cache.facts_for("api/books.py", data + b"\n", caching.PARSED, "api.books") is None


def test_the_kept_analysis_gives_back_every_field_and_refuses_what_it_cannot_keep(tmp_path):
    from async_migrate.codemods import memo
    from async_migrate.codemods.check import Finding, Silenced, check
    from async_migrate.codemods.outcome import Blocking, Outcome
    from async_migrate.codemods.rules import Reason

    root = service(tmp_path / "app")
    options = runner.Options(cache=False)
    found = check(root, load(root), options)
    phase1 = runner.phase1(root, load(root), options)
    handlers = {handler.id: handler for handler in found.project.handlers}  # type: ignore[union-attr]
    kinds = (Finding, Silenced, Blocking, Outcome, Reason)
    kept = memo.loads(memo.dumps({"findings": found.findings, "outcomes": phase1.outcomes}, kinds), kinds, handlers)
    assert [f.to_json() for f in kept["findings"]] == [f.to_json() for f in found.findings]
    assert kept["findings"][0].handler is handlers[found.findings[0].handler.id]  # type: ignore[union-attr]
    assert [o.to_json() for o in kept["outcomes"]] == [o.to_json() for o in phase1.outcomes]
    assert all(type(o) is Outcome for o in kept["outcomes"])

    with pytest.raises(memo.Unstorable):
        memo.dumps({"findings": found.findings}, (Finding, Silenced))  # Blocking not listed
    with pytest.raises(memo.Unstorable):
        memo.dumps({"root": Path(".")}, kinds)
    assert memo.loads(memo.dumps({"findings": found.findings}, kinds), kinds, {}) is None  # handlers unknown


def test_the_kept_analysis_keeps_plain_dicts_whose_keys_look_like_its_tags():
    from async_migrate.codemods import memo

    value = {
        "handler": {"tuple": [1, 2], "record": "x"},
        "rule": ("a", {"dict": None}),
        "empty": {},
        "list": [{"handler": ["not", "a handler"]}],
    }
    assert memo.loads(memo.dumps(value, ()), (), {}) == value


def test_unpickled_facts_share_their_empty_lists_and_dicts() -> None:
    """Pickled facts carry each empty list field as the one empty tuple and each empty dict as
    `facts.NO_ITEMS`: the unpickled facts (from a worker, or the cache's loader) share them, and
    the shared mapping refuses to be written."""
    from async_migrate.codemods import astcollect, facts

    source = "def get(db, n):\n    return db.get(n)\n\n\ndef idle():\n    pass\n"
    module = astcollect.collect("svc/mod.py", source)
    data = pickle.dumps(module, protocol=pickle.HIGHEST_PROTOCOL)
    for loaded in (pickle.loads(data), caching._load(data)):
        idle = next(function for function in loaded.functions if function.name == "idle")
        assert idle.calls == () and idle.params == ()
        assert idle.name_uses is facts.NO_ITEMS and idle.name_uses == {}
        get = next(function for function in loaded.functions if function.name == "get")
        assert [call.method for call in get.calls] == ["get"]
        assert pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL) == data
    with pytest.raises(TypeError):
        facts.NO_ITEMS["x"] = 1
    with pytest.raises(TypeError):
        facts.NO_ITEMS.setdefault("x", [])


def test_unpickled_facts_share_equal_strings_and_tuples_of_plain_values_only() -> None:
    """Facts unpickled in one process (from workers, from the cache) hold one instance of each
    string and of each tuple of strings, ints and None: modules spell the same references and
    terms. A tuple holding a bool stays apart from the equal one holding an int (`True == 1`)."""
    from async_migrate.codemods import facts

    def loaded(path: str, line: int, flag: object) -> facts.Module:
        function = facts.Function(
            "get", "get", "get", 1, False, returns=("sqlalchemy.orm.Session",),
            attributes=[(line, "book", "title")], finally_calls=((1, 2, 3, flag),),
        )
        module = facts.Module(path, path[:-3], imports={"Session": "sqlalchemy.orm.Session"}, functions=[function])
        return caching._load(pickle.dumps(module, protocol=pickle.HIGHEST_PROTOCOL))

    first, second = loaded("a.py", 1234, True), loaded("b.py", 1234, 1)
    one, other = first.functions[0], second.functions[0]
    assert one.returns is other.returns and one.returns[0] is second.imports["Session"]
    assert one.attributes[0] is other.attributes[0]
    assert one.finally_calls == other.finally_calls
    assert one.finally_calls[0][3] is True and other.finally_calls[0][3] == 1
    assert type(other.finally_calls[0][3]) is int
    assert loaded("c.py", 99, True).functions[0].attributes[0] == (99, "book", "title")
