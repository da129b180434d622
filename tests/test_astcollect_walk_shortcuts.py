"""The pre-pass's shortcuts give what the plain walks they stand for give.

`syntax.call_arguments` sorts a call's arguments by position only where a `*x` may follow a
keyword; `syntax.calls_under` lists the calls `syntax.walk` meets, in its order; a module's
top-level bindings skip looking for `:=` where its text writes none.
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from async_migrate.codemods.astcollect import syntax
from async_migrate.codemods.phase2.shadowed_imports import bindings

CALLS = [
    "f(a, b, k=1, **kw)",
    "f(k=1, *rest)",  # a star after a keyword: out of the fields' order
    "f(a, k=1, *rest, j=2, **kw)",
    "f(*a, k=g(x), *b)",
    "f(\n    a,\n    k=h(y),\n)",
    "router.get('/x', response_model=list[Out], dependencies=[Depends(auth(role='a'))])",
    "Depends(lambda: make(db=get_db(), n=int(s)))",
    "outer(inner(a, k=b(c)), *[d(e) for e in es], key={'x': y(z)}, **opts(w))",
    "x[f(1)].g(h(2), k=i(3))(j(4))",
    "f(x for x in g(y))",
]


@pytest.mark.parametrize("code", CALLS)
def test_call_arguments_in_written_order(code: str) -> None:
    for node in ast.walk(ast.parse(code)):
        if type(node) is ast.Call:
            assert syntax.call_arguments(node) == syntax.by_position([*node.args, *node.keywords])


@pytest.mark.parametrize("code", CALLS)
def test_calls_under_as_walk_meets_them(code: str) -> None:
    expression = ast.parse(code, mode="eval").body
    expected = [node for node in syntax.walk(expression) if type(node) is ast.Call]
    assert list(syntax.calls_under(expression)) == expected
    assert expected  # each example holds a call


def test_calls_under_a_name_or_constant() -> None:
    assert list(syntax.calls_under(ast.parse("x", mode="eval").body)) == []
    assert list(syntax.calls_under(ast.parse("3", mode="eval").body)) == []


def _names(text: str, walrus: bool) -> list[str]:
    return [binding.name for binding in bindings(ast.parse(textwrap.dedent(text)).body, walrus=walrus)]


def test_bindings_without_walrus_where_none_is_written() -> None:
    text = """
        import os
        from a import b as c
        x, (y, *z) = f(g(h))
        if cond:
            w: int = 1
        for i in range(3):
            pass
        def fn():
            global x
            x = 2
    """
    assert ":=" not in text
    assert _names(text, walrus=False) == _names(text, walrus=True)


def test_bindings_with_walrus_finds_it() -> None:
    # near miss: a module writing `:=` is walked for it (`_top_bound` passes walrus=True then)
    text = "print(n := len(items))\ny = (m := 3) + 1\n"
    assert _names(text, walrus=True) == ["n", "y", "m"]
    assert _names(text, walrus=False) == ["y"]
