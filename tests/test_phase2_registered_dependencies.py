"""Phase two on routes registered by `router.add_api_route(path, endpoint, ...)`: the call's own
`dependencies=[...]` and `response_model=` are the route's, as a route decorator's are.

A `Depends(...)` in that list applies to the registered endpoint only: it no longer counts as
written where the tool cannot tell which routes it applies to (which blocked every route of
every subsystem). Where it receives the synchronous Session, the registered route is blocked
(phase two does not rewrite a registration call), and its routes are users of the dependency
(a callable instance's `__call__` does not move in place under them). `response_model=` is the
response the lazy-load analysis reads, not the endpoint's return annotation.
"""

from __future__ import annotations

import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import ADMIN_DEPENDENCIES, CREATE, routes, serve

service = test_phase2_soundness.service

DEPENDENCIES = ADMIN_DEPENDENCIES.replace(
    "from db.engine import get_db_session", "from db.engine import get_db_session\nfrom models import User"
)
MAIN = """
from fastapi import FastAPI

from api import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router, prefix="/admin")
"""
STATS = """
def stats(db: session_dependency):
    return {"items": db.scalar(select(func.count()).select_from(Item))}
"""


def admin_routes(registration: str) -> str:
    return routes(STATS, registration)


def test_a_registration_dependency_sharing_the_session_blocks_only_its_route(cli, service):
    root = service({
        "core/dependencies.py": DEPENDENCIES,
        "main.py": MAIN,
        "api/admin.py": admin_routes(
            """
            from core.dependencies import require_admin

            router.add_api_route("/stats", stats, methods=["GET"], dependencies=[Depends(require_admin)])
            """
        ),
        "api/items.py": routes(CREATE),
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    admin = apply(cli, root, subsystem="api/admin.py")
    found = handler(admin, "stats")
    assert found["action"] == "blocked" and found["codes"] == ["AM219"], found
    assert "dependency core.dependencies.require_admin receives the synchronous Session through " \
        "`get_current_user`, and `add_api_route(..., dependencies=[Depends(require_admin)])` (api/admin.py:18) " \
        "applies it to this route" in found["reasons"][0]
    assert admin["files_changed"] == []
    result = serve(root, "sqlite", """
        status = client.post("/items", params={"name": "pen"}).status_code
        print(json.dumps({"status": status, "stats": client.get("/admin/stats").json()}))
    """)
    assert result == {"status": 200, "stats": {"items": 1}}


def test_near_miss_a_registration_dependency_without_the_session_lets_its_route_move(cli, service):
    root = service({
        "core/dependencies.py": DEPENDENCIES + '\n\ndef require_header(x_ok: str = "1") -> None:\n    return None\n',
        "main.py": MAIN,
        "api/admin.py": admin_routes(
            """
            from core.dependencies import require_header

            router.add_api_route("/stats", stats, methods=["GET"], dependencies=[Depends(require_header)])
            """
        ),
        "api/items.py": routes(CREATE),
    })
    found = handler(apply(cli, root, subsystem="api/admin.py"), "stats")
    assert found["action"] == "migrate", found
    result = serve(root, "sqlite", """
        client.post("/items", params={"name": "pen"})
        print(json.dumps(client.get("/admin/stats").json()))
    """)
    assert result == {"items": 1}


CHECKER = """

class Checker:
    def __call__(self, user: Annotated[User, Depends(get_current_user)]) -> User:
        return user


checker = Checker()
"""


def test_a_callable_instance_listed_by_a_registration_is_used_there(cli, service):
    """The route registered with `Depends(checker)` stays synchronous: `Checker.__call__` cannot
    become `async def` on the AsyncSession for the decorated route alone."""
    root = service({
        "core/dependencies.py": DEPENDENCIES + CHECKER,
        "main.py": MAIN,
        "api/admin.py": admin_routes(
            """
            from core.dependencies import checker

            router.add_api_route("/stats", stats, methods=["GET"], dependencies=[Depends(checker)])
            """
        ),
        "api/items.py": routes(
            """
            from core.dependencies import checker
            """,
            """
            @router.post("/items", dependencies=[Depends(checker)])
            def create_item(name: str, db: session_dependency):
                db.add(Item(name=name, owner_id=1))
                db.commit()
            """,
        ),
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked", found
    assert "for instances also injected where the code stays synchronous (api/admin.py:18)" in found["reasons"][0]


OWNED_MODELS = test_phase2_soundness.MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
) + "    owner: Mapped[User] = relationship()\n"
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class ItemName(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemWithOwner(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    owner: OwnerOut
"""
READ_ITEM = """
from schemas import ItemName, ItemWithOwner


def read_item(item_id: int, db: session_dependency) -> Item:
    return db.get(Item, item_id)


router.add_api_route("/items/{item_id}", read_item, methods=["GET"], response_model={model})
"""


def test_a_registrations_response_model_is_the_response_read(cli, service):
    """`response_model=ItemName` reads no relationship: the `-> Item` annotation, whose `owner`
    a response would lazy-load, is not what FastAPI serialises."""
    root = service({
        "models.py": OWNED_MODELS,
        "schemas.py": SCHEMAS,
        "api/items.py": routes(READ_ITEM.replace("{model}", "ItemName")),
    })
    found = handler(apply(cli, root), "read_item")
    assert found["action"] == "migrate", found
    assert not any("eager load" in reason for reason in found["reasons"]), found
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(id=7, name="pen", owner_id=1))
            s.commit()
        print(json.dumps(client.get("/items/7").json()))
    """)
    assert result == {"id": 7, "name": "pen"}


def test_near_miss_a_registrations_response_model_reading_a_relationship_loads_it(cli, service):
    root = service({
        "models.py": OWNED_MODELS,
        "schemas.py": SCHEMAS,
        "api/items.py": routes(READ_ITEM.replace("{model}", "ItemWithOwner")),
    })
    found = handler(apply(cli, root), "read_item")
    assert found["action"] == "migrate", found
    assert any("adds the eager load of Item.owner" in reason for reason in found["reasons"]), found
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(id=7, name="pen", owner_id=1))
            s.commit()
        print(json.dumps(client.get("/items/7").json()))
    """)
    assert result == {"id": 7, "owner": {"name": "Ann"}}


INSTANCE_ROUTES = """
class Stats:
    def __init__(self) -> None:
        self.router = APIRouter(prefix="/stats")
        self.router.add_api_route("", self.count, methods=["GET"])

    def count(self, db: session_dependency):
        return {"items": db.scalar(select(func.count()).select_from(Item))}


stats = Stats()
"""
INSTANCE_MAIN = """
from fastapi import Depends, FastAPI

from api import admin, items
from core.dependencies import require_admin

app = FastAPI()
app.include_router(items.stats.router)
app.include_router(admin.router, prefix="/admin", dependencies=[Depends(require_admin)])
"""


def test_a_route_on_an_instances_own_router_is_not_under_another_routers_guarded_include(cli, service):
    root = service({
        "core/dependencies.py": DEPENDENCIES,
        "main.py": INSTANCE_MAIN,
        "api/admin.py": routes(STATS, 'router.add_api_route("/stats", stats, methods=["GET"])'),
        "api/items.py": routes(INSTANCE_ROUTES),
    })
    found = handler(apply(cli, root), "Stats.count")
    assert found["action"] == "migrate", found
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(name="pen", owner_id=1))
            s.commit()
        print(json.dumps(client.get("/stats").json()))
    """)
    assert result == {"items": 1}


def test_a_guarded_include_of_the_instances_router_moves_its_list_with_its_route(cli, service):
    main = INSTANCE_MAIN.replace(
        "app.include_router(items.stats.router)", "app.include_router(items.stats.router, dependencies=[Depends(require_admin)])"
    )
    root = service({
        "core/dependencies.py": DEPENDENCIES,
        "main.py": main,
        "api/admin.py": routes(STATS, 'router.add_api_route("/stats", stats, methods=["GET"])'),
        "api/items.py": routes(INSTANCE_ROUTES),
    })
    found = handler(apply(cli, root), "Stats.count")
    assert found["action"] == "migrate", found
    # that include's list only: the admin router's routes keep the synchronous dependency
    assert "app.include_router(items.stats.router, dependencies=[Depends(require_admin_async)])\n" \
        'app.include_router(admin.router, prefix="/admin", dependencies=[Depends(require_admin)])' in read(root, "main.py")
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(name="pen", owner_id=1))
            s.commit()
        print(json.dumps([client.get("/stats").json(), client.get("/admin/stats").json()]))
    """)
    assert result == [{"items": 1}, {"items": 1}]
