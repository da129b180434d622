"""AM140 updates-module-global: a handler updating a `global` name from its own value stays async."""

from __future__ import annotations

import ast

import pytest

from async_migrate.codemods.astcollect.body import global_updates

ROUTE = """
hits = 0
seen: set[str] = set()
_client = None


@router.get("/items")
async def list_items(session: session_dependency):
    {body}
    return session.execute("select 1").all()
"""


@pytest.mark.parametrize("body, name, line", [
    ("global hits\n    hits += 1", "hits", 16),
    ("global hits\n    hits = hits + 1", "hits", 16),
    ("global seen\n    seen = seen | {'x'}", "seen", 16),
    ("global hits\n    if session:\n        hits: int = max(hits, 2)", "hits", 17),
])
def test_a_route_updating_a_global_from_its_own_value_is_kept_with_am140(app, reported, body, name, line):
    entry = reported(app(ROUTE.format(body=body)), "list_items", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert entry["reasons"][0].startswith(f"updates the module-level `{name}` from its own value at line {line}: ")


@pytest.mark.parametrize("body", [
    "global _client\n    _client = object()",  # a plain rebinding: no update to lose
    "hits = 0\n    hits += 1",  # a local of its own
    "global hits\n    def bump():\n        global hits\n        hits += 1",  # a nested function's, not run here
    "seen.add('x')",  # a method of the object: not a rebinding of the name
])
def test_near_miss_rebinding_locals_and_nested_scopes_convert(app, reported, body):
    assert reported(app(ROUTE.format(body=body)), "list_items", "phase1")["action"] == "convert"


def test_check_gives_the_fix(app, findings):
    (finding,) = findings(app(ROUTE.format(body="global hits\n    hits += 1")), "list_items")
    assert "the update of `hits` (line 16) keeps it async" in finding["message"], finding
    assert "threading.Lock" in finding["message"], finding


def test_the_first_update_of_each_name_in_line_order():
    tree = ast.parse("def f():\n    global a, b\n    b += 1\n    a = a * 2\n    b = b - 1\n    a = 3\n")
    assert global_updates(tree.body[0].body, {"a", "b"}) == [("b", 3), ("a", 4)]


# The `__call__` of a callable instance dependency: one instance (`limiter = RateLimiter(5)`,
# `Depends(RateLimiter(5))`) serves every request, so its attributes are shared state.
LIMITER = """
from fastapi import Depends


class RateLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.calls = 0
        self.hits: dict[str, int] = {{}}

    async def __call__(self, session: session_dependency) -> None:
        {body}
        session.execute("select 1")


limiter = RateLimiter(5)


@router.get("/items", dependencies=[Depends(limiter)])
def list_items():
    return []
"""


@pytest.mark.parametrize("body, name", [
    ("self.calls += 1", "calls"),
    ("self.hits['k'] = self.hits.get('k', 0) + 1", "hits"),
    ("self.hits['k'] += 1", "hits"),
])
def test_a_callable_instance_dependency_updating_its_own_attribute_is_kept_with_am140(app, reported, body, name):
    entry = reported(app(LIMITER.format(body=body)), "RateLimiter.__call__", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert entry["reasons"][0].startswith(f"updates `self.{name}` from its own value at line 18, on an instance every request shares")


@pytest.mark.parametrize("body", [
    "self.calls = 0",  # a plain assignment: no update to lose
    "calls = self.calls + 1",  # a local
])
def test_near_miss_an_assignment_or_a_local_converts(app, reported, body):
    assert reported(app(LIMITER.format(body=body)), "RateLimiter.__call__", "phase1")["action"] == "convert"



# The whole kind: a route that is a bound method of one shared instance, and an update reached
# through a plain helper the handler calls in place (a method of a module-level instance, a
# function updating a `global`, a class attribute), beside the shapes that are no lost update
# (a plain assignment, an item assignment without a read, a `threading.Lock` held around it,
# an instance built per call, a fastapi-utils `@cbv` view, which FastAPI builds per request).
SHARED = """
import threading

from fastapi import FastAPI
from fastapi_utils.cbv import cbv

app = FastAPI()
COUNTER = 0
COUNTS: dict[str, int] = {{}}
LOCK = threading.Lock()


class Stats:
    total = 0

    def __init__(self) -> None:
        self.hits: dict[str, int] = {{}}
        self.lock = threading.Lock()

    def bump(self, k: str) -> None:
        self.hits[k] += 1

    def safe_bump(self, k: str) -> None:
        with self.lock:
            self.hits[k] = self.hits.get(k, 0) + 1

    def note(self, k: str) -> None:
        self.last = k


stats = Stats()


def bump_global() -> None:
    global COUNTER
    COUNTER += 1


def bump_class() -> None:
    Stats.total += 1


class Handlers:
    def __init__(self) -> None:
        self.count = 0

    async def hit(self, session: session_dependency):
        self.count += 1
        return session.execute("select 1").all()

    async def last(self, session: session_dependency):
        self.count = 1
        return session.execute("select 1").all()


h = Handlers()
{register}


@cbv(router)
class View:
    session: session_dependency

    @router.get("/view")
    async def view(self):
        self.count = getattr(self, "count", 0) + 1
        return self.session.execute("select 1").all()


@router.get("/route")
async def route(session: session_dependency):
    {body}
    return session.execute("select 1").all()
"""


@pytest.mark.parametrize("register", [
    'router.add_api_route("/hit", h.hit)\nrouter.add_api_route("/last", h.last)',
    'app.get("/hit")(h.hit)\napp.get("/last")(h.last)',
])
def test_a_route_bound_to_a_shared_instance_updating_self_is_kept_and_a_cbv_view_converts(app, cli, register):
    document = cli.json("phase1", app(SHARED.format(register=register, body="pass")))
    entries = {h["function"]: h for h in document["handlers"]}
    hit = entries["Handlers.hit"]
    assert (hit["action"], hit["codes"][0]) == ("keep", "AM140"), hit
    assert hit["reasons"][0].startswith("updates `self.count` from its own value at line 54, on an instance every request shares")
    # a plain assignment; a view FastAPI builds per request; a route with no update
    assert [entries[f]["action"] for f in ("Handlers.last", "View.view", "route")] == ["convert"] * 3, entries


@pytest.mark.parametrize("body, subject, where", [
    ('stats.bump("k")', "self.hits", '`api.items.Stats.bump` (line 78), which updates `self.hits` from its own value at api/items.py:27'),
    ("bump_global()", "COUNTER", "`api.items.bump_global` (line 78), which updates `COUNTER` from its own value at api/items.py:42"),
    ("bump_class()", "Stats.total", "`api.items.bump_class` (line 78), which updates `Stats.total` from its own value at api/items.py:46"),
])
def test_an_update_of_shared_state_in_a_helper_keeps_the_route_with_am140(app, reported, body, subject, where):
    entry = reported(app(SHARED.format(register="", body=body)), "route", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert entry["reasons"][0].startswith(f"calls {where}, state every request shares"), entry


@pytest.mark.parametrize("body", [
    'COUNTS["k"] = COUNTS.get("k", 0) + 1',  # an item of a module-level dict, no `global` needed
    'stats.hits["k"] += 1',  # an attribute of a module-level instance
])
def test_an_update_of_a_module_level_object_in_the_route_keeps_it(app, reported, body):
    entry = reported(app(SHARED.format(register="", body=body)), "route", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert entry["reasons"][0].startswith(f"updates `{body.split('[')[0]}` from its own value at line 78, state every request shares")


@pytest.mark.parametrize("body", [
    'stats.safe_bump("k")\n    stats.note("k")',  # under the instance's lock; a plain assignment
    'with LOCK:\n        stats.bump("k")\n        COUNTS["k"] = COUNTS.get("k", 0) + 1',  # the module's lock held
    'COUNTS["k"] = 1',  # an item assigned without a read
    'Stats().bump("k")',  # an instance of its own
])
def test_near_miss_a_lock_a_plain_assignment_or_an_own_instance_converts(app, reported, body):
    assert reported(app(SHARED.format(register="", body=body)), "route", "phase1")["action"] == "convert"


def test_check_names_the_helper_and_the_lock(app, findings):
    (finding,) = findings(app(SHARED.format(register="", body="bump_global()")), "route")
    assert "the update of `COUNTER` at api/items.py:42, through `api.items.bump_global` (line 78)" in finding["message"]
    assert "with LOCK:" in finding["message"], finding


# The instance a dependency hands every request (a module-level one it returns, or one under
# `@lru_cache`), beside one it builds per request and a class dependency.
HANDED = """
from functools import lru_cache
from typing import Annotated

from fastapi import Depends


class Stats:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}

    def bump(self, k: str) -> None:
        self.hits[k] = self.hits.get(k, 0) + 1


stats = Stats()


def get_stats() -> Stats:
    return stats


@lru_cache
def cached_stats() -> Stats:
    return Stats()


def fresh_stats() -> Stats:
    return Stats()


StatsDep = Annotated[Stats, Depends(get_stats)]
"""
ROUTES = "".join(
    f"""

@router.get("/{name}")
async def {name}(session: session_dependency, s: {param}):
    s.bump("k")
    return session.execute("select 1").all()
"""
    for name, param in [
        ("returned", "Stats = Depends(get_stats)"), ("alias", "StatsDep"), ("cached", "Stats = Depends(cached_stats)"),
        ("fresh", "Stats = Depends(fresh_stats)"), ("built", "Stats = Depends()"),
    ]
)


def test_a_method_on_what_a_dependency_hands_every_request_keeps_it_and_a_fresh_one_converts(app, cli):
    document = cli.json("phase1", app(HANDED + ROUTES))
    actions = {h["function"]: (h["action"], h["codes"][0]) for h in document["handlers"]}
    assert [actions[f] for f in ("returned", "alias", "cached")] == [("keep", "AM140")] * 3, actions
    assert [actions[f][0] for f in ("fresh", "built")] == ["convert"] * 2, actions


# A cachetools cache reads and writes its bookkeeping on every call of what it decorates, with no
# lock unless `lock=` is given: a helper under it is a shared update; `cachetools.func`'s lock.
CACHED = """
import asyncio
import threading

from cachetools import LRUCache, TTLCache, cached, cachedmethod
from cachetools.func import ttl_cache

LOCK = threading.Lock()
ttl = cached(TTLCache(maxsize=32, ttl=5))
locked_ttl = cached(TTLCache(maxsize=32, ttl=5), lock=LOCK)


@cached(TTLCache(maxsize=32, ttl=5))
def count_unlocked(session, n):
    return session.execute("select 1").scalar()


@cached(LRUCache(maxsize=32), lock=LOCK)
def count_locked(session, n):
    return session.execute("select 1").scalar()


@ttl_cache(maxsize=32)
def count_func(session, n):
    return session.execute("select 1").scalar()


@ttl
def count_alias(session, n):
    return session.execute("select 1").scalar()


@locked_ttl
def count_locked_alias(session, n):
    return session.execute("select 1").scalar()


def plain(session, n):
    return session.execute("select 1").scalar()


class Repo:
    def __init__(self):
        self.cache = LRUCache(maxsize=32)

    @cachedmethod(lambda self: self.cache)
    def get(self, session, n):
        return session.execute("select 1").scalar()


repo = Repo()
HITS: dict[str, int] = {{}}


def bump(session):
    HITS["k"] = HITS.get("k", 0) + 1
    return session.execute("select 1").scalar()


@router.get("/items")
async def route(session: session_dependency):
    {body}
"""


@pytest.mark.parametrize("body, decorator, line", [
    ("return count_unlocked(session, 1)", "cached(TTLCache(maxsize=32, ttl=5))", 19),
    ("return count_alias(session, 1)", "ttl", 34),
    ("return repo.get(session, 1)", "cachedmethod(lambda self: self.cache)", 52),
])
def test_a_helper_under_a_cachetools_cache_with_no_lock_keeps_the_route(app, reported, body, decorator, line):
    entry = reported(app(CACHED.format(body=body)), "route", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert f"cached by `@{decorator}` (api/items.py:{line}) with no `lock=`: every call reads and writes that cache, " \
        "and cachetools locks none of its caches itself" in entry["reasons"][0], entry


@pytest.mark.parametrize("body", [
    "return count_locked(session, 1)",  # `lock=` given
    "return count_locked_alias(session, 1)",  # through an alias given one
    "return count_func(session, 1)",  # cachetools.func locks its own
    "return Repo().get(session, 1)",  # a cache on an instance of its own
    "with LOCK:\n        return count_unlocked(session, 1)",  # called holding the lock
])
def test_near_miss_a_locked_cache_or_an_instance_of_its_own_converts(app, reported, body):
    assert reported(app(CACHED.format(body=body)), "route", "phase1")["action"] == "convert"


def test_check_asks_for_the_lock_not_an_offload(app, findings):
    (finding,) = findings(app(CACHED.format(body="return count_unlocked(session, 1)")), "route")
    assert "pass it a `lock=threading.Lock()` and rerun phase one" in finding["message"], finding


@pytest.mark.parametrize("call", ["count_unlocked(session, 1)", "bump(session)"])
def test_offload_mixed_leaves_a_call_reaching_a_shared_update_on_the_loop(app, cli, call):
    # in the threadpool the update would race as it would in a `def`; the plain helper goes
    body = f"await asyncio.sleep(0)\n    a = plain(session, 1)\n    b = {call}\n    return a, b"
    root = app(CACHED.format(body=body))
    cli.json("phase1", root, "--offload-mixed", "--apply")
    text = (root / "api/items.py").read_text()
    assert "a = await run_in_threadpool(plain, session, 1)" in text
    assert f"b = {call}" in text


# A module-level cachetools cache written directly: each write updates its bookkeeping in steps.
WRITTEN = """
import threading

from cachetools import TTLCache

from core.caches import SHARED

_cache = TTLCache(maxsize=100, ttl=60)
_plain: dict[int, int] = {{}}
LOCK = threading.Lock()


def remember(session, n):
    value = session.execute("select 1").scalar()
    {write}
    return value


@router.get("/items")
async def route(session: session_dependency):
    return remember(session, 1)
"""
CACHES_MODULE = {"core/caches.py": "from cachetools import LRUCache\n\nSHARED = LRUCache(maxsize=10)\n"}


@pytest.mark.parametrize("write, subject", [
    ("_cache[n] = value", "_cache"),
    ("_cache.pop(n, None)", "_cache"),
    ("del _cache[n]", "_cache"),
    ("SHARED[n] = value", "SHARED"),  # imported from the module defining it
])
def test_a_write_to_a_module_level_cachetools_cache_keeps_the_route(app, reported, write, subject):
    entry = reported(app(WRITTEN.format(write=write), CACHES_MODULE), "route", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert entry["reasons"][0].startswith(
        f"calls `api.items.remember` (line 27), which writes the module-level cachetools cache `{subject}` (api/items.py:21)"
    ), entry


@pytest.mark.parametrize("write", [
    "_plain[n] = value",  # a dict takes an item in one step
    "with LOCK:\n        _cache[n] = value",  # under a lock
    "local = TTLCache(maxsize=1, ttl=1)\n    local[n] = value",  # a cache of its own
    "_cache.get(n)",  # a read
])
def test_near_miss_a_dict_a_lock_an_own_cache_or_a_read_converts(app, reported, write):
    assert reported(app(WRITTEN.format(write=write), CACHES_MODULE), "route", "phase1")["action"] == "convert"


def test_check_asks_for_the_writes_under_a_lock(app, findings):
    (finding,) = findings(app(WRITTEN.format(write="_cache[n] = value"), CACHES_MODULE), "route")
    assert "make it inside `with LOCK:` on a module-level `threading.Lock`" in finding["message"], finding


# A cachetools cache an instance holds (`self.cache = TTLCache(...)` in `__init__`), written by a
# method of the one instance every request reaches (`service = Lookup()` at module level), in a
# module of its own that names no router: as the module-level cache is, beside the shapes a
# plain container takes in one step (dict, set, list, OrderedDict), a lock, a read and an
# instance built per request.
SERVICE = """
import threading
from collections import OrderedDict

from cachetools import LRUCache, TTLCache


class Lookup:
    def __init__(self) -> None:
        self.cache = TTLCache(maxsize=100, ttl=60)
        self.lru = LRUCache(maxsize=10)
        self.plain: dict[int, int] = {}
        self.ordered: OrderedDict[int, int] = OrderedDict()
        self.seen: set[int] = set()
        self.lock = threading.Lock()

    def find(self, session, n):
        {write}
        return n


service = Lookup()
"""
CALLER = """
from services.lookup import Lookup, service


@router.get("/items")
async def route(session: session_dependency):
    {body}
    return session.execute("select 1").all()
"""


def _service(app, write: str, body: str = "service.find(session, 1)"):  # type: ignore[no-untyped-def]
    return app(CALLER.format(body=body), {"services/__init__.py": "", "services/lookup.py": SERVICE.replace("{write}", write)})


@pytest.mark.parametrize("write, subject, line", [
    ("if n not in self.cache:\n            self.cache[n] = session.execute('select 1').scalar()", "self.cache", 18),
    ("self.cache.setdefault(n, 1)", "self.cache", 17),
    ("self.cache.pop(n, None)", "self.cache", 17),
    ("self.lru.update({n: 1})", "self.lru", 17),
    ("del self.cache[n]", "self.cache", 17),
])
def test_a_write_to_a_cachetools_cache_a_shared_instance_holds_keeps_the_route(app, reported, write, subject, line):
    entry = reported(_service(app, write), "route", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert entry["reasons"][0].startswith(
        f"calls `services.lookup.Lookup.find` (line 13), which writes the cachetools cache `{subject}` "
        f"(services/lookup.py:{line}) of an instance every request shares, and cachetools locks none of its caches itself"
    ), entry


@pytest.mark.parametrize("write, body", [
    ("self.plain[n] = n", None),  # a dict takes an item in one step, as a module-level one does
    ("self.plain.setdefault(n, n)\n        self.plain.pop(n, None)\n        self.plain.update({n: n})", None),
    ("self.ordered[n] = n\n        self.ordered.move_to_end(n)", None),
    ("self.seen.add(n)", None),
    ("with self.lock:\n            self.cache[n] = n", None),  # under the instance's lock
    ("self.cache.get(n)", None),  # a read
    ("self.cache[n] = n", "Lookup().find(session, 1)"),  # an instance of its own
])
def test_near_miss_a_plain_container_a_lock_a_read_or_an_own_instance_converts(app, reported, write, body):
    root = _service(app, write, body or "service.find(session, 1)")
    assert reported(root, "route", "phase1")["action"] == "convert"


def test_check_asks_for_the_instance_cache_writes_under_its_lock(app, findings):
    (finding,) = findings(_service(app, "self.cache[n] = n"), "route")
    assert "the write to `self.cache` (services/lookup.py:17, through `services.lookup.Lookup.find` (line 13)) keeps it " \
        "async: make it inside `with self.lock:`" in finding["message"], finding
    # `--offload-mixed` leaves that call on the loop, where a worker thread would race as a `def` would
    assert "--offload-mixed` wraps the helper calls at line 13" not in finding["message"], finding


def test_offload_mixed_leaves_the_call_writing_an_instance_cache_on_the_loop(app, cli):
    body = "await asyncio.sleep(0)\n    service.find(session, 1)"
    root = _service(app, "self.cache[n] = n", body)
    (root / "api/items.py").write_text("import asyncio\n" + (root / "api/items.py").read_text())
    cli.json("phase1", root, "--offload-mixed", "--apply")
    assert "\n    service.find(session, 1)\n" in (root / "api/items.py").read_text()


def test_the_collector_reads_instance_item_writes_and_the_calls_attributes_are_bound_to():
    from async_migrate.codemods.astcollect.body import attribute_writes

    tree = ast.parse("def f(self, k):\n    self.a[k] = 1\n    self.b.pop(k)\n    self.c = {}\n    x.d[k] = 1\n    self.a[k] += 1\n")
    assert attribute_writes(list(ast.walk(tree.body[0])), "self") == [("a", 2), ("b", 3)]


BEFORE = """
from services.lookup import service


@router.get("/cached")
async def cached(session: session_dependency):
    service.find(session, 1)
    return session.execute("select 1").all()


@router.get("/plain")
async def plain(session: session_dependency):
    service.find_plain(session, 1)
    return session.execute("select 1").all()
"""


BEFORE_SERVICE = SERVICE.replace("{write}", "self.cache[n] = n").replace(
    "\n\nservice = Lookup()", "\n\n    def find_plain(self, session, n):\n        self.plain[n] = n\n        return n\n\n\nservice = Lookup()"
)


def test_phase_one_keeps_the_route_writing_the_instance_cache_and_converts_the_plain_dicts(app, cli):
    """Before and after `phase1 --apply`: only the route whose helper writes a plain dict is a `def`."""
    root = app(BEFORE, {"services/__init__.py": "", "services/lookup.py": BEFORE_SERVICE})
    before = (root / "api/items.py").read_text()
    cli.json("phase1", root, "--apply")
    assert (root / "api/items.py").read_text() == before.replace("async def plain", "def plain")
    assert "async def cached" in before and "async def plain" in before


# The application's state, reached through the request FastAPI hands every request
# (`request.app.state`), and a local standing for it or for a module-level object.
APP_STATE = """
from fastapi import Request

COUNTS: dict[str, int] = {{}}


def bump(req) -> None:
    req.app.state.hits += 1


@router.get("/route")
async def route(request: Request, session: session_dependency):
    {body}
    return session.execute("select 1").all()
"""


@pytest.mark.parametrize("body, subject, line", [
    ("request.app.state.hits += 1", "request.app.state.hits", 19),
    ('hits = request.app.state.hits_by_key\n    hits["k"] = hits.get("k", 0) + 1', "request.app.state.hits_by_key", 20),
    ('counts = COUNTS\n    counts["k"] += 1', "COUNTS", 20),
    ("bump(request)", None, None),  # a plain helper handed the request
])
def test_an_update_of_the_applications_state_or_through_a_local_standing_for_shared_state_keeps_it(
    app, reported, body, subject, line
):
    entry = reported(app(APP_STATE.format(body=body)), "route", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    expected = (
        f"updates `{subject}` from its own value at line {line}, state every request shares" if subject else
        "calls `api.items.bump` (line 19), which updates `req.app.state.hits` from its own value at api/items.py:14"
    )
    assert entry["reasons"][0].startswith(expected), entry["reasons"][0]


@pytest.mark.parametrize("body", [
    "request.state.hits += 1",  # the request's own state
    'hits = dict(request.app.state.hits_by_key)\n    hits["k"] = hits.get("k", 0) + 1',  # a copy of its own
    "request.app.state.last = 1",  # a plain assignment: no update to lose
    'hits = {"k": 0}\n    hits["k"] += 1',  # a local of its own
])
def test_near_miss_the_requests_own_state_a_copy_or_a_plain_assignment_converts(app, reported, body):
    assert reported(app(APP_STATE.format(body=body)), "route", "phase1")["action"] == "convert"
