"""Phase two on bound-method dependencies, proved by running the migrated application.

A hand-written container keeps no Session: its methods take the request's Session and build
what the routes need, and a route names one through a module-level instance,
`Depends(container.get_owner)` (built at module level, or by an `@lru_cache` factory). FastAPI
calls the bound method, so its async twin is a method beside it in the same class, reached
through the same instance: the migrated routes name the twin, the routes left synchronous keep
the original. A method a subclass overrides, or a decorated one, stays blocked. Each migrated
case is served with TestClient under `-W error::RuntimeWarning` (a coroutine never awaited), and
the database is read back through a separate synchronous session.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

CONTAINER = """
from functools import lru_cache

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import User


class Container:
    def __init__(self) -> None:
        self.suffix = "+seen"

    def owner(self, db: Session) -> User:
        user = db.scalars(select(User).where(User.id == 1)).one()
        user.name = user.name + self.suffix
        return user

    def get_owner(self, db: Session = Depends(get_db_session)) -> User:
        return self.owner(db)
"""
MODULE_INSTANCE = CONTAINER + """

container = Container()
"""
CACHED_INSTANCE = CONTAINER + """

@lru_cache
def get_container() -> Container:
    return Container()


container = get_container()
"""
CLASS_METHOD = CONTAINER.replace("        self.suffix", "        self.unused").replace(
    "    def owner(self, db: Session) -> User:", "    suffix = \"+seen\"\n\n    @classmethod\n    def owner(cls, db: Session) -> User:"
).replace("self.suffix", "cls.suffix").replace(
    "    def get_owner(self, db: Session = Depends(get_db_session)) -> User:\n        return self.owner(db)",
    "    @classmethod\n    def get_owner(cls, db: Session = Depends(get_db_session)) -> User:\n        return cls.owner(db)",
) + """

container = Container()
"""
OVERRIDDEN = MODULE_INSTANCE + """

class Audited(Container):
    def get_owner(self, db: Session = Depends(get_db_session)) -> User:
        return self.owner(db)
"""
DECORATED = MODULE_INSTANCE.replace(
    "from models import User",
    "from models import User\n\n\ndef traced(f):\n    return f",
).replace("    def get_owner(", "    @traced\n    def get_owner(")

ROUTE = """
from core.container import container


@router.post("/items")
def create_item(name: str, owner: User = Depends(container.get_owner), db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=owner.id))
    db.commit()
    return {"owner": owner.name}
"""
# A router outside the subsystem keeps the original dependency, still run in the threadpool.
OTHER = """
from fastapi import APIRouter, Depends

from core.container import container
from models import User

router = APIRouter()


@router.get("/owner")
def read_owner(owner: User = Depends(container.get_owner)):
    return {"owner": owner.name}
"""
MAIN = """
from fastapi import FastAPI

from api.items import router
from api.other import router as other

app = FastAPI()
app.include_router(router)
app.include_router(other)
"""

CHECK = """
    import gc
    import sys

    unraisable = []
    sys.unraisablehook = lambda u: unraisable.append(repr(u.exc_value))
    created = client.post("/items", params={"name": "a"}).json()
    other = client.get("/owner").json()
    gc.collect()
    with Sync() as s:
        rows = [(i.name, i.owner_id) for i in s.scalars(select(Item))]
        owner = s.get(User, 1).name
    print(json.dumps({"created": created, "other": other, "rows": rows, "owner": owner, "unraisable": unraisable}))
"""


def build(service, container: str) -> Path:  # type: ignore[no-untyped-def]
    return service({
        "core/container.py": container, SUBSYSTEM: routes(ROUTE), "api/other.py": OTHER, "main.py": MAIN,
    })


def run(root: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("PYTHONWARNINGS", "error::RuntimeWarning")
    return serve(root, kind, CHECK)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "container",
    [
        pytest.param(MODULE_INSTANCE, id="module-instance"),
        pytest.param(CACHED_INSTANCE, id="lru-cache-instance"),
        pytest.param(CLASS_METHOD, id="classmethod"),
    ],
)
def test_a_bound_method_dependency_gets_a_twin_method_the_migrated_route_names(
    cli, service, monkeypatch, kind, container
):
    """Was blocked as "a method dependency": every route of a container-wired service stayed
    synchronous."""
    root = build(service, container)
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, SUBSYSTEM)
    assert "Depends(container.get_owner_async)" in text and "import get_owner" not in text
    wired = read(root, "core/container.py")
    assert "def get_owner(" in wired and "async def get_owner_async(" in wired
    assert "Depends(get_async_db_session)) -> User:" in wired
    assert "Depends(container.get_owner)" in read(root, "api/other.py")
    # The dependency's change to the owner is saved by the route's commit: one Session per request.
    assert run(root, kind, monkeypatch) == {
        "created": {"owner": "Ann+seen"}, "other": {"owner": "Ann+seen+seen"},
        "rows": [["a", 1]], "owner": "Ann+seen", "unraisable": [],
    }


@pytest.mark.parametrize(
    ("container", "why"),
    [
        pytest.param(OVERRIDDEN, "overridden", id="overridden-in-a-subclass"),
        pytest.param(DECORATED, "decorated", id="decorated"),
    ],
)
def test_a_bound_method_dependency_overridden_or_decorated_still_blocks(cli, service, monkeypatch, container, why):
    root = build(service, container)
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert "core.container.Container.get_owner is a method dependency" in " ".join(found["reasons"]), why
    assert read(root, SUBSYSTEM) == before
    assert run(root, "sqlite", monkeypatch) == {
        "created": {"owner": "Ann+seen"}, "other": {"owner": "Ann+seen+seen"},
        "rows": [["a", 1]], "owner": "Ann+seen", "unraisable": [],
    }


CONFTEST = """
import pytest

from core.container import container
from db.engine import get_db_session
from main import app
from models import User


def override_get_db():
    yield None


app.dependency_overrides[get_db_session] = override_get_db


@pytest.fixture
def as_bob():
    app.dependency_overrides[container.get_owner] = lambda: User(id=2, name="Bob")
"""
ESCAPED = """
from core.container import container

app.dependency_overrides[container.get_owner] = lambda: User(id=2, name="Bob")
escaped = client.post("/items", params={"name": "a"}).json()["owner"]
app.dependency_overrides[container.get_owner_async] = app.dependency_overrides[container.get_owner]
reached = client.post("/items", params={"name": "b"}).json()["owner"]
print(json.dumps([escaped, reached]))
"""


def test_an_override_of_a_bound_method_dependency_names_the_twin_through_the_instance(cli, service):
    """The tests' override of `container.get_owner` was not seen: the migrated route ran the real
    twin in the tests and phase two said nothing."""
    root = service({
        "core/container.py": MODULE_INSTANCE, SUBSYSTEM: routes(ROUTE), "api/other.py": OTHER, "main.py": MAIN,
        "tests/__init__.py": "", "tests/conftest.py": CONFTEST,
    })
    document = apply(cli, root, "--allow-override-gap")
    (note,) = [n for n in document["subsystem"]["follow_ups"] if "container.get_owner]" in n]
    assert note.startswith("tests/conftest.py:18: `app.dependency_overrides[container.get_owner] = "), note
    assert "(create_item) depend on its async twin `get_owner_async` (core/container.py)" in note
    assert "app.dependency_overrides[container.get_owner_async] = app.dependency_overrides[container.get_owner]" in note
    assert note not in document["subsystem"]["override_follow_ups"]
    # What the note says, run: the old override misses the migrated route, the twin's reaches it.
    assert serve(root, "sqlite", ESCAPED) == ["Ann+seen", "Bob"]


def test_a_bound_method_dependency_overridden_where_no_session_dependency_is_refuses_apply(cli, service):
    conftest = CONFTEST.replace("app.dependency_overrides[get_db_session] = override_get_db\n", "")
    root = service({
        "core/container.py": MODULE_INSTANCE, SUBSYSTEM: routes(ROUTE), "api/other.py": OTHER, "main.py": MAIN,
        "tests/__init__.py": "", "tests/conftest.py": conftest,
    })
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "`app.dependency_overrides[container.get_owner] = " in said
    assert "the Session work of the real `get_owner_async` would reach the application's own database" in said
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


# A container handed its repository classes (never instances) keeps no Session: its `__init__`
# receives none. It was taken for a service composing repositories, so for a class holding the
# Session: "kept at module level: its Session outlives the request", or "a method dependency".
REPOSITORY = """
from collections.abc import Callable
from functools import lru_cache
from typing import Optional

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import User


class OwnerRepo:
    def __init__(self, db: Session) -> None:
        self.db = db

    def first(self) -> User:
        return self.db.scalars(select(User).where(User.id == 1)).one()


REPOS = {"owners": OwnerRepo}


class Container:
    def __init__(self, repos: ANNOTATION = REPOS) -> None:
        self.repos = repos
        self.suffix = "+seen"

    def owner(self, db: Session) -> User:
        user = OwnerRepo(db).first()
        user.name = user.name + self.suffix
        return user

    def get_owner(self, db: Session = Depends(get_db_session)) -> User:
        return self.owner(db)
"""


@pytest.mark.parametrize(
    ("annotation", "instance"),
    [
        pytest.param("dict[str, type[OwnerRepo]]", "container = Container()", id="dict-of-classes"),
        pytest.param(
            "dict[str, type[OwnerRepo]]",
            "@lru_cache\ndef get_container() -> Container:\n    return Container()\n\n\ncontainer = get_container()",
            id="dict-of-classes-lru-cache",
        ),
        pytest.param("Optional[type[OwnerRepo]]", "container = Container()", id="optional-class"),
        pytest.param(
            "dict[str, Callable[..., OwnerRepo]]", "container = Container()", id="dict-of-factories"
        ),
        # Factories typed by what they take: the Session in a Callable's parameter list is no
        # Session the container receives.
        pytest.param(
            "dict[str, Callable[[Session], OwnerRepo]]", "container = Container()", id="dict-of-session-factories"
        ),
        pytest.param(
            "Optional[Callable[[Session], OwnerRepo]]", "container = Container()", id="optional-session-factory"
        ),
    ],
)
def test_a_container_handed_repository_classes_holds_no_session_and_its_methods_twin(
    cli, service, monkeypatch, annotation, instance
):
    container = REPOSITORY.replace("ANNOTATION", annotation) + "\n\n" + instance + "\n"
    root = build(service, container)
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "Depends(container.get_owner_async)" in read(root, SUBSYSTEM)
    assert "class ContainerAsync" not in read(root, "core/container.py")
    assert run(root, "sqlite", monkeypatch) == {
        "created": {"owner": "Ann+seen"}, "other": {"owner": "Ann+seen+seen"},
        "rows": [["a", 1]], "owner": "Ann+seen", "unraisable": [],
    }


def test_a_session_in_a_callables_parameter_list_is_no_session_the_class_holds():
    from async_migrate.codemods import astcollect
    from async_migrate.codemods.phase2.holders import holder_classes
    from async_migrate.codemods.project import Project

    source = dedent("""
        from collections.abc import Callable

        from sqlalchemy.orm import Session


        class OwnerRepo:
            def __init__(self, db: Session) -> None:
                self.db = db


        class Factories:
            def __init__(self, make: Callable[[Session], OwnerRepo], named: "Callable[[Session, str], OwnerRepo]") -> None:
                self.make = make
                self.named = named


        class Service:
            def __init__(self, db: Session, make: Callable[[Session], OwnerRepo]) -> None:
                self.db = db
                self.make = make
    """)
    project = Project([astcollect.collect("core/repos.py", source, "core.repos")])
    params = {(f.qualname, p.name): project.declared_session(p) for f in project.modules["core.repos"].functions
              for p in f.params}
    assert params[("Factories.__init__", "make")] is None
    assert params[("Factories.__init__", "named")] is None
    assert params[("Service.__init__", "make")] is None
    assert params[("Service.__init__", "db")] == "`db: Session`"
    holders = holder_classes(project)
    assert "core.repos.Factories" not in holders
    # A real Session beside the factory: still a holder, of that Session alone.
    assert holders["core.repos.Service"].attributes == ("db",)


def test_near_miss_a_container_handed_a_repository_instance_still_holds_the_session(cli, service, monkeypatch):
    container = REPOSITORY.replace("repos: ANNOTATION = REPOS", "repo: OwnerRepo").replace(
        "self.repos = repos", "self.repo = repo"
    ) + "\n\ncontainer = Container(OwnerRepo(None))\n"
    root = build(service, container)
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert read(root, SUBSYSTEM) == before


def test_verify_names_the_bound_method_override_the_tests_ran_past_once_migrated(cli, service):
    """Written anyway (--allow-override-gap): the tests' stand-in for `container.get_owner` no longer
    reaches /items, whose `get_owner_async` worked on the application's database; verify said nothing."""
    from async_migrate.codemods.check import check
    from async_migrate.codemods.config import load
    from async_migrate.codemods.run import Options
    from async_migrate.codemods.verify.overrides import override_gaps

    conftest = CONFTEST.replace("app.dependency_overrides[get_db_session] = override_get_db\n", "")
    root = service({
        "core/container.py": MODULE_INSTANCE, SUBSYSTEM: routes(ROUTE), "api/other.py": OTHER, "main.py": MAIN,
        "tests/__init__.py": "", "tests/conftest.py": conftest,
    })
    assert apply(cli, root, "--allow-override-gap")["files_changed"]
    config = load(root)
    (gap,) = override_gaps(check(root, config, Options()).project, root)
    assert gap.startswith("tests/conftest.py:17: `app.dependency_overrides[container.get_owner] = "), gap
    assert "Override `container.get_owner_async` as well" in gap
    # overriding the twin too closes it
    (root / "tests/conftest.py").write_text(conftest + (
        "    app.dependency_overrides[container.get_owner_async] = app.dependency_overrides[container.get_owner]\n"
    ))
    assert override_gaps(check(root, config, Options()).project, root) == []


def test_near_miss_no_follow_up_when_the_fixture_overrides_the_twin_method_too(cli, service):
    conftest = CONFTEST.replace("app.dependency_overrides[get_db_session] = override_get_db\n", "") + (
        "    app.dependency_overrides[container.get_owner_async] = app.dependency_overrides[container.get_owner]\n"
    )
    root = service({
        "core/container.py": MODULE_INSTANCE, SUBSYSTEM: routes(ROUTE), "api/other.py": OTHER, "main.py": MAIN,
        "tests/__init__.py": "", "tests/conftest.py": conftest,
    })
    document = apply(cli, root)
    assert not [n for n in document["subsystem"]["follow_ups"] if "container.get_owner]" in n]
    assert serve(root, "sqlite", "print(json.dumps(client.post('/items', params={'name': 'a'}).json()))") == {
        "owner": "Ann+seen",
    }
