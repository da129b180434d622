"""Naming a twin reads a module's top-level names off its facts, taken where the worker parsed
it, and parses the module again only for facts that lack them."""

from __future__ import annotations

from pathlib import Path

import pytest

from async_migrate.codemods import sources
from async_migrate.codemods.phase2.shadowed_imports import bindings
from async_migrate.codemods.phase2.twins import module_names
from async_migrate.codemods.workers import Worker

SAMPLES = Path(__file__).resolve().parent.parent / "testdata"

MODULE = '''\
import os
from app.db import get_db as load
count_async = "label"
LIMIT: int = 5
try:
    import ujson as json
except ImportError:
    json = None

def touch():
    global touched_async
    touched_async = True

class Repo:
    def list_async(self):
        return None
'''


def _parsed(tmp_path: Path, text: bytes, name: str = "app/m.py"):  # type: ignore[no-untyped-def]
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_bytes(text)
    return Worker(tmp_path).parse(name).facts


def _from_tree(root: Path, path: str) -> tuple[str, ...]:
    return tuple(sorted({b.name for b in bindings(sources.tree_of(sources.TreeReader(root), path).body)}))


def test_the_worker_keeps_the_names_a_parse_of_the_module_binds(tmp_path: Path) -> None:
    module = _parsed(tmp_path, MODULE.encode())
    assert module.top_bound == _from_tree(tmp_path, "app/m.py")
    # what the facts keep no value for: a string constant, a `global` write in a function
    assert module.top_bound is not None
    assert {"count_async", "touched_async", "json", "load", "Repo"} <= set(module.top_bound)


def test_module_names_parses_nothing_when_the_facts_hold_the_names(tmp_path: Path) -> None:
    module = _parsed(tmp_path, MODULE.encode())

    def read(path: str) -> str:
        raise AssertionError(f"{path} read again")

    assert {"count_async", "touched_async"} <= module_names(module, read)


def test_near_miss_a_file_in_another_encoding_is_parsed_again_as_before(tmp_path: Path) -> None:
    text = "# -*- coding: latin-1 -*-\n" + MODULE + "caf\xe9 = 1\n"
    module = _parsed(tmp_path, text.encode("latin-1"))
    assert module.top_bound is None
    reads: list[str] = []

    def read(path: str) -> str:
        reads.append(path)
        return (tmp_path / path).read_text(encoding="utf-8", errors="replace")

    module_names(module, read)
    assert reads == ["app/m.py"]


@pytest.mark.parametrize("sample", ["bookshop", "taskboard"])
def test_every_sample_module_s_names_are_those_of_its_tree(sample: str) -> None:
    root = SAMPLES / sample
    paths = [p.relative_to(root).as_posix() for p in sorted(root.rglob("*.py"))]
    assert paths
    worker = Worker(root)
    for path in paths:
        module = worker.parse(path).facts
        assert module is not None and module.top_bound == _from_tree(root, path), path
