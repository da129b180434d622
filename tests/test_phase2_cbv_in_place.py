"""Phase two on a class-based view nothing synchronous uses: it moves in place.

A view class (fastapi-utils' `@cbv(router)`, or a `@cbv` of the project's own) whose routes are
all in the subsystem, the Session from its `__init__`'s or class attribute's `Depends(...)`,
was given a parallel async class, and so blocked (AM253: its class decorator would run again
for the copy, "which code that stays synchronous uses"), though nothing else used it: a decorator
anywhere in the project reading `cls.__init__` uncalled (the project's own `@cbv`, wrapping the
`__init__` it builds the routes' dependencies from), or a `super().__init__(sku)` in an exception
class, counted as places calling the view's `__init__` where the tool cannot see. Now the view
moves in place (its decorator runs once, as before), and where code staying synchronous does use
the class, AM253 names that code. Each case is migrated and then RUN.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

service = test_phase2_soundness.service  # the same small application on the sync stack

VIEWS = """
from fastapi import HTTPException
from {decorator} import cbv


@cbv(router)
class ItemViews:
{members}

    @router.post("/items")
    def create_item(self, name: str):
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return {{"id": item.id}}

    @router.get("/items/{{item_id}}")
    def read_item(self, item_id: int):
        return {{"name": self._get(item_id).name}}

    @router.get("/count")
    def count_items(self):
        return {{"count": self.db.scalar(select(func.count()).select_from(Item))}}

    def _get(self, item_id: int) -> Item:
        item = self.db.get(Item, item_id)
        if item is None:
            raise HTTPException(404)
        return item
"""
INIT = "    def __init__(self, db: Session = Depends(get_db_session)):\n        self.db = db\n"
CLASS_ATTRIBUTE = "    db: Session = Depends(get_db_session)\n"
MEMBERS = {"init-depends": INIT, "class-depends": CLASS_ATTRIBUTE}

# A class-based-view helper of the project's own, in the style of fastapi-utils' `@cbv`: it reads
# `cls.__init__` uncalled, wraps it, and gives each route `Depends(cls)`.
OWN_CBV = '''
import inspect
from typing import Any, Callable, TypeVar

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute

T = TypeVar("T")


def _init_cbv(cls: type) -> None:
    old_init: Callable[..., Any] = cls.__init__
    old_sig = inspect.signature(old_init)

    def new_init(self: Any, *args: Any, **kwargs: Any) -> None:
        old_init(self, *args, **kwargs)

    setattr(new_init, "__signature__", old_sig)
    setattr(cls, "__init__", new_init)


def _fix_signature(cls: type, endpoint: Callable[..., Any]) -> None:
    sig = inspect.signature(endpoint)
    params = list(sig.parameters.values())
    first = params[0].replace(default=Depends(cls))
    rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params[1:]]
    setattr(endpoint, "__signature__", sig.replace(parameters=[first, *rest]))


def cbv(router: APIRouter) -> Callable[[type[T]], type[T]]:
    def decorator(cls: type[T]) -> type[T]:
        _init_cbv(cls)
        functions = {f for _, f in inspect.getmembers(cls, inspect.isfunction)}
        for route in [r for r in router.routes if isinstance(r, APIRoute) and r.endpoint in functions]:
            router.routes.remove(route)
            _fix_signature(cls, route.endpoint)
            router.add_api_route(route.path, route.endpoint, methods=list(route.methods), name=route.name)
        return cls

    return decorator
'''
# An exception class of the project calling its library base's `__init__` through `super()`.
ERRORS = '''
class OutOfStock(Exception):
    def __init__(self, sku: str):
        super().__init__(sku)
        self.sku = sku
'''
SCRIPT = """
created = client.post("/items", params={"name": "kept"})
found = client.get(f"/items/{created.json()['id']}")
missing = client.get("/items/999")
counted = client.get("/count")
with Sync() as s:
    saved = s.scalar(select(func.count()).select_from(Item).where(Item.name == "kept"))
print(json.dumps({"created": created.status_code, "found": found.json(), "missing": missing.status_code,
                  "count": counted.json(), "saved": saved}))
"""
EXPECTED = {"created": 200, "found": {"name": "kept"}, "missing": 404, "count": {"count": 1}, "saved": 1}
ROUTES = ("ItemViews.create_item", "ItemViews.read_item", "ItemViews.count_items")


def _moved_in_place(cli, root) -> str:  # type: ignore[no-untyped-def]
    document = apply(cli, root)
    for name in ROUTES:
        found = handler(document, name)
        assert found["action"] == "migrate", found
    text = read(root, SUBSYSTEM)
    # one class, moved in place: no parallel copy, its decorator running once as before
    assert text.count("@cbv(router)") == 1 and "ItemViewsAsync" not in text, text
    assert "async def create_item(self" in text and "await self.db.commit()" in text, text
    assert "await self._get(item_id)" in text and "await self.db.get(Item, item_id)" in text, text
    declared = text.split("class ItemViews:")[1].split("@router")[0]
    assert "db: AsyncSession = Depends(get_async_db_session)" in declared, declared
    assert "get_db_session" not in declared.replace("get_async_db_session", ""), declared
    assert run(cli, root)["files_changed"] == []  # idempotent
    return text


@pytest.mark.parametrize("members", MEMBERS.values(), ids=MEMBERS.keys())
@pytest.mark.parametrize("kind", KINDS)
def test_a_fastapi_utils_view_nothing_else_uses_moves_in_place(cli, service, kind, members):
    # The project also has its own `@cbv` (used by no class here) and an exception class calling
    # `super().__init__`: neither calls the view's `__init__`.
    root = service({
        "core/cbv.py": OWN_CBV, "core/errors.py": ERRORS,
        SUBSYSTEM: routes(VIEWS.format(decorator="fastapi_utils.cbv", members=members)),
    })
    assert serve(root, kind, SCRIPT) == EXPECTED
    _moved_in_place(cli, root)
    assert serve(root, kind, SCRIPT) == EXPECTED


@pytest.mark.parametrize("kind", KINDS)
def test_a_view_under_the_projects_own_cbv_moves_in_place(cli, service, kind):
    # The project's `@cbv` reads the view's `__init__` uncalled and wraps it: FastAPI still builds
    # the view from the signature, its `Depends(...)` now the async dependency.
    root = service({
        "core/cbv.py": OWN_CBV,
        SUBSYSTEM: routes(VIEWS.format(decorator="core.cbv", members=INIT)),
    })
    assert serve(root, kind, SCRIPT) == EXPECTED
    _moved_in_place(cli, root)
    assert serve(root, kind, SCRIPT) == EXPECTED


@pytest.mark.parametrize("extra", [{"core/cbv.py": OWN_CBV}, {"core/errors.py": ERRORS}], ids=["own-cbv", "exception"])
def test_each_unrelated_shape_alone_leaves_the_view_moving(cli, service, extra):
    root = service({**extra, SUBSYSTEM: routes(VIEWS.format(decorator="fastapi_utils.cbv", members=INIT))})
    document = run(cli, root)
    for name in ROUTES:
        assert handler(document, name)["action"] == "migrate", handler(document, name)


OTHER = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.items import ItemViews
from db.engine import get_db_session

router = APIRouter()


@router.get("/summary")
def summary(db: Session = Depends(get_db_session)):
    return ItemViews(db).count_items()
"""
MAIN_WITH_OTHER = """
from fastapi import FastAPI

from api import items, other

app = FastAPI()
app.include_router(items.router)
app.include_router(other.router)
"""


def test_near_miss_a_view_a_route_outside_the_subsystem_uses_stays_blocked_naming_it(cli, service):
    # `summary` stays synchronous and calls the view's method: the view would need a parallel
    # async class, and `@cbv` would register that copy's routes too. Blocked, naming `summary`.
    root = service({
        "core/cbv.py": OWN_CBV, "main.py": MAIN_WITH_OTHER, "api/other.py": OTHER,
        SUBSYSTEM: routes(VIEWS.format(decorator="fastapi_utils.cbv", members=INIT)),
    })
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    for name in ROUTES:
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM253" in found["codes"], found
        reasons = " ".join(found["reasons"])
        assert "the class decorator `@cbv` of ItemViews would run again" in reasons, reasons
        assert "which code that stays synchronous uses (api.other.summary at api/other.py:12)" in reasons, reasons
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", SCRIPT) == EXPECTED


REPOSITORY = """
from core.registry import registered


@registered
class ItemRepository:
    def __init__(self, db: Session):
        self.db = db

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item


@router.post("/items")
def create_item(name: str, db: Session = Depends(get_db_session)):
    return {"id": ItemRepository(db).add(name).id}
"""
REGISTRY = '''
REGISTRY = {}


def registered(cls):
    REGISTRY[cls.__name__] = cls.__init__
    return cls
'''


def test_near_miss_a_repository_whose_init_a_registry_keeps_stays_blocked_naming_the_place(cli, service):
    # Not a view: what keeps its `__init__` uncalled may build it with anything; it keeps its
    # synchronous original, and the class decorator blocks its copy, naming that place.
    root = service({"core/registry.py": REGISTRY, SUBSYSTEM: routes(REPOSITORY)})
    before = read(root, SUBSYSTEM)
    document = run(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    reasons = " ".join(found["reasons"])
    assert "`ItemRepository.__init__` named at core/registry.py:5, where the tool cannot see" in reasons, reasons
    assert read(root, SUBSYSTEM) == before
