"""`HandlerKind`: the index gives every handler one, the vocabulary's words for hooks and
endpoint classes each name one, and the README and `--help` name every value the JSON `kind`
may take (the shared contract lists only route, websocket and dependency)."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from async_migrate.codemods.astcollect import collect
from async_migrate.codemods.handlers import HandlerKind
from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary import starlette

REPO = Path(__file__).resolve().parents[1]

APP = {
    "main.py": """
        from fastapi import Depends, FastAPI, Request

        app = FastAPI()

        def get_db():
            yield 1

        @app.get("/items")
        async def items(db=Depends(get_db)):
            return []

        @app.websocket("/ws")
        async def feed(websocket):
            await websocket.accept()

        @app.middleware("http")
        async def timer(request: Request, call_next):
            return await call_next(request)

        @app.exception_handler(ValueError)
        async def bad_value(request, exc):
            return None

        @app.on_event("startup")
        async def warm():
            pass
    """,
}


def test_the_index_gives_each_handler_its_kind_as_a_member():
    project = Project([collect(path, dedent(text)) for path, text in APP.items()])
    kinds = {handler.function.qualname: handler.kind for handler in project.handlers}
    assert kinds == {
        "get_db": HandlerKind.DEPENDENCY,
        "items": HandlerKind.ROUTE,
        "feed": HandlerKind.WEBSOCKET,
        "timer": HandlerKind.MIDDLEWARE,
        "bad_value": HandlerKind.EXCEPTION_HANDLER,
        "warm": HandlerKind.LIFECYCLE,
    }
    assert all(type(kind) is HandlerKind for kind in kinds.values())


def test_a_kind_reads_as_its_value_in_text_and_json():
    kind = HandlerKind.EXCEPTION_HANDLER
    assert (str(kind), f"{kind}", f"{kind:>18}") == ("exception-handler",) * 2 + (" exception-handler",)
    assert json.dumps({"kind": kind, kind: 1}) == '{"kind": "exception-handler", "exception-handler": 1}'
    # the warm run reads kinds back as plain strings: they must still compare and hash alike
    assert kind == "exception-handler" and {"exception-handler": 1}[kind] == 1


def test_every_word_the_vocabulary_gives_a_hook_or_an_endpoint_class_is_a_kind():
    words = {
        *starlette.HOOK_DECORATORS.values(), *starlette.HOOK_REGISTRATIONS.values(),
        *starlette.HOOK_LISTS.values(), *starlette.HOOK_ATTRIBUTES.values(),
        *starlette.HOOK_KEYWORDS.values(), *(kind for kind, _ in starlette.ENDPOINT_CLASSES.values()),
    }
    # a lifecycle hook's word says when it runs (startup, shutdown, lifespan): all the one kind
    kinds = {"lifecycle" if word in starlette.LIFECYCLE_EVENTS else word for word in words}
    assert kinds - {kind.value for kind in HandlerKind} == set()


def test_the_readme_and_the_help_name_every_kind(cli):
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    for command in ("scan", "phase1", "phase2"):
        help_text = " ".join(cli(command, "--help").stdout.split())
        for kind in HandlerKind:
            assert f"`{kind.value}`" in readme, kind
            assert kind.value in help_text, (command, kind)


def test_a_warm_run_reads_each_kept_kind_back_as_a_member():
    from async_migrate.codemods.warm_run import _handler

    kept = _handler("api/items.py", "api.items", "items", "items", 3, "route", [[["GET"], "/items"]])
    assert type(kept.kind) is HandlerKind and kept.kind is HandlerKind.ROUTE
    with pytest.raises(ValueError):  # a kept run naming a kind no longer known is not taken
        _handler("api/items.py", "api.items", "items", "items", 3, "view", [])
