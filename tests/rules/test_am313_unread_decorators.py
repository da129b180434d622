"""AM313 through a project decorator that does more than hand the function on: it registers or
logs it first (`REGISTRY.append(fn.__name__); return conflict_to_409(fn)`), or keeps what the
other decorator returns (`wrapped = conflict_to_409(fn); ...; return wrapped`): it wraps as that
one, so an `async def` route on an AsyncSession under it gets its synchronous wrapper. Where the
result cannot be read (a helper builds it, or one branch returns a wrapper and another the
function), the route is unverified, not clear, unless `async-safe-decorators` lists the
decorator. `check` said nothing on any of them. The premise test runs the routes on aiosqlite."""

from __future__ import annotations

from sample import async_routes

from rules.test_am313_delegating_decorators import SHOP, WRAPPERS

API = """
import logging

from shop_wrappers import awaiting_409, conflict_to_409

log = logging.getLogger(__name__)
REGISTRY = []
STRICT = True


def registered(fn):
    REGISTRY.append(fn.__name__)
    log.info("registered %s", fn.__name__)
    return conflict_to_409(fn)


def held(fn):
    wrapped = conflict_to_409(fn)
    REGISTRY.append(wrapped)
    return wrapped


def registered_awaiting(fn):
    REGISTRY.append(fn.__name__)
    return awaiting_409(fn)


def built(fn):
    log.info("wrapping %s", fn)
    return make_wrapper(fn, 409)


def make_wrapper(fn, status):
    return conflict_to_409(fn) if status else fn


def strict(fn):
    if STRICT:
        return conflict_to_409(fn)
    return fn


def logged(fn):
    log.info("route %s", fn.__name__)
    return fn


def rebound(fn):
    fn = log_calls(fn)
    return conflict_to_409(fn)


def log_calls(fn):
    return fn
"""
ROUTES = """
from sqlalchemy.ext.asyncio import AsyncSession

from shop import Item
from shop_api import built, held, logged, rebound, registered, registered_awaiting, strict


@router.post("/registered")
@registered
async def registered_route(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/held")
@held
async def held_route(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/awaiting")
@registered_awaiting
async def awaiting_route(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/built")
@built
async def built_route(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/strict")
@strict
async def strict_route(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/logged")
@logged
async def logged_route(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/rebound")
@rebound
async def rebound_route(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()
"""
FILES = {"shop.py": SHOP, "shop_wrappers.py": WRAPPERS, "shop_api.py": API}


def test_a_decorator_registering_then_handing_the_function_to_a_sync_wrapper_is_am313(app, findings):
    root = app(ROUTES, FILES)
    for function, decorator in (("registered_route", "@registered"), ("held_route", "@held")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM313"], (function, found)
        message = found[0]["message"]
        assert f"`{decorator}` (shop_wrappers.py:" in message and "synchronous wrapper" in message, message
        assert "unverified" not in message, message


def test_a_decorator_whose_result_cannot_be_read_is_am313_unverified(app, findings):
    root = app(ROUTES, FILES)
    for function, decorator in (("built_route", "@built"), ("strict_route", "@strict"), ("rebound_route", "@rebound")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM313"], (function, found)
        message = found[0]["message"]
        assert f"`{decorator}` (shop_api.py:" in message and "cannot be read (unverified)" in message, message


def test_near_miss_an_awaiting_wrapper_the_function_itself_or_a_listed_decorator_is_clean(app, findings):
    root = app(ROUTES, FILES)
    for function in ("awaiting_route", "logged_route"):
        assert findings(root, function) == [], function
    listed = '[tool.async-migrate]\nasync-safe-decorators = ["shop_api.built", "shop_api.strict"]\n'
    root = app(ROUTES, {**FILES, "pyproject.toml": listed})
    for function in ("built_route", "strict_route"):
        assert findings(root, function) == [], function


def test_the_premise_the_sync_wrapper_never_turns_the_commit_error_into_a_409(tmp_path):
    def seed(shop):  # type: ignore[no-untyped-def]
        return [shop.Item(id=1)]

    modules = {"shop": SHOP, "shop_wrappers": WRAPPERS, "shop_api": API}
    paths = ("registered", "held", "awaiting", "built", "strict", "rebound")
    with async_routes(tmp_path, modules, ROUTES, seed) as client:
        codes = {path: client.post(f"/{path}").status_code for path in paths}
    assert codes == {"registered": 500, "held": 500, "awaiting": 409, "built": 500, "strict": 500, "rebound": 500}
