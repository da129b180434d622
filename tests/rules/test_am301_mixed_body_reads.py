"""AM301's fix for a mixed route that awaits what the client sent. "Move the awaited call out"
alone does not say how: an upload's coroutine methods have a synchronous form on the file FastAPI
spooled before the route runs (`file.file.read()` in a def route), and the request's body is read
only by a coroutine, or by FastAPI from the route's parameters (`Body()`, `Form()`, `UploadFile`)
before it runs. The fix names each such await; other awaits get the general fix alone."""

from __future__ import annotations

import pytest

ROUTES = """
from fastapi import File, Request, UploadFile


async def notify(name: str) -> None:
    pass


@router.post("/uploaded")
async def uploaded(db: session_dependency, file: UploadFile = File(...)):
    data = await file.read()
    db.execute(select(func.length(data)))
    db.commit()


@router.post("/raw")
async def raw(request: Request, db: session_dependency):
    payload = await request.json()
    db.execute(select(func.length(str(payload))))
    db.commit()


@router.post("/streamed")
async def streamed(request: Request, db: session_dependency):
    async for chunk in request.stream():
        db.execute(select(func.length(chunk)))
    db.commit()


@router.post("/notified")
async def notified(name: str, db: session_dependency):
    await notify(name)
    db.execute(select(func.length(name)))
    db.commit()
"""
HEAD = "from sqlalchemy import func, select\n"
GENERAL = "mixed: move the awaited call out (phase one then converts it) or offload the Session work"


@pytest.mark.parametrize(("function", "named"), [
    ("uploaded", "in a def route `file.read()` (line 19) is `file.file.read()`, on the file FastAPI spooled"),
    ("raw", "`request.json()` (line 26) reads the request body, which only a coroutine can: declare what it reads "
            "as parameters FastAPI reads first (`Body()`, `Form()`, `UploadFile`)"),
    ("streamed", "`request.stream()` (line 33) reads the request body, which only a coroutine can"),
])
def test_an_await_reading_what_the_client_sent_is_named_in_the_fix(app, findings, function, named):
    found = findings(app(HEAD + ROUTES), function)
    assert [f["code"] for f in found] == ["AM301"], found
    assert GENERAL in found[0]["message"] and named in found[0]["message"], found[0]["message"]


def test_near_miss_another_await_gets_the_general_fix_alone(app, findings):
    found = findings(app(HEAD + ROUTES), "notified")
    assert [f["code"] for f in found] == ["AM301"], found
    message = found[0]["message"]
    assert GENERAL in message and "request body" not in message and "spooled" not in message, message
