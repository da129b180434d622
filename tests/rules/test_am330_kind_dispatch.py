"""AM330 beside a class hierarchy whose method is a plain def in some classes and a coroutine
function in others, which the project tells apart itself (`iscoroutinefunction(self.push)`): its
synchronous path is only handed the plain ones. And the message names lost Session work only for
a coroutine that does Session work."""

from __future__ import annotations

import re

import pytest

NOTIFIERS = """\
import asyncio

from fastapi import FastAPI

app = FastAPI()


class Base:
{probe}
    def push(self, msg): raise NotImplementedError


class Console(Base):
    def push(self, msg): print(msg)


class Slack(Base):
    async def push(self, msg): print("slack", msg)


def push_sync(n: Base, msg):
    n.push(msg)


@app.get("/n")
async def notify():
    for n in (Console(), Slack()):
        if {test}:
            await n.push("x")
        else:
            push_sync(n, "x")
"""

PROBE = """\
    @property
    def is_async(self):
        return asyncio.iscoroutinefunction(self.push)
"""


def test_a_hierarchy_telling_its_coroutine_methods_apart_hands_the_sync_path_no_coroutine(cli, project):
    # mlrun's notifications: `is_async` tests `iscoroutinefunction(self.push)`, the callers branch
    # on it, and `push_sync` only ever gets a plain `push`; it was reported as losing Session work.
    root = project({"app/__init__.py": "", "app/main.py": NOTIFIERS.format(probe=PROBE, test="n.is_async")})
    document = cli.json("check", root)
    assert [f for f in document["findings"] if f["code"] == "AM330"] == [], document["findings"]


def test_near_miss_a_hierarchy_that_never_tests_the_kind_is_still_a_finding(cli, project):
    # Nothing tells `Slack.push` apart: `push_sync` may be handed a Slack, whose coroutine nothing runs.
    root = project({"app/__init__.py": "", "app/main.py": NOTIFIERS.format(probe="", test="isinstance(n, Slack)")})
    document = cli.json("check", root)
    assert [(f["code"], f["function"]) for f in document["findings"]] == [("AM330", "push_sync")]


CLIENT_HELPERS = """\
import httpx

from app.db import AsyncSessionLocal


async def ping(url: str) -> int:
    async with httpx.AsyncClient() as client:
        return (await client.get(url)).status_code


async def purge() -> None:
    async with AsyncSessionLocal() as db:
        await db.execute("delete from items")
        await db.commit()
"""

DB = """\
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

AsyncSessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite:///app.db"))
"""

ROUTE = """\
from fastapi import FastAPI

from app import helpers

app = FastAPI()


@app.get("/x")
async def x():
    await helpers.ping("http://example.com")
    await helpers.purge()
"""


@pytest.mark.parametrize(("called", "session"), [("ping", False), ("purge", True)])
def test_the_message_names_lost_session_work_only_for_a_coroutine_doing_some(cli, project, called, session):
    # Prefect's flow engine: a coroutine with an HTTP client only was said to lose its rows.
    root = project({
        "app/__init__.py": "", "app/db.py": DB, "app/helpers.py": CLIENT_HELPERS, "app/main.py": ROUTE,
        "manage.py": f"from app import helpers\n\n\ndef run() -> None:\n    helpers.{called}()\n",
    })
    document = cli.json("check", root)
    [message] = [f["message"] for f in document["findings"] if f["code"] == "AM330"]
    assert message.startswith(f"def run (no route or dependency) calls a coroutine function without `await` at line 5 (app.helpers.{called}(...))"), message
    if session:
        assert "nothing in it runs (its Session work is lost, the rows never written)" in message, message
    else:
        assert "rows never written" not in message and "Session work is lost" not in message, message
        assert "nothing in it runs (none of its work happens: what it would send, fetch or change is never done)" in message, message


def test_a_call_that_may_run_plain_methods_too_says_so(cli, project):
    # letta's agent: `self.interface.internal_monologue(...)` on an AgentInterface, whose one
    # websocket subclass made it `async def`; the finding named that subclass's method as if it
    # were the only one the call runs.
    root = project({"app/__init__.py": "", "app/main.py": NOTIFIERS.format(probe="", test="isinstance(n, Slack)")})
    document = cli.json("check", root)
    [message] = [f["message"] for f in document["findings"] if f["code"] == "AM330"]
    # Base.push only raises NotImplementedError: never run, not named
    assert "line 22 (app.main.Slack.push(...), one of the methods the call may run (the others are plain: " \
        "app.main.Console.push))" in message, message


def test_near_miss_a_call_running_only_a_coroutine_names_no_alternatives(cli, project):
    root = project({
        "app/__init__.py": "", "app/main.py": NOTIFIERS.format(probe="", test="isinstance(n, Slack)").replace(
            "def push_sync(n: Base, msg):", "def push_sync(n: Slack, msg):"),
    })
    document = cli.json("check", root)
    [message] = [f["message"] for f in document["findings"] if f["code"] == "AM330"]
    assert "app.main.Slack.push(...))" in message and "the call may run" not in message, message


def test_a_route_whose_call_may_run_plain_methods_too_says_so(cli, project):
    # AM311 words the handler's own call alike
    source = NOTIFIERS.format(probe="", test="isinstance(n, Slack)") + (
        "\n\n@app.get(\"/m\")\nasync def mixed(n: Base):\n    n.push(\"y\")\n"
    )
    root = project({"app/__init__.py": "", "app/main.py": source})
    document = cli.json("check", root)
    [message] = [f["message"] for f in document["findings"] if f["code"] == "AM311"]
    assert "(app.main.Slack.push(...), one of the methods the call may run (the others are plain: " \
        "app.main.Console.push))" in message, message


def test_the_coroutine_methods_a_call_may_run_are_named_in_one_order(cli, project):
    # langflow's `settings_service.set(...)` on a `Service` may run two subclasses' coroutine
    # `set`s: they came in the order of a set's hashes, so the message changed from one run to the
    # next (PYTHONHASHSEED). They are named by module and qualified name now.
    classes = ("Teams", "Pager", "Email", "Webhook")
    extra = "".join(f"\n\nclass {name}(Base):\n    async def push(self, msg): print(msg)\n" for name in classes)
    source = NOTIFIERS.format(probe="", test="isinstance(n, Slack)").replace("\n\ndef push_sync", extra + "\n\ndef push_sync")
    root = project({"app/__init__.py": "", "app/main.py": source})
    document = cli.json("check", root)
    [message] = [f["message"] for f in document["findings"] if f["code"] == "AM330"]
    named = re.findall(r"line \d+ \(app\.main\.(\w+)\.push\(\.\.\.\)", message)
    assert named == sorted(["Slack", *classes]), message
