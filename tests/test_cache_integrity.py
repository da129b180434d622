"""A cache entry damaged in place is never used: one changed byte that still unpickles (a name in
a rewrite's new text, in a module's facts, in the kept analysis, in an identity) is a miss, the
output is a cold run's, and the entry is written again; an intact cache is still taken whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import write_tree
from test_cache import AUTHORS, analysed, cache_in_the_root, document, namespace, parsed, service  # noqa: F401

from async_migrate.codemods import cache as caching


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def flip(path: Path, word: bytes, after: bytes = b"") -> None:
    """Change one byte: the first letter of the first `word` in the file (the first right after
    `after`), which still unpickles."""
    data = path.read_bytes()
    at = data.index(after + word) + len(after)
    path.write_bytes(data[:at] + data[at : at + 1].upper() + data[at + 1 :])


def two_routes(root: Path) -> Path:
    service(root)
    return write_tree(root, {"api/authors.py": AUTHORS})


@pytest.fixture
def filled(tmp_path, cli):  # type: ignore[no-untyped-def]
    """A service and its twin, the twin's cache filled by a dry run of phase one, the first kept
    without a cache: what a cold run writes."""
    cold = two_routes(tmp_path / "cold")
    warm = Path(shutil.copytree(cold, tmp_path / "warm"))
    document(cli, warm, "phase1")
    assert parsed(warm)  # filled
    return cold, warm


def test_a_damaged_rewrite_is_recomputed_never_written(cli, filled):
    # The trial's case: 'read_books' -> 'Read_books' in the kept new text, and `--apply` wrote it.
    cold, warm = filled
    flip(namespace(warm) / "rewrites", b"read_books")
    expected = document(cli, cold, "phase1", "--apply", "--allow-dirty", "--no-cache")
    assert document(cli, warm, "phase1", "--apply", "--allow-dirty") == {**expected, "root": str(warm.resolve())}
    assert tree(warm) == tree(cold)
    assert b"def read_books(" in (warm / "api/books.py").read_bytes()
    # only the damaged entry was missed: the other file's rewrite came from the cache
    assert parsed(warm) == ["api/books.py"]


@pytest.mark.parametrize("apply", [False, True], ids=["dry-run", "apply"])
@pytest.mark.parametrize("kind", ["facts", "analysis", "facts-ids", "rewrites"])
def test_one_damaged_byte_in_any_entry_gives_the_cold_output_and_is_written_again(cli, filled, kind, apply):
    cold, warm = filled
    if kind == "facts":
        target = namespace(warm) / caching._facts_part("api/books.py")
        # a new file: the run cannot be taken whole, and loads every other module's facts
        for root in (cold, warm):
            write_tree(root, {"api/extra.py": AUTHORS.replace("/authors", "/extra").replace("read_authors", "read_extra")})
    else:
        target = namespace(warm) / kind
    data = target.read_bytes()
    if kind == "facts-ids":  # an identity's digest: its last hex digit before '/parsed'
        at = data.index(b"/parsed") - 1
        target.write_bytes(data[:at] + (b"0" if data[at : at + 1] != b"0" else b"1") + data[at + 1 :])
    else:  # in the analysis: the plan's handlers to convert
        flip(target, b"read_books", b'"convert",["' if kind == "analysis" else b"")
    assert target.read_bytes() != data and len(target.read_bytes()) == len(data)
    args = ("phase1", "--apply", "--allow-dirty") if apply else ("phase1",)
    expected = {**document(cli, cold, *args, "--no-cache"), "root": str(warm.resolve())}
    assert document(cli, warm, *args) == expected
    assert tree(warm) == tree(cold)
    if not apply:  # written again: the next run is a warm hit
        assert document(cli, warm, *args) == expected
        assert parsed(warm) == [] and analysed(warm) == {"phase1": "reused"}


def test_an_intact_cache_is_still_taken_whole(cli, filled):
    # near miss: the seals of entries nobody touched match
    cold, warm = filled
    before = {p.name: p.read_bytes() for p in namespace(warm).iterdir() if p.name != "last-run.json"}
    assert document(cli, warm, "phase1") == {**document(cli, cold, "phase1", "--no-cache"), "root": str(warm.resolve())}
    assert parsed(warm) == [] and analysed(warm) == {"phase1": "reused"}
    assert {p.name: p.read_bytes() for p in namespace(warm).iterdir() if p.name != "last-run.json"} == before
    assert document(cli, warm, "phase1", "--apply", "--allow-dirty")["files_changed"] == ["api/authors.py", "api/books.py"]
    assert parsed(warm) == []  # both rewrites from the cache
    document(cli, cold, "phase1", "--apply", "--allow-dirty", "--no-cache")
    assert tree(warm) == tree(cold)


def test_a_seal_covers_every_byte_and_the_field_boundaries_but_not_dict_order():
    assert caching._seal(("a.py", "r"), ("d", "k", b"new", "diff", None)) != caching._seal(
        ("a.py", "r"), ("d", "k", b"New", "diff", None))
    assert caching._seal("k", ("a", "bc")) != caching._seal("k", ("ab", "c"))  # lengths fed
    assert caching._seal("k", ("d", {"x": b"1", "y": b"2"})) == caching._seal("k", ("d", {"y": b"2", "x": b"1"}))
