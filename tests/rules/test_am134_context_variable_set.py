"""AM134 context-variable-set: a handler setting a ContextVar stays `async def`."""

from __future__ import annotations

DEPENDENCY = """
from contextvars import ContextVar

from fastapi import Depends

request_session: ContextVar = ContextVar("request_session")


async def bind_session(session: session_dependency):
    {body}
    yield


@router.get("/items", dependencies=[Depends(bind_session)])
def list_items():
    return []
"""


def test_a_dependency_setting_a_context_variable_is_kept_with_am134(app, reported):
    root = app(DEPENDENCY.format(body="request_session.set(session)\n    session.execute('select 1')"))
    entry = reported(root, "bind_session", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM134", entry
    assert entry["reasons"][0].startswith("sets a context variable, request_session.set() at line")


def test_a_helper_setting_it_keeps_the_dependency_too(app, reported):
    source = DEPENDENCY.format(body="bind(session)\n    session.execute('select 1')") + (
        "\n\ndef bind(session):\n    request_session.set(session)\n"
    )
    entry = reported(app(source), "bind_session", "phase1")
    assert entry["action"] == "keep" and "request_session.set()" in entry["reasons"][0], entry


def test_near_miss_reading_a_context_variable_or_a_dict_set_converts(app, reported):
    root = app(DEPENDENCY.format(body="request_session.get(None)\n    {1}.union({2})\n    session.execute('select 1')"))
    entry = reported(root, "bind_session", "phase1")
    assert entry["action"] == "convert", entry
