"""AM311 unawaited-coroutine beside `async with make_publisher() as publisher`: a plain function
returning a project object whose `__aenter__` and `__aexit__` are coroutine functions. The
statement awaits both, so they are no coroutine left unawaited; a plain `with` on such an object
(or the factory's coroutine method called bare) still is."""

from __future__ import annotations

ROUTES = """
from services.publishing import make_publisher


@router.post("/entered")
async def entered():
    async with make_publisher() as publisher:
        await publisher.publish("x")


@router.post("/bare")
async def bare():
    publisher = make_publisher()
    publisher.publish("x")
"""
PUBLISHING = """
class Publisher:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *args):
        return None

    async def publish(self, message):
        return message


def make_publisher() -> Publisher:
    return Publisher()
"""
FILES = {"services/__init__.py": "", "services/publishing.py": PUBLISHING}


def test_an_async_with_awaits_the_objects_enter_and_exit(app, findings):
    assert findings(app(ROUTES, FILES), "entered") == []


def test_near_miss_a_coroutine_method_called_bare_is_still_unawaited(app, findings):
    found = findings(app(ROUTES, FILES), "bare")
    assert [f["code"] for f in found] == ["AM311"], found
    assert "Publisher.publish" in found[0]["message"], found
