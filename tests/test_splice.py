"""Reprinting only the changed top-level statements gives exactly the full print."""

from __future__ import annotations

import libcst as cst
import pytest
from conftest import BOOKSHOP
from libcst.codemod import CodemodContext

from async_migrate.codemods.collect import Collector
from async_migrate.codemods.phase1.make_sync import MakeHandlersSync
from async_migrate.codemods.splice import spliced


def _parsed(text: str, path: str = "api/x.py"):  # type: ignore[no-untyped-def]
    module = cst.parse_module(text)
    collector = Collector(path, module, all_lines=True)
    facts = collector.collect()
    return module, facts, collector.layout


def _make_sync(module: cst.Module, keys: set[str]) -> cst.Module:
    return MakeHandlersSync(CodemodContext(), keys).transform_module(module)


@pytest.mark.parametrize("path", sorted(p.relative_to(BOOKSHOP).as_posix() for p in BOOKSHOP.rglob("*.py")))
def test_every_sample_module_made_sync_splices_to_its_full_print(path):
    text = (BOOKSHOP / path).read_text(encoding="utf-8")
    module, facts, layout = _parsed(text, path)
    keys = {f.key for f in facts.functions if f.is_async}
    rewritten = _make_sync(module, keys)
    result = spliced(module, rewritten, text, layout)
    assert result == rewritten.code
    if keys:
        assert result != text


SOURCE = '''\
# a header comment

import asyncio


class Handlers:
    async def method(self):
        return 1


async def first():  # trailing comment
    return 1


x = 1


async def last():
    return 2
'''


def test_only_the_changed_statements_are_printed_again():
    module, facts, layout = _parsed(SOURCE)
    rewritten = _make_sync(module, {"first", "Handlers.method"})
    assert spliced(module, rewritten, SOURCE, layout) == rewritten.code
    assert "def first():  # trailing comment" in rewritten.code and "async def last" in rewritten.code


def test_a_module_left_alone_is_its_own_text():
    module, _, layout = _parsed(SOURCE)
    assert spliced(module, module, SOURCE, layout) == SOURCE


def test_a_changed_last_statement_without_a_final_newline_needs_a_full_print():
    text = SOURCE.rstrip("\n")
    module, _, layout = _parsed(text)
    rewritten = _make_sync(module, {"last"})
    assert spliced(module, rewritten, text, layout) is None
    assert rewritten.code.endswith("def last():\n    return 2")


def test_an_added_statement_needs_a_full_print():
    module, _, layout = _parsed(SOURCE)
    rewritten = module.with_changes(body=[*module.body, cst.parse_statement("y = 2\n")])
    assert spliced(module, rewritten, SOURCE, layout) is None


def test_crlf_and_tabs_survive_the_splice():
    text = SOURCE.replace("    ", "\t").replace("\n", "\r\n")
    module, _, layout = _parsed(text)
    rewritten = _make_sync(module, {"first"})
    result = spliced(module, rewritten, text, layout)
    assert result == rewritten.code and "\r\ndef first():  # trailing comment\r\n\treturn 1\r\n" in result
