"""Phase two run subsystem after subsystem on one copy of a sample, then every subsystem again.

A later run reuses what an earlier one generated: the async stack, the dependency twins and
their `Annotated` aliases, the twins of shared helpers. It never adds a second copy
(`current_user_dependency_async_2` beside `current_user_dependency_async`, an in-place async
original beside its earlier twin), and a run on a subsystem already migrated changes nothing.
The service's own tests then pass on the async stack.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

import pytest
from conftest import BOOKSHOP, TASKBOARD
from phase2_models import user_item_models
from sample import STRICT, assert_all_passed, copy_service, defined_tests, run_service_tests
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import KINDS, serve, service

__all__ = ["service"]  # the fixture, used by name

SAMPLES = {
    "bookshop": (BOOKSHOP, "BOOKSHOP", ("api/books.py", "api/authors.py", "api/reviews.py", "api/orders.py")),
    "taskboard": (TASKBOARD, "TASKBOARD", ("api/tasks.py", "api/projects.py", "api/users.py", "api/reports.py")),
}


def definitions(root) -> Counter:  # type: ignore[no-untyped-def]
    """(module, qualified name) -> how many times the module defines or assigns it at the top
    level or in a class body (the service's tests left out)."""
    found: Counter = Counter()
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("tests/"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            bodies = [("", [node])]
            if isinstance(node, ast.ClassDef):
                bodies.append((node.name + ".", node.body))
            for prefix, statements in bodies:
                for statement in statements:
                    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        found[(relative, prefix + statement.name)] += 1
                    elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                        for target in targets:
                            if isinstance(target, ast.Name):
                                found[(relative, prefix + target.id)] += 1
    return found


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_subsystem_after_subsystem_reuses_what_earlier_runs_added_and_a_rerun_changes_nothing(cli, tmp_path, sample):
    source, prefix, subsystems = SAMPLES[sample]
    root = copy_service(source, tmp_path / sample)
    assert cli("phase1", root, "--apply").exit_code == 0
    for subsystem in subsystems:
        document = cli.json("phase2", root, "--subsystem", subsystem, "--apply")
        assert document["errors"] == [], subsystem
        numbered = sorted(set(re.findall(r"^\+.*?\b(\w+_async_\d+)\b", document["diff"], re.MULTILINE)))
        assert numbered == [], (subsystem, numbered)
    text = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*.py")}
    assert not [(path, name) for path, body in text.items() for name in re.findall(r"\b\w+_async_\d+\b", body)]
    twice = {key: n for key, n in definitions(root).items() if n > 1 and "_async" in key[1]}
    assert twice == {}
    before = {path: path.read_bytes() for path in root.rglob("*.py")}
    for subsystem in subsystems:
        document = cli.json("phase2", root, "--subsystem", subsystem, "--apply")
        assert (document["errors"], document["files_changed"]) == ([], []), subsystem
    assert {path: path.read_bytes() for path in root.rglob("*.py")} == before
    result = run_service_tests(root, None, prefix=prefix, pytest_args=STRICT)
    assert_all_passed(result, defined_tests(root))


HELPERS = """
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, selectinload

from models import Book


def book_of(session: Session, book_id: int) -> Book:
    return session.get(Book, book_id)


async def book_of_async(session: AsyncSession, book_id: int) -> Book:
    return await session.get(Book, book_id{options})
"""
ROUTER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services.books import book_of

router = APIRouter()


@router.get("/author")
def author(session: session_dependency):
    return {"author": book_of(session, 1).author.name}
"""


@pytest.fixture
def twin_app(project, app_files):  # type: ignore[no-untyped-def]
    from test_phase2_rules import MODELS, RUNTIME_ENGINE

    def build(options: str):  # type: ignore[no-untyped-def]
        return project({
            **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS, "api/__init__.py": "",
            "services/__init__.py": "", "services/books.py": HELPERS.format(options=options), "api/items.py": ROUTER,
        })

    return build


def test_an_existing_twin_without_the_eager_load_the_route_needs_gets_it_added(cli, twin_app):
    from test_phase2_rules import handler, helper, run_python

    root = twin_app("")
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    found = handler(document, "author")
    assert found["action"] == "migrate", found
    assert "adds the eager load of Book.author to the query in services.books.book_of_async" \
        in " ".join(found["reasons"])
    assert helper(document, "book_of")["action"] == "twin"
    text = (root / "services/books.py").read_text()
    # the twin the route calls loads it; the synchronous original is left as it was
    assert "\ndef book_of(session: Session, book_id: int) -> Book:\n    return session.get(Book, book_id)\n" in text
    # `get()` would ignore the option for an object the Session holds already: a select, as for a migrated get
    assert text.count("async def book_of_async(") == 1 and (
        "return (await session.scalars(select(Book).where(Book.id == book_id).options(selectinload(Book.author))))"
        ".one_or_none()"
    ) in text
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            print(json.dumps(client.get("/author").json()))
    """)
    assert result == {"author": "Ann"}


def test_an_existing_twin_whose_queries_do_not_line_up_with_the_original_blocks(cli, twin_app):
    from test_phase2_rules import handler

    # the twin was edited by hand since: it no longer runs the original's `get`
    root = twin_app("")
    path = root / "services/books.py"
    path.write_text(path.read_text().replace(
        "return await session.get(Book, book_id)", "return (await session.scalars(select(Book).where(Book.id == book_id))).one()"
    ).replace("from models import Book", "from sqlalchemy import select\n\nfrom models import Book"))
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    found = handler(document, "author")
    assert (found["action"], found["codes"]) == ("blocked", ["AM245"]), found
    assert "whose async twin `book_of_async` (already there: an earlier run's, or written by hand)" in found["reasons"][0]
    assert "fix: add the eager load of Book.author to the query in `book_of_async`" in found["reasons"][0]


def test_near_miss_an_existing_twin_loading_it_is_reused(cli, twin_app):
    from test_phase2_rules import handler, helper, run_python

    root = twin_app(", options=[selectinload(Book.author)]")
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    assert handler(document, "author")["action"] == "migrate"
    assert helper(document, "book_of")["action"] == "twin"
    text = (root / "services/books.py").read_text()
    assert text.count("async def book_of_async(") == 1 and "\ndef book_of(session: Session," in text
    assert "await book_of_async(session, 1)" in (root / "api/items.py").read_text()
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            print(json.dumps(client.get("/author").json()))
    """)
    assert result == {"author": "Ann"}


SHARED = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


def count_items(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Item))
"""
CRUD = """
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item, User

M = TypeVar("M")


class CRUDBase(Generic[M]):
    def __init__(self, model: type[M]):
        self.model = model

    def get(self, db: Session, id: int) -> M | None:
        return db.get(self.model, id)

    def names(self, db: Session) -> list[str]:
        return [row.name for row in db.scalars(select(self.model).order_by(self.model.id)).all()]


class CRUDItem(CRUDBase[Item]):
    def create(self, db: Session, name: str, owner_id: int) -> Item:
        item = Item(name=name, owner_id=owner_id)
        db.add(item)
        db.commit()
        return item


item = CRUDItem(Item)
user = CRUDBase(User)
"""
SERVICE = """
from sqlalchemy.orm import Session

from services import crud
from services.shared import count_items


class ItemService:
    def summary(self, db: Session) -> dict:
        return {"count": count_items(db), "names": crud.item.names(db)}


item_service = ItemService()
"""
# Each router reaches the same function, CRUD methods (one inherited) and service method.
SUBSYSTEM_ROUTES = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services import crud
from services.item_service import item_service
from services.shared import count_items

router = APIRouter(prefix="/{name}")


@router.post("/items")
def create(name: str, db: session_dependency):
    obj = crud.item.create(db, name=name, owner_id=1)
    return {{"id": obj.id, "count": count_items(db)}}


@router.get("/summary")
def summary(db: session_dependency):
    return item_service.summary(db)


@router.get("/users/{{user_id}}")
def user(user_id: int, db: session_dependency):
    return {{"name": crud.user.get(db, id=user_id).name, "users": crud.user.names(db)}}
"""
BOTH = """
from fastapi import FastAPI

from api.a import router as a
from api.b import router as b

app = FastAPI()
app.include_router(a)
app.include_router(b)
"""


def async_pairs(root) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(module, name) of each function or method defined `async` beside its own async twin
    `name_async`: a copy moved in place next to the twin an earlier run added."""
    found = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        scopes = [tree.body] + [node.body for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
        for body in scopes:
            coroutines = {s.name for s in body if isinstance(s, ast.AsyncFunctionDef)}
            found += [(path.relative_to(root).as_posix(), n) for n in sorted(coroutines) if n + "_async" in coroutines]
    return found


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")], ids=["a-then-b", "b-then-a"])
def test_a_later_subsystem_calls_the_method_twins_an_earlier_run_added_and_both_routers_run(cli, service, order):
    root = service({
        "services/__init__.py": "", "services/shared.py": SHARED, "services/crud.py": CRUD,
        "services/item_service.py": SERVICE, "api/a.py": SUBSYSTEM_ROUTES.format(name="a"),
        "api/b.py": SUBSYSTEM_ROUTES.format(name="b"), "main.py": BOTH,
    })
    first, second = order
    apply(cli, root, subsystem=f"api/{first}.py")
    document = apply(cli, root, subsystem=f"api/{second}.py")
    assert {h["function"]: h["action"] for h in document["handlers"]} == dict.fromkeys(("create", "summary", "user"), "migrate")
    # the second run adds no copy of what the first twinned: it only rewrites its own router
    assert document["files_changed"] == [f"api/{second}.py"]
    assert {h["function"]: h["action"] for h in document["subsystem"]["helpers"]} == dict.fromkeys(
        ("count_items", "CRUDItem.create", "CRUDBase.get", "CRUDBase.names", "ItemService.summary"), "twin"
    )
    assert async_pairs(root) == []
    assert {key: n for key, n in definitions(root).items() if n > 1} == {}
    for again in order:
        assert apply(cli, root, subsystem=f"api/{again}.py")["files_changed"] == [], again
    assert "await item_service.summary_async(db)" in read(root, f"api/{second}.py")
    result = serve(root, "sqlite", """
        made = [client.post(f"/{p}/items", params={"name": p + "1"}).json() for p in "ab"]
        read = [client.get(f"/{p}/summary").json() for p in "ab"] + [client.get(f"/{p}/users/2").json() for p in "ab"]
        with Sync() as s:
            stored = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
        print(json.dumps({"made": made, "read": read, "stored": stored}))
    """)
    assert result == {
        "made": [{"id": 1, "count": 1}, {"id": 2, "count": 2}],
        "read": [{"count": 2, "names": ["a1", "b1"]}] * 2 + [{"name": "Bob", "users": ["Ann", "Bob"]}] * 2,
        "stored": [["a1", 1], ["b1", 1]],
    }


REPOSITORY = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item


class ItemRepository:
    def __init__(self, db: Session):
        self.db = db

    def names(self) -> list[str]:
        return list(self.db.scalars(select(Item.name).order_by(Item.id)).all())
"""
DELETE = """

    def delete(self, item_id: int) -> None:
        self.db.delete(self.db.get(Item, item_id))
        self.db.commit()
"""
REPOSITORY_ROUTES = """
from fastapi import APIRouter, Depends

from core.dependencies import session_dependency
from services.repo import ItemRepository

router = APIRouter(prefix="/{name}")


def get_repo(db: session_dependency) -> ItemRepository:
    return ItemRepository(db)


@router.get("/names")
def names(repo: ItemRepository = Depends(get_repo)):
    return repo.names()
"""
DELETE_ROUTE = """

@router.delete("/items/{item_id}")
def delete(item_id: int, repo: ItemRepository = Depends(get_repo)):
    repo.delete(item_id)
    return {"deleted": item_id}
"""


def test_a_method_written_after_an_earlier_run_joins_its_parallel_class_and_no_second_copy_is_made(cli, service):
    root = service({
        "services/__init__.py": "", "services/repo.py": REPOSITORY, "api/a.py": REPOSITORY_ROUTES.format(name="a"),
        "api/b.py": REPOSITORY_ROUTES.format(name="b"), "main.py": BOTH,
    })
    apply(cli, root, subsystem="api/a.py")
    assert "class ItemRepositoryAsync:" in read(root, "services/repo.py")
    # written after the first run: a method of the class, and the route of the next subsystem using it
    repo = read(root, "services/repo.py")
    head = repo.index("\n\n\nclass ItemRepositoryAsync")
    (root / "services/repo.py").write_text(repo[:head] + DELETE.rstrip("\n") + repo[head:], encoding="utf-8")
    (root / "api/b.py").write_text(read(root, "api/b.py") + DELETE_ROUTE, encoding="utf-8")
    document = apply(cli, root, subsystem="api/b.py")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"names": "migrate", "delete": "migrate"}
    text = read(root, "services/repo.py")
    assert re.findall(r"^class (\w+)", text, re.MULTILINE) == ["ItemRepository", "ItemRepositoryAsync"]
    copy = text[text.index("class ItemRepositoryAsync"):]
    assert "    async def delete(self, item_id: int) -> None:\n        await self.db.delete(await self.db.get(Item, item_id))\n        await self.db.commit()\n" in copy
    assert "\n    def delete(self, item_id: int) -> None:\n        self.db.delete(self.db.get(Item, item_id))" in text
    for again in ("api/a.py", "api/b.py"):
        assert apply(cli, root, subsystem=again)["files_changed"] == [], again
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(id=1, name="lamp", owner_id=1), Item(id=2, name="desk", owner_id=2)])
            s.commit()
        gone = client.delete("/b/items/1").json()
        listed = [client.get(f"/{p}/names").json() for p in "ab"]
        with Sync() as s:
            stored = s.scalars(select(Item.name)).all()
        print(json.dumps({"gone": gone, "listed": listed, "stored": stored}))
    """)
    assert result == {"gone": {"deleted": 1}, "listed": [["desk"], ["desk"]], "stored": ["desk"]}


# A router keeping an alias of its own (over the same dependency), and importing from the other router.
OWN_ALIAS_ROUTES = """
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.a import label
from db.engine import get_db_session
from models import Item

Db = Annotated[Session, Depends(get_db_session)]

router = APIRouter(prefix="/b")


@router.get("/names")
def names(db: Db):
    return [label(name) for name in db.scalars(select(Item.name).order_by(Item.id))]
"""
SHARED_ALIAS_ROUTES = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from models import Item

router = APIRouter(prefix="/a")


def label(name: str) -> str:
    return name.upper()


@router.post("/items")
def create(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"made": label(name)}
"""


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")], ids=["a-then-b", "b-then-a"])
def test_the_async_alias_goes_beside_a_shared_alias_not_into_a_router_another_router_imports(cli, service, order):
    root = service({"api/a.py": SHARED_ALIAS_ROUTES, "api/b.py": OWN_ALIAS_ROUTES, "main.py": BOTH})
    for subsystem in order:
        apply(cli, root, subsystem=f"api/{subsystem}.py")
        # each router takes the async alias from a module no router is: api.b importing api.a,
        # api.a importing api.b would be a cycle and the application would not import
        assert "from api." not in read(root, "api/a.py")
    assert "async_session_dependency = Annotated[AsyncSession" in read(root, "core/dependencies.py")
    assert "\nasync_session_dependency = " not in read(root, "api/b.py")
    for again in order:
        assert apply(cli, root, subsystem=f"api/{again}.py")["files_changed"] == [], again
    result = serve(root, "sqlite", """
        made = client.post("/a/items", params={"name": "lamp"}).json()
        listed = client.get("/b/names").json()
        with Sync() as s:
            stored = s.scalars(select(Item.name)).all()
        print(json.dumps({"made": made, "listed": listed, "stored": stored}))
    """)
    assert result == {"made": {"made": "LAMP"}, "listed": ["LAMP"], "stored": ["lamp"]}


OVERRIDE = '''class CRUDItem(CRUDBase[Item]):
    def names(self, db: Session) -> list[str]:
        return [name + "!" for name in super().names(db)]

'''


def test_an_override_written_after_an_earlier_run_gets_its_twin_under_the_name_that_run_gave(cli, service):
    root = service({
        "services/__init__.py": "", "services/shared.py": SHARED, "services/crud.py": CRUD,
        "services/item_service.py": SERVICE, "api/a.py": SUBSYSTEM_ROUTES.format(name="a"),
        "api/b.py": SUBSYSTEM_ROUTES.format(name="b"), "main.py": BOTH,
    })
    apply(cli, root, subsystem="api/a.py")
    crud = read(root, "services/crud.py").replace("class CRUDItem(CRUDBase[Item]):\n", OVERRIDE)
    (root / "services/crud.py").write_text(crud, encoding="utf-8")
    document = apply(cli, root, subsystem="api/b.py")
    assert handler(document, "summary")["action"] == "migrate"
    text = read(root, "services/crud.py")
    # the override's twin overrides the base's twin the first run added: no `names_async_2` copy
    assert "_async_2" not in text and text.count("async def names_async(") == 2
    assert '        return [name + "!" for name in await super().names_async(db)]\n' in text
    result = serve(root, "sqlite", """
        for p in "ab":
            client.post(f"/{p}/items", params={"name": p + "1"}).raise_for_status()
        print(json.dumps([client.get(f"/{p}/summary").json() for p in "ab"]))
    """)
    assert result == [{"count": 2, "names": ["a1!", "b1!"]}] * 2



NOTES = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.dependencies import session_dependency
from models import Item


class Notes:
    def __init__(self, db: session_dependency):
        self.db = db

    def names(self) -> list[str]:
        return list(self.db.scalars(select(Item.name).order_by(Item.id)))
"""
NOTES_ROUTES = """
from fastapi import APIRouter, Depends

from services.notes import Notes

router = APIRouter(prefix="/{name}")


@router.get("/notes")
def names(notes: Notes = Depends()):
    return notes.names()
"""


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")], ids=["a-then-b", "b-then-a"])
def test_a_class_dependency_an_earlier_run_gave_a_parallel_class_is_not_moved_in_place_later(cli, service, order):
    root = service({
        "services/__init__.py": "", "services/notes.py": NOTES, "main.py": BOTH,
        "api/a.py": NOTES_ROUTES.format(name="a"), "api/b.py": NOTES_ROUTES.format(name="b"),
    })
    first, second = order
    apply(cli, root, subsystem=f"api/{first}.py")
    document = apply(cli, root, subsystem=f"api/{second}.py")
    assert handler(document, "names")["action"] == "migrate"
    # the second subsystem injects the copy the first run added; `Notes` stays as it was
    assert document["files_changed"] == [f"api/{second}.py"]
    text = read(root, "services/notes.py")
    original = text[text.index("class Notes:"):text.index("class NotesAsync:")]
    assert original.rstrip() == dedent(NOTES)[dedent(NOTES).index("class Notes:"):] and text.count("class NotesAsync:") == 1
    assert "notes: NotesAsync = Depends()" in read(root, f"api/{second}.py")
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2)])
            s.commit()
        print(json.dumps([client.get(f"/{p}/notes").json() for p in "ab"]))
    """)
    assert result == [["pen", "cup"], ["pen", "cup"]]


# A helper another subsystem keeps on the synchronous Session: the first run gives it a twin for
# its route; a later run's route reads a relationship on what that twin's query loads.
OWNED_MODELS = user_item_models(user='items: Mapped[list["Item"]] = relationship(order_by="Item.id")')
USERS_CRUD = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User


def get_user(db: Session, user_id: int) -> User:
    return db.scalars(select(User).where(User.id == user_id)).one()
"""
USER_ROUTE = """
from fastapi import APIRouter

import crud
from core.dependencies import session_dependency

router = APIRouter()


@router.{method}("{path}")
def {name}(user_id: int, db: session_dependency{extra}):
{body}
"""
THREE_ROUTERS = """
from fastapi import FastAPI

from api import items, owners, users

app = FastAPI()
for module in (items, owners, users):
    app.include_router(module.router)
"""


def _user_route(method: str, path: str, name: str, body: str, extra: str = "") -> str:
    return USER_ROUTE.format(method=method, path=path, name=name, extra=extra, body=body)


@pytest.mark.parametrize("kind", KINDS)
def test_a_later_run_adds_the_eager_load_its_route_needs_to_an_earlier_runs_twin(cli, service, kind):
    root = service({
        "models.py": OWNED_MODELS,
        "crud.py": USERS_CRUD,
        "main.py": THREE_ROUTERS,
        "api/items.py": _user_route(
            "put", "/users/{user_id}", "rename", "    user = crud.get_user(db, user_id)\n    user.name = name\n"
            "    db.commit()\n    return {\"name\": user.name}", ", name: str = \"\"",
        ),
        "api/owners.py": _user_route(
            "get", "/users/{user_id}/items", "user_items",
            "    return [item.name for item in crud.get_user(db, user_id).items]",
        ),
        "api/users.py": _user_route(
            "get", "/users/{user_id}", "read_user", "    return {\"name\": crud.get_user(db, user_id).name}",
        ),
    })
    first = apply(cli, root)
    assert handler(first, "rename")["action"] == "migrate", handler(first, "rename")
    assert "async def get_user_async(" in read(root, "crud.py")
    later = apply(cli, root, subsystem="api/owners.py")
    found = handler(later, "user_items")
    assert found["action"] == "migrate", found
    assert "adds the eager load of User.items to the query in crud.get_user_async" in " ".join(found["reasons"])
    text = read(root, "crud.py")
    assert "    return db.scalars(select(User).where(User.id == user_id)).one()\n" in text  # the original stays
    assert "(await db.scalars(select(User).where(User.id == user_id).options(selectinload(User.items)))).one()" in text
    result = serve(root, kind, """
        with Sync() as s:
            s.add_all([Item(id=1, name="pen", owner_id=1), Item(id=2, name="ink", owner_id=1)])
            s.commit()
        renamed = client.put("/users/1", params={"name": "Zoe"}).json()
        owned = client.get("/users/1/items").json()
        read = client.get("/users/1").json()
        print(json.dumps({"renamed": renamed, "owned": owned, "read": read}))
    """)
    assert result == {"renamed": {"name": "Zoe"}, "owned": ["pen", "ink"], "read": {"name": "Zoe"}}
