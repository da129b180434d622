"""Phase two writes async copies of classes only for code that migrates: nothing when every
route is blocked, and no copy of a class the migrating routes never use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import test_phase2_soundness
from test_phase2_holders import OTHER_MODULE, REPO, ROUTES, SUBSYSTEM, TWO_ROUTERS
from test_phase2_objects import apply_objects
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import dedent, routes, serve

service = test_phase2_soundness.service


def pyflakes(root: Path) -> set[tuple[str, str, str]]:
    """ruff's pyflakes findings (unused, redefined, undefined names) as (file, code, message)."""
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "F", "--isolated", "--no-cache",
         "--output-format", "json", "."],
        cwd=root, capture_output=True, text=True, check=False,
    )
    return {(Path(f["filename"]).name, f["code"], f["message"]) for f in json.loads(lint.stdout)}

# A listener on the sync engine the async stack would not run: the stack blocks the whole
# subsystem (AM270).
ENGINE = test_phase2_soundness.ENGINE + """

from sqlalchemy import event


@event.listens_for(engine, "connect")
def on_connect(dbapi_connection, record):
    dbapi_connection.execute("select 1")
"""


def test_nothing_is_written_when_the_async_stack_blocks_every_route(cli, service):
    root = service({
        "db/engine.py": dedent(ENGINE),
        SUBSYSTEM: routes(REPO, ROUTES), "api/admin.py": OTHER_MODULE, "main.py": TWO_ROUTERS,
    })
    before = read(root, SUBSYSTEM)
    document = apply_objects(cli, root)
    for route in ("add_item", "add_unsaved", "item_names"):
        assert handler(document, route)["action"] == "blocked", handler(document, route)
    assert document["files_changed"] == [], document["diff"]
    assert "Async" not in read(root, SUBSYSTEM) and read(root, SUBSYSTEM) == before


FAMILY = """
class Repo:
    def __init__(self, db: Session) -> None:
        self.db = db

    def count(self) -> int:
        return self.db.scalar(select(func.count()).select_from(self.model))


class ItemRepo(Repo):
    model = Item

    def add(self, name: str) -> Item:
        obj = Item(name=name, owner_id=1)
        self.db.add(obj)
        self.db.commit()
        return obj


class UserRepo(Repo):
    model = User

    def first_name(self) -> str:
        return self.db.scalars(select(User.name).order_by(User.id)).first()
"""
FAMILY_ROUTES = """
@router.post("/items")
def add_item(name: str, db: session_dependency):
    made = ItemRepo(db).add(name)
    return {"id": made.id, "count": ItemRepo(db).count()}
"""
FAMILY_OTHER = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.items import ItemRepo, UserRepo
from db.engine import get_db_session

router = APIRouter()


@router.get("/admin/items")
def admin_items(db: Session = Depends(get_db_session)):
    return {"count": ItemRepo(db).count()}


@router.get("/admin/users")
def admin_users(db: Session = Depends(get_db_session)):
    return {"count": UserRepo(db).count(), "first": UserRepo(db).first_name()}
"""


def test_a_parallel_class_is_written_only_for_the_classes_the_migrated_routes_use(cli, service):
    root = service({
        SUBSYSTEM: routes(FAMILY, FAMILY_ROUTES), "api/admin.py": dedent(FAMILY_OTHER), "main.py": TWO_ROUTERS,
    })
    before = pyflakes(root)
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    text = read(root, SUBSYSTEM)
    assert "class RepoAsync:" in text and "class ItemRepoAsync(RepoAsync):" in text
    # the migrated route never names UserRepo: no copy, and its method is no helper of the run
    assert "UserRepoAsync" not in text
    helpers = {h["function"]: h for h in document["subsystem"]["helpers"]}
    assert "UserRepo.first_name" not in helpers, helpers["UserRepo.first_name"]
    # each class's reason names its own synchronous users
    item_reason = " ".join(helpers["ItemRepo.add"]["reasons"])
    assert "admin_items" in item_reason and "admin_users" not in item_reason, item_reason
    base_reason = " ".join(helpers["Repo.count"]["reasons"])
    assert "admin_items" in base_reason and "admin_users" in base_reason, base_reason
    assert pyflakes(root) <= before, pyflakes(root) - before
    result = serve(root, "sqlite", """
        added = client.post("/items", params={"name": "a"}).json()
        admin = [client.get("/admin/items").json(), client.get("/admin/users").json()]
        print(json.dumps({"added": added, "admin": admin}))
    """)
    assert result == {"added": {"id": 1, "count": 1}, "admin": [{"count": 1}, {"count": 2, "first": "Ann"}]}


ALIASED_ROUTES = """
def get_items(db: Session = Depends(get_db_session)) -> ItemRepo:
    return ItemRepo(db)


ItemsDep = Annotated[ItemRepo, Depends(get_items)]


@router.post("/items")
def add_item(name: str, items: ItemsDep):
    made = items.add(name)
    return {"id": made.id, "count": items.count()}
"""
ALIASED_OTHER = FAMILY_OTHER.replace("from fastapi import APIRouter, Depends\n", (
    "from typing import Annotated\n\nfrom fastapi import APIRouter, Depends\n"
)).replace("from api.items import ItemRepo, UserRepo\n", "from api.items import ItemRepo, UserRepo, get_items\n") + """

AdminItems = Annotated[ItemRepo, Depends(get_items)]


@router.get("/admin/aliased")
def admin_aliased(items: AdminItems):
    return {"count": items.count()}
"""


def test_an_alias_twin_names_the_parallel_class_and_only_migrated_modules_get_one(cli, service):
    root = service({
        SUBSYSTEM: routes(FAMILY, ALIASED_ROUTES).replace(
            "from fastapi import APIRouter, Depends\n", "from typing import Annotated\n\nfrom fastapi import APIRouter, Depends\n"
        ),
        "api/admin.py": dedent(ALIASED_OTHER), "main.py": TWO_ROUTERS,
    })
    admin = read(root, "api/admin.py")
    before = pyflakes(root)
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    text = read(root, SUBSYSTEM)
    assert "ItemsDep_async = Annotated[ItemRepoAsync, Depends(get_items_async)]" in text
    assert "async def add_item(name: str, items: ItemsDep_async):" in text
    # api/admin.py stays synchronous: no alias twin nobody uses
    assert read(root, "api/admin.py") == admin
    assert pyflakes(root) <= before, pyflakes(root) - before
    result = serve(root, "sqlite", """
        added = client.post("/items", params={"name": "a"}).json()
        admin = client.get("/admin/aliased").json()
        print(json.dumps({"added": added, "admin": admin}))
    """)
    assert result == {"added": {"id": 1, "count": 1}, "admin": {"count": 1}}


def test_the_asyncio_import_an_unwrapped_to_thread_left_unused_goes(cli, service):
    root = service({SUBSYSTEM: "import asyncio\n" + routes(
        """
        def count(db: Session) -> int:
            return db.scalar(select(func.count(Item.id)))
        """,
        """
        @router.get("/count")
        async def count_items(db: session_dependency):
            return {"n": await asyncio.to_thread(count, db)}
        """,
    )})
    before = pyflakes(root)
    document = apply_objects(cli, root)
    assert handler(document, "count_items")["action"] == "migrate", handler(document, "count_items")
    text = read(root, SUBSYSTEM)
    assert 'return {"n": await count(db)}' in text and "import asyncio" not in text, text
    assert pyflakes(root) <= before, pyflakes(root) - before
    assert serve(root, "sqlite", 'print(json.dumps(client.get("/count").json()))') == {"n": 0}


REPOS_MODULE = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item, User
""" + FAMILY + """

def get_items(db: Session = Depends(get_db_session)) -> ItemRepo:
    return ItemRepo(db)


ItemsDep = Annotated[ItemRepo, Depends(get_items)]
"""


def test_a_route_using_an_imported_alias_imports_only_its_twin(cli, service):
    root = service({
        "repos.py": dedent(REPOS_MODULE),
        SUBSYSTEM: routes("""
            @router.post("/items")
            def add_item(name: str, items: ItemsDep):
                made = items.add(name)
                return {"id": made.id, "count": items.count()}
            """).replace("from models import Item, User", "from models import Item, User\nfrom repos import ItemsDep"),
        "api/admin.py": dedent(FAMILY_OTHER).replace("from api.items import", "from repos import"),
        "main.py": TWO_ROUTERS,
    })
    before = pyflakes(root)
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert "from repos import ItemsDep_async\n" in read(root, SUBSYSTEM)
    assert "ItemsDep_async = Annotated[ItemRepoAsync, Depends(get_items_async)]" in read(root, "repos.py")
    assert pyflakes(root) <= before, pyflakes(root) - before
    result = serve(root, "sqlite", """
        added = client.post("/items", params={"name": "a"}).json()
        print(json.dumps({"added": added, "admin": client.get("/admin/items").json()}))
    """)
    assert result == {"added": {"id": 1, "count": 1}, "admin": {"count": 1}}


ALIAS_OTHER = """
from fastapi import APIRouter

from repos import ItemsDep

router = APIRouter()


@router.get("/admin/items")
def admin_items(items: ItemsDep):
    return {"count": items.count()}
"""


def test_a_second_subsystem_reuses_the_alias_twin_an_earlier_run_wrote(cli, service):
    root = service({
        "repos.py": dedent(REPOS_MODULE),
        SUBSYSTEM: routes("""
            @router.post("/items")
            def add_item(name: str, items: ItemsDep):
                made = items.add(name)
                return {"id": made.id, "count": items.count()}
            """).replace("from models import Item, User", "from models import Item, User\nfrom repos import ItemsDep"),
        "api/admin.py": dedent(ALIAS_OTHER),
        "main.py": TWO_ROUTERS,
    })
    assert handler(apply_objects(cli, root), "add_item")["action"] == "migrate"
    document = apply(cli, root, "--jobs", "1", subsystem="api/admin.py")
    assert handler(document, "admin_items")["action"] == "migrate", handler(document, "admin_items")
    text = read(root, "repos.py")
    assert text.count("ItemsDep_async = Annotated[ItemRepoAsync, Depends(get_items_async)]") == 1, text
    assert "_async_2" not in text, text
    assert "from repos import ItemsDep_async\n" in read(root, "api/admin.py")
    result = serve(root, "sqlite", """
        added = client.post("/items", params={"name": "a"}).json()
        print(json.dumps({"added": added, "admin": client.get("/admin/items").json()}))
    """)
    assert result == {"added": {"id": 1, "count": 1}, "admin": {"count": 1}}


def test_near_miss_an_alias_twin_name_taken_by_another_definition_gets_a_fresh_name(cli, service):
    # `ItemsDep_async` already names an alias of the synchronous repository: not the twin
    taken = dedent(REPOS_MODULE) + "\n\nItemsDep_async = Annotated[ItemRepo, Depends(get_items)]\n"
    root = service({
        "repos.py": taken,
        SUBSYSTEM: routes("""
            @router.post("/items")
            def add_item(name: str, items: ItemsDep):
                made = items.add(name)
                return {"id": made.id, "count": items.count()}
            """).replace("from models import Item, User", "from models import Item, User\nfrom repos import ItemsDep"),
        "api/admin.py": dedent(ALIAS_OTHER),
        "main.py": TWO_ROUTERS,
    })
    assert handler(apply_objects(cli, root), "add_item")["action"] == "migrate"
    text = read(root, "repos.py")
    assert "ItemsDep_async_2 = Annotated[ItemRepoAsync, Depends(get_items_async)]" in text, text
    assert "ItemsDep_async = Annotated[ItemRepo, Depends(get_items)]" in text, text
    assert "from repos import ItemsDep_async_2\n" in read(root, SUBSYSTEM)
    result = serve(root, "sqlite", """
        added = client.post("/items", params={"name": "a"}).json()
        print(json.dumps({"added": added, "admin": client.get("/admin/items").json()}))
    """)
    assert result == {"added": {"id": 1, "count": 1}, "admin": {"count": 1}}
