"""AM313 through a decorator that only hands the function on to another project decorator
(`def api(fn): return conflict_to_409(fn)`, `return translating(409)(fn)`, chained, in another
module): it wraps as the one it hands it to, so an `async def` route on an AsyncSession under it
gets that one's synchronous wrapper, whose `except IntegrityError` never covers the commit.
`check` read such a decorator as unknown and said nothing. Handing it to an awaiting wrapper is
clean, and a cycle of delegations stays unread: unverified. The premise test runs the routes on aiosqlite."""

from __future__ import annotations

from sample import async_routes

SHOP = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
"""
WRAPPERS = """
import functools

from fastapi import HTTPException
from sqlalchemy.exc import IntegrityError


def conflict_to_409(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except IntegrityError:
            raise HTTPException(409, "duplicate")
    return wrapper


def translating(status):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except IntegrityError:
                raise HTTPException(status, "duplicate")
        return wrapper
    return decorate


def awaiting_409(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        try:
            return await fn(*args, **kwargs)
        except IntegrityError:
            raise HTTPException(409, "duplicate")
    return wrapper
"""
API = """
import shop_wrappers
from shop_wrappers import awaiting_409, translating


def api(fn):
    \"\"\"Every endpoint's errors, in one place.\"\"\"
    return shop_wrappers.conflict_to_409(fn)


def api_chained(fn):
    return api(fn)


def api_factory(fn):
    return translating(409)(fn)


def api_awaiting(fn):
    return awaiting_409(fn)


def ping(fn):
    return pong(fn)


def pong(fn):
    return ping(fn)
"""
ROUTES = """
from sqlalchemy.ext.asyncio import AsyncSession

from shop import Item
from shop_api import api, api_awaiting, api_chained, api_factory, ping


@router.post("/delegated")
@api
async def delegated(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/chained")
@api_chained
async def chained(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/factory")
@api_factory
async def factory(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/awaited")
@api_awaiting
async def awaited(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()


@router.post("/cyclic")
@ping
async def cyclic(db: AsyncSession):
    db.add(Item(id=1))
    await db.commit()
"""
FILES = {"shop.py": SHOP, "shop_wrappers.py": WRAPPERS, "shop_api.py": API}


def test_a_decorator_handing_the_function_to_a_sync_wrapper_is_am313(app, findings):
    root = app(ROUTES, FILES)
    for function, decorator in (
        ("delegated", "@api"),
        ("chained", "@api_chained"),
        ("factory", "@api_factory"),
    ):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM313"], (function, found)
        message = found[0]["message"]
        assert f"`{decorator}`" in message and "synchronous wrapper" in message, message
        assert "shop_wrappers.py" in message, message


def test_near_miss_handing_it_to_an_awaiting_wrapper_is_clean(app, findings):
    assert findings(app(ROUTES, FILES), "awaited") == []


def test_a_cycle_of_delegations_is_unverified_not_clear(app, findings):
    found = findings(app(ROUTES, FILES), "cyclic")
    assert [f["code"] for f in found] == ["AM313"], found
    assert "`@ping` (shop_api.py:" in found[0]["message"] and "(unverified)" in found[0]["message"], found


def test_the_premise_the_sync_wrapper_never_turns_the_commit_error_into_a_409(tmp_path):
    def seed(shop):  # type: ignore[no-untyped-def]
        return [shop.Item(id=1)]

    modules = {"shop": SHOP, "shop_wrappers": WRAPPERS, "shop_api": API}
    # a cycle of delegations recurses when applied: that route is left out
    routes = ROUTES.replace(", ping", "").split('@router.post("/cyclic")')[0]
    with async_routes(tmp_path, modules, routes, seed) as client:
        codes = {path: client.post(f"/{path}").status_code for path in ("delegated", "chained", "factory", "awaited")}
    assert codes == {"delegated": 500, "chained": 500, "factory": 500, "awaited": 409}


PHASE1_ROUTES = """
from shop_api import api_chained, ping


@router.get("/chained")
@api_chained
async def chained(session: session_dependency):
    return session.execute("select 1").all()


@router.get("/cyclic")
@ping
async def cyclic(session: session_dependency):
    return session.execute("select 1").all()
"""


def test_phase_one_reads_the_decorator_as_the_one_it_hands_the_function_to(app, reported):
    # the wrapper it reaches calls a plain function: the route converts, as under `@conflict_to_409`
    root = app(PHASE1_ROUTES, FILES)
    entry = reported(root, "chained", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM101"]), entry


def test_near_miss_phase_one_keeps_a_route_under_a_cycle_of_delegations(app, reported):
    entry = reported(app(PHASE1_ROUTES, FILES), "cyclic", "phase1")
    assert entry["action"] == "keep" and "AM112" in entry["codes"], entry
