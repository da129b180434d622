"""The Session carried by objects (issue 10, shapes 1-4 and 12, and "unverified").

Each shape has a case that must convert (or be reported) and a near miss that must
not. Every case builds a tiny application on the shared engine (`db/engine.py`:
`database_sessionmaker`, `get_db_session`) and runs the CLI with `--format json`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    def build(files: dict[str, str]) -> Path:
        return project({**app_files, "api/__init__.py": "", "models/__init__.py": "", **files})

    return build


def handler(document: dict, function: str) -> dict:
    found = [h for h in document["handlers"] if h["function"] == function]
    assert len(found) == 1, f"{function}: {[h['function'] for h in document['handlers']]}"
    return found[0]


def decided(cli, root: Path, function: str, action: str, fragment: str, *extra: str) -> dict:
    document = cli.json("phase1", root, *extra)
    found = handler(document, function)
    assert found["action"] == action, found
    assert any(fragment in reason for reason in found["reasons"]), found["reasons"]
    return found


def route(body: str, head: str = "") -> str:
    return textwrap.dedent(
        """\
        from fastapi import APIRouter, Depends
        {head}
        router = APIRouter()


        """
    ).format(head=textwrap.dedent(head).strip()) + textwrap.dedent(body).strip() + "\n"


# ------------------------------------------------- 1. methods of a module-level instance

ITEMS_TABLE = """
from db.engine import database_sessionmaker


class ItemsTable:
    def get(self, item_id):
        with database_sessionmaker() as db:
            return db.get(dict, item_id)

    def get_with(self, item_id, db):
        return db.get(dict, item_id)


Items = ItemsTable()
"""

CACHE_TABLE = """
class CacheTable:
    def __init__(self):
        self.data = {}

    def get(self, item_id):
        return self.data.get(item_id)


Items = CacheTable()
"""


def test_module_instance_method_opening_a_session_converts(cli, app):
    root = app({
        "models/items.py": ITEMS_TABLE,
        "api/items.py": route(
            """
            @router.get("/a/{item_id}")
            async def read(item_id: int):
                return Items.get(item_id)
            """,
            "from models.items import Items",
        ),
    })
    found = decided(
        cli, root, "read", "convert",
        "calls models.items.ItemsTable.get (line 8), which does synchronous Session work: "
        "ItemsTable.get -> with database_sessionmaker() as db -> db.get()",
    )
    assert found["after"] == "def"


def test_module_instance_used_in_its_own_module_converts(cli, app):
    source = ITEMS_TABLE + route(
        """
        @router.get("/a/{item_id}")
        async def read(item_id: int):
            return Items.get(item_id)
        """
    )
    root = app({"api/items.py": source})
    decided(cli, root, "read", "convert", "ItemsTable.get -> with database_sessionmaker() as db")


def test_module_instance_method_given_the_session_converts(cli, app):
    root = app({
        "models/items.py": ITEMS_TABLE,
        "api/items.py": route(
            """
            @router.get("/a/{item_id}")
            async def read(item_id: int, db: session_dependency):
                return Items.get_with(item_id, db)
            """,
            "from core.dependencies import session_dependency\nfrom models.items import Items",
        ),
    })
    decided(cli, root, "read", "convert", "takes a synchronous Session")
    finding = next(f for f in cli.json("check", root)["findings"] if f["function"] == "read")
    assert finding["blocking"] == [{"line": 9, "call": "models.items.ItemsTable.get_with(...)", "offloaded": False}]
    project = _project(root)
    assert project.session_params[("models.items", "ItemsTable.get_with")]["db"] == (
        "receives the Session `db` from api.items.read"
    )


def test_module_instance_without_session_work_is_kept(cli, app):
    root = app({
        "models/items.py": CACHE_TABLE,
        "api/items.py": route(
            """
            @router.get("/a/{item_id}")
            async def read(item_id: int):
                return Items.get(item_id)
            """,
            "from models.items import Items",
        ),
    })
    decided(cli, root, "read", "keep", "does no synchronous Session work")


# A lazy singleton: the module-level name is bound to the instance under a `global` statement
# (`_items = None`, `global _items; _items = ItemsTable()` in its getter or a start-up function).
# Before, the name held only what import bound (`None`), and the route did "no Session work".
LAZY_ITEMS = ITEMS_TABLE.replace("Items = ItemsTable()", """_items: "ItemsTable | None" = None
_plain = None


def get_items():
    global _items
    if _items is None:
        _items = ItemsTable()
    return _items


def init_plain():
    global _plain
    _plain = CacheTable()


class CacheTable:
    def get(self, item_id):
        return item_id
""")


@pytest.mark.parametrize(
    ("body", "head"),
    [
        ("return get_items().get(item_id)", "from models.items import get_items"),
        ("return items._items.get(item_id)", "from models import items"),
        ("return _items.get(item_id)", "from models.items import _items"),
        ("return repo.get(item_id)", "from models.items import get_items\nfrom fastapi import Depends"),
    ],
)
def test_a_lazy_singleton_bound_under_a_global_statement_converts(cli, app, body, head):
    params = "item_id: int, repo=Depends(get_items)" if "repo." in body else "item_id: int"
    root = app({
        "models/items.py": LAZY_ITEMS,
        "api/items.py": route(f'@router.get("/a/{{item_id}}")\nasync def read({params}):\n    {body}\n', head),
    })
    decided(cli, root, "read", "convert", "ItemsTable.get -> with database_sessionmaker() as db -> db.get()")


def test_near_miss_a_lazy_singleton_doing_no_session_work_is_kept(cli, app):
    root = app({
        "models/items.py": LAZY_ITEMS,
        "api/items.py": route(
            '@router.get("/a/{item_id}")\nasync def read(item_id: int):\n    return items._plain.get(item_id)\n',
            "from models import items",
        ),
    })
    decided(cli, root, "read", "keep", "does no synchronous Session work")


def test_mixed_route_offloads_the_instance_method(cli, app):
    root = app({
        "models/items.py": ITEMS_TABLE,
        "api/items.py": route(
            """
            @router.get("/a/{item_id}")
            async def read(item_id: int):
                await asyncio.sleep(0)
                item = Items.get(item_id)
                return item
            """,
            "import asyncio\nfrom models.items import Items",
        ),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    found = handler(document, "read")
    assert found["action"] == "keep"
    assert "item = await run_in_threadpool(Items.get, item_id)" in document["diff"]
    assert "+from fastapi.concurrency import run_in_threadpool" in document["diff"]


def test_mixed_route_near_miss_offloads_nothing(cli, app):
    root = app({
        "models/items.py": CACHE_TABLE,
        "api/items.py": route(
            """
            @router.get("/a/{item_id}")
            async def read(item_id: int):
                await asyncio.sleep(0)
                item = Items.get(item_id)
                return item
            """,
            "import asyncio\nfrom models.items import Items",
        ),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    assert handler(document, "read")["action"] == "keep"
    assert document["diff"] == ""


SETTINGS = """
from db.engine import database_sessionmaker


def persist(key, value):
    with database_sessionmaker() as db:
        db.execute("update settings set value = :v where key = :k", {"k": key, "v": value})
        db.commit()


class Theme:
    def __init__(self):
        self._name = "light"
        self.label = "Theme"

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        persist("theme", value)


class Settings:
    def __init__(self):
        object.__setattr__(self, "values", {})

    def __setattr__(self, key, value):
        self.values[key] = value
        persist(key, value)


class Local:
    def __init__(self):
        object.__setattr__(self, "values", {})

    def __setattr__(self, key, value):
        self.values[key] = value


theme = Theme()
settings = Settings()
local = Local()
"""


@pytest.mark.parametrize(
    ("body", "runs"),
    [
        ("theme.name = name", "calls models.settings.Theme.name (line 17)"),
        ("settings.banner = name", "calls models.settings.Settings.__setattr__ (line 17)"),
        ("current = settings; current.banner = name", "calls models.settings.Settings.__setattr__ (line 17)"),
        # an update from its own value: of an object of its own here (one every request shares is AM140's)
        ("mine = Settings(); mine.banner += name", "calls models.settings.Settings.__setattr__ (line 17)"),
        ("request.app.state.settings.banner = name", "calls models.settings.Settings.__setattr__ (line 17)"),
        ("theme.label = name", None),  # no setter for `label`: a plain write
        ("local.banner = name", None),  # a `__setattr__` doing no Session work
    ],
)
def test_an_attribute_write_running_a_setter_or_setattr_with_session_work_blocks(cli, app, body, runs):
    # A settings object persisting each change (`config.ENABLE_SIGNUP = form.enable_signup`
    # through its class's `__setattr__`, or a property setter) did synchronous Session work on
    # the event loop in every async def route writing it: no call expression spells the write,
    # so scan said "does no synchronous Session work" and check passed the route.
    root = app({
        "models/settings.py": SETTINGS,
        "api/items.py": route(
            f"""
            @router.post("/settings")
            async def update(request: Request, name: str):
                {body}
                return {{"ok": True}}
            """,
            """
            from fastapi import FastAPI, Request

            from models.settings import Settings, local, settings, theme

            app = FastAPI()


            @app.on_event("startup")
            def keep_settings():
                app.state.settings = Settings()
            """,
        ),
    })
    codes = [f["code"] for f in cli.json("check", root)["findings"] if f["function"] == "update"]
    if runs is None:
        decided(cli, root, "update", "keep", "does no synchronous Session work")
        assert codes == []
        return
    found = decided(cli, root, "update", "convert", runs)
    assert "__setattr__ -> persist -> with database_sessionmaker() as db" in found["reasons"][0] or (
        "Theme.name -> persist -> with database_sessionmaker() as db" in found["reasons"][0]
    ), found["reasons"]
    assert codes == ["AM301"]


# ------------------------------------------------- 2. CRUD base classes, generics, exports

CRUD_BASE = """
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

M = TypeVar("M")


class CRUDBase(Generic[M]):
    def __init__(self, model: type[M]):
        self.model = model

    def get(self, db: Session, id: int):
        return db.get(self.model, id)

    def describe(self) -> str:
        return self.model.__name__
"""
CRUD_USER = """
from crud.base import CRUDBase


class User:
    pass


class CRUDUser(CRUDBase[User]):
    def by_email(self, db, email):
        return super().get(db, 1)


user = CRUDUser(User)
"""


@pytest.mark.parametrize("export", ["init", "reexport"])
def test_crud_instance_inherited_method_converts(cli, app, export):
    files = {"crud/base.py": CRUD_BASE}
    if export == "init":
        files["crud/__init__.py"] = CRUD_USER
    else:
        files["crud/crud_user.py"] = CRUD_USER
        files["crud/__init__.py"] = "from .crud_user import user\n"
    files["api/users.py"] = route(
        """
        @router.get("/u/{user_id}")
        async def read_user(user_id: int, db: Session = Depends(get_db_session)):
            return crud.user.get(db, id=user_id)


        @router.get("/name")
        async def model_name():
            return crud.user.describe()
        """,
        "import crud\nfrom sqlalchemy.orm import Session\nfrom db.engine import get_db_session",
    )
    root = app(files)
    document = cli.json("scan", root)
    assert handler(document, "read_user")["action"] == "convert"
    assert handler(document, "model_name")["action"] == "keep"  # the near miss: no Session
    finding = next(f for f in cli.json("check", root)["findings"] if f["function"] == "read_user")
    assert [b["call"] for b in finding["blocking"]] == ["crud.base.CRUDBase.get(...)"]
    project = _project(root)
    assert "db" in project.session_params[("crud.base", "CRUDBase.get")]


def test_crud_super_call_resolves_to_the_base(cli, app):
    root = app({
        "crud/base.py": CRUD_BASE,
        "crud/__init__.py": CRUD_USER,
        "services/__init__.py": "",
        "services/users.py": """
            from db.engine import database_sessionmaker
            import crud


            def find(email):
                with database_sessionmaker() as db:
                    return crud.user.by_email(db, email)
        """,
        "api/users.py": route(
            """
            @router.get("/by-email")
            async def by_email(email: str):
                return users.find(email)
            """,
            "from services import users",
        ),
    })
    decided(cli, root, "by_email", "convert", "calls services.users.find (line 8), which opens its own")
    project = _project(root)
    params = project.session_params[("crud.base", "CRUDBase.get")]
    assert "db" in params  # declared; and super().get receives the Session of by_email
    assert "db" in project.session_params[("crud", "CRUDUser.by_email")]


# ------------------------------------------------------ 3. objects holding the Session

REPO = """
from sqlalchemy.orm import Session


class UserRepo:
    def __init__(self, db: Session):
        self.db = db

    def list(self):
        return self.db.query(dict).all()

    def label(self):
        return "users"
"""


def test_repository_built_by_a_dependency_converts(cli, app):
    root = app({
        "repos.py": REPO,
        "api/users.py": route(
            """
            def get_repo(db: Session = Depends(get_db_session)) -> UserRepo:
                return UserRepo(db)


            @router.get("/users")
            async def list_users(repo: UserRepo = Depends(get_repo)):
                return repo.list()


            @router.get("/label")
            async def label(repo: UserRepo = Depends(get_repo)):
                return repo.label()
            """,
            "from sqlalchemy.orm import Session\nfrom db.engine import get_db_session\nfrom repos import UserRepo",
        ),
    })
    document = cli.json("phase1", root)
    found = handler(document, "list_users")
    assert found["action"] == "convert", found["reasons"]
    assert any("UserRepo.list -> self.db.query()" in r for r in found["reasons"]), found["reasons"]
    assert handler(document, "label")["action"] == "keep"


def test_repository_unannotated_dependency_and_session_from_caller(cli, app):
    repo = REPO.replace("def __init__(self, db: Session):", "def __init__(self, db):")
    root = app({
        "repos.py": repo,
        "api/users.py": route(
            """
            def get_repo(db: Session = Depends(get_db_session)):
                return UserRepo(db)


            @router.get("/users")
            async def list_users(repo=Depends(get_repo)):
                return repo.list()
            """,
            "from sqlalchemy.orm import Session\nfrom db.engine import get_db_session\nfrom repos import UserRepo",
        ),
    })
    decided(cli, root, "list_users", "convert", "UserRepo.list -> self.db.query()")


MIXED_REPO_ROUTE = """
@router.get("/users")
async def list_users(db: Session = Depends(get_db_session)):
    repo = UserRepo(db)
    await asyncio.sleep(0)
    return repo.list()
"""
MIXED_REPO_HEAD = "import asyncio\nfrom sqlalchemy.orm import Session\nfrom db.engine import get_db_session\nfrom repos import UserRepo"


def test_building_a_repository_is_not_session_work_its_methods_are(cli, app):
    root = app({"repos.py": REPO, "api/users.py": route(MIXED_REPO_ROUTE, MIXED_REPO_HEAD)})
    found = cli.json("check", root)["findings"]
    assert len(found) == 1, found
    assert "at line 13 (repos.UserRepo.list(...))" in found[0]["message"], found[0]
    assert "UserRepo.__init__" not in found[0]["message"], found[0]
    document = cli.json("phase1", root, "--offload-mixed")
    assert "run_in_threadpool(UserRepo, db)" not in document["diff"]


def test_near_miss_a_repository_querying_in_its_init_is_session_work_where_built(cli, app):
    repo = REPO.replace("        self.db = db\n", "        self.db = db\n        self.count = db.query(dict).count()\n")
    root = app({"repos.py": repo, "api/users.py": route(MIXED_REPO_ROUTE, MIXED_REPO_HEAD)})
    found = cli.json("check", root)["findings"]
    assert len(found) == 1 and "line 11 (repos.UserRepo.__init__(...))" in found[0]["message"], found


COMPOSING_SERVICE = REPO + """

class UserService:
    def __init__(self, db: Session):
        self.db = db
        self.users = UserRepo(db)

    def list(self):
        return self.users.list()
"""
MIXED_SERVICE_ROUTE = MIXED_REPO_ROUTE.replace("repo = UserRepo(db)", "repo = UserService(db)")
MIXED_SERVICE_HEAD = MIXED_REPO_HEAD.replace("import UserRepo", "import UserService")


def test_building_a_service_that_builds_its_repositories_is_not_session_work(cli, app):
    # `self.users = UserRepo(db)` in the service's `__init__` only stores the Session one level down.
    root = app({"repos.py": COMPOSING_SERVICE, "api/users.py": route(MIXED_SERVICE_ROUTE, MIXED_SERVICE_HEAD)})
    found = cli.json("check", root)["findings"]
    assert len(found) == 1, found
    assert "at line 13 (repos.UserService.list(...))" in found[0]["message"], found[0]
    assert "UserService.__init__" not in found[0]["message"], found[0]
    document = cli.json("phase1", root, "--offload-mixed")
    assert "run_in_threadpool(UserService, db)" not in document["diff"]
    assert "await run_in_threadpool(repo.list)" in document["diff"]


def test_near_miss_a_service_whose_repository_queries_in_its_init_is_session_work_where_built(cli, app):
    service = COMPOSING_SERVICE.replace(
        "        self.db = db\n", "        self.db = db\n        self.count = db.query(dict).count()\n", 1
    )
    root = app({"repos.py": service, "api/users.py": route(MIXED_SERVICE_ROUTE, MIXED_SERVICE_HEAD)})
    found = cli.json("check", root)["findings"]
    assert len(found) == 1 and "line 11 (repos.UserService.__init__(...))" in found[0]["message"], found


def test_repository_holding_something_else_is_kept(cli, app):
    repo = REPO.replace("from sqlalchemy.orm import Session", "").replace("db: Session", "db: dict")
    root = app({
        "repos.py": repo,
        "api/users.py": route(
            """
            def get_repo() -> UserRepo:
                return UserRepo({})


            @router.get("/users")
            async def list_users(repo: UserRepo = Depends(get_repo)):
                return repo.list()
            """,
            "from repos import UserRepo",
        ),
    })
    decided(cli, root, "list_users", "keep", "does no synchronous Session work")


SERVICE = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session


class Service:
    def __init__(self, db: Session = Depends(get_db_session)):
        self.session = db

    def count(self):
        return self.session.execute("select 1").scalar()
"""


@pytest.mark.parametrize(
    "param",
    ["svc: Service = Depends(Service)", "svc: Annotated[Service, Depends()]", "svc: Service = Depends()"],
)
def test_class_used_as_a_dependency_converts(cli, app, param):
    root = app({
        "service.py": SERVICE,
        "api/svc.py": route(
            f"""
            @router.get("/count")
            async def count({param}):
                return svc.count()
            """,
            "from typing import Annotated\nfrom service import Service",
        ),
    })
    decided(cli, root, "count", "convert", "Service.count -> self.session.execute()")


def test_class_dependency_without_a_session_is_kept(cli, app):
    service = SERVICE.replace("db: Session = Depends(get_db_session)", "db: int = 0")
    root = app({
        "service.py": service,
        "api/svc.py": route(
            """
            @router.get("/count")
            async def count(svc: Service = Depends(Service)):
                return svc.count()
            """,
            "from service import Service",
        ),
    })
    decided(cli, root, "count", "keep", "does no synchronous Session work")


CBV = """
from fastapi import APIRouter, Depends
from fastapi_utils.cbv import cbv
from sqlalchemy.orm import Session

from db.engine import get_db_session

router = APIRouter()


@cbv(router)
class ItemsView:
    db: Session = Depends(get_db_session)
    label: str = "items"

    @router.get("/items")
    async def list_items(self):
        return self.db.query(dict).all()

    @router.get("/label")
    async def show_label(self):
        return self.label
"""


def test_class_based_view_methods_are_routes_using_self_db(cli, app):
    root = app({"api/views.py": CBV})
    document = cli.json("phase1", root)
    found = handler(document, "ItemsView.list_items")
    assert found["action"] == "convert", found["reasons"]
    assert any("self.db.query()" in r for r in found["reasons"])
    assert handler(document, "ItemsView.show_label")["action"] == "keep"
    assert "-    async def list_items(self):\n+    def list_items(self):" in document["diff"]
    assert "async def show_label" in "".join(
        line for line in document["diff"].splitlines() if not line.startswith("-")
    ) or "show_label" not in document["diff"]


# ------------------------------------------------------- 4. Session openers beyond with

OPENERS = """
from contextlib import contextmanager

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

engine = create_engine("sqlite:///./app.db")
SessionLocal = sessionmaker(bind=engine)
ScopedSession = scoped_session(sessionmaker(bind=engine))


def get_session():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


get_db = contextmanager(get_session)
db_dependency = Depends(get_session)


def tenant_session(tenant) -> Session:
    return sessionmaker(bind=engine)()


def not_a_session(tenant) -> dict:
    return {}
"""


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("with get_db() as db:\n    return db.get(dict, 1)", "with get_db() as db -> db.get()"),
        ("with Session(engine) as s:\n    return s.get(dict, 1)", "opens a synchronous Session itself"),
        ("s = SessionLocal()\nreturn s.get(dict, 1)", "opens a synchronous Session itself"),
        ("s = tenant_session(1)\nreturn s.get(dict, 1)", "(`s = tenant_session() -> s.get()`)"),
    ],
)
def test_session_openers_convert(cli, app, body, fragment):
    source = route(
        '@router.get("/x")\nasync def handler():\n' + textwrap.indent(body, "    "),
        "from db.openers import engine, get_db, SessionLocal, ScopedSession, tenant_session\n"
        "from sqlalchemy.orm import Session",
    )
    root = app({"db/openers.py": OPENERS, "api/x.py": source})
    decided(cli, root, "handler", "convert", fragment)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("return ScopedSession.query(dict).all()", "(`ScopedSession.query()`) on `ScopedSession`"),
        ("ScopedSession.commit()", "(`ScopedSession.commit()`) on `ScopedSession`"),
    ],
)
def test_a_thread_local_scoped_session_is_seen_and_kept(cli, app, body, fragment):
    source = route(
        '@router.get("/x")\nasync def handler():\n' + textwrap.indent(body, "    "),
        "from db.openers import ScopedSession",
    )
    root = app({"db/openers.py": OPENERS, "api/x.py": source})
    decided(cli, root, "handler", "keep", fragment)


def test_session_opener_near_misses_are_kept(cli, app):
    source = route(
        """
        @router.get("/x")
        async def handler():
            s = not_a_session(1)
            with open("f") as f:
                return s.get("a"), f.read()
        """,
        "from db.openers import not_a_session",
    )
    root = app({"db/openers.py": OPENERS, "api/x.py": source})
    decided(cli, root, "handler", "keep", "does no synchronous Session work")


@pytest.mark.parametrize("param", ["db=db_dependency", "db=Depends(get_session)"])
def test_unannotated_session_parameters_convert(cli, app, param):
    source = route(
        f"""
        @router.get("/x")
        async def handler({param}):
            return db.get(dict, 1)
        """,
        "from db.openers import db_dependency, get_session",
    )
    root = app({"db/openers.py": OPENERS, "api/x.py": source})
    decided(cli, root, "handler", "convert", "takes a synchronous Session")


def test_unannotated_parameter_with_other_default_is_kept(cli, app):
    source = route(
        """
        LIMIT = 10


        @router.get("/x")
        async def handler(db=LIMIT):
            return db.get(dict, 1)
        """
    )
    root = app({"db/openers.py": OPENERS, "api/x.py": source})
    decided(cli, root, "handler", "keep", "does no synchronous Session work")


# ------------------------------------------------ 12. types the code declares, not builds

CONTROLLER = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session


class Ctx:
    def __init__(self, db: Session):
        self.db = db


def get_ctx(db: Session = Depends(get_db_session)) -> Ctx:
    return Ctx(db)


CtxDep = Annotated[Ctx, Depends(get_ctx)]


class TaskController:
    def __init__(self, ctx: Ctx):
        self.ctx = ctx

    def tasks(self):
        return self.ctx.db.scalars("select 1").all()


def get_ctrl(ctx: CtxDep) -> TaskController:
    return TaskController(ctx)


CtrlDep = Annotated[TaskController, Depends(get_ctrl)]
"""


def test_type_read_from_annotated_alias_and_dependency_return(cli, app):
    root = app({
        "ctrl.py": CONTROLLER,
        "api/tasks.py": route(
            """
            @router.get("/tasks")
            async def tasks(ctrl: CtrlDep):
                return ctrl.tasks()


            @router.get("/tasks2")
            async def tasks2(ctrl=Depends(get_ctrl)):
                return ctrl.tasks()
            """,
            "from ctrl import CtrlDep, get_ctrl",
        ),
    })
    document = cli.json("phase1", root)
    for name in ("tasks", "tasks2"):
        found = handler(document, name)
        assert found["action"] == "convert", found["reasons"]
        assert any("TaskController.tasks -> self.ctx.db.scalars()" in r for r in found["reasons"])


PORTS = """
import abc
from typing import Protocol

from sqlalchemy.orm import Session


class ItemStore(abc.ABC):
    @abc.abstractmethod
    def load(self, item_id): ...


class SqlItemStore(ItemStore):
    def __init__(self, db: Session):
        self.db = db

    def load(self, item_id):
        return self.db.get(dict, item_id)


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return 0.0
"""


def test_abstract_base_with_one_implementation_resolves_to_it(cli, app):
    root = app({
        "ports.py": PORTS,
        "api/items.py": route(
            """
            def get_store(db: Session = Depends(get_db_session)) -> ItemStore:
                return SqlItemStore(db)


            @router.get("/i")
            async def load(store: ItemStore = Depends(get_store)):
                return store.load(1)


            def get_clock() -> Clock:
                return SystemClock()


            @router.get("/now")
            async def now(clock: Clock = Depends(get_clock)):
                return clock.now()
            """,
            "from sqlalchemy.orm import Session\nfrom db.engine import get_db_session\n"
            "from ports import ItemStore, SqlItemStore, Clock, SystemClock",
        ),
    })
    document = cli.json("phase1", root)
    found = handler(document, "load")
    assert found["action"] == "convert", found["reasons"]
    assert any("SqlItemStore.load -> self.db.get()" in r for r in found["reasons"])
    assert handler(document, "now")["action"] == "keep"  # the Protocol's one implementation does no work


def test_abstract_base_with_disagreeing_implementations_is_unverified(cli, app):
    ports = PORTS + """

class MemoryItemStore(ItemStore):
    def load(self, item_id):
        return {}
"""
    root = app({
        "ports.py": ports,
        "api/items.py": route(
            """
            def get_store(db: Session = Depends(get_db_session)) -> ItemStore:
                return SqlItemStore(db)


            @router.get("/i")
            async def load(store: ItemStore = Depends(get_store)):
                return store.load(1)
            """,
            "from sqlalchemy.orm import Session\nfrom db.engine import get_db_session\n"
            "from ports import ItemStore, SqlItemStore",
        ),
    })
    project = _project(root)
    from async_migrate.codemods.session_work import session_work

    work = session_work(project, ("api.items", "load"))
    assert any("disagree on Session work" in text for _, text in work.unverified), work.unverified
    assert work.reached  # both implementations are followed


# A Protocol declaring a method its SQL implementation gets from a library base: no project class
# matches the Protocol, so the annotation alone would read as no implementation and no Session work.
REPORTS = """
from typing import Protocol

from sqlalchemy.orm import Session

from closing_lib import Closeable


class ReportRepository(Protocol):
    def totals(self) -> int: ...

    def close(self) -> None: ...


class SqlReportRepository(Closeable):
    def __init__(self, db: Session):
        self.db = db

    def totals(self) -> int:
        return self.db.scalar("select count(*) from t")


class Clock(Protocol):
    def now(self) -> float: ...
"""


def test_a_dependency_declared_with_a_protocol_is_read_for_what_it_returns(cli, app):
    root = app({
        "reports.py": REPORTS,
        "api/reports.py": route(
            """
            def get_reports(db: Session = Depends(get_db_session)) -> ReportRepository:
                return SqlReportRepository(db)


            def get_reports_from_state(request: Request, db: Session = Depends(get_db_session)) -> ReportRepository:
                return request.app.state.report_factory(db)


            def build_reports(db: Session) -> ReportRepository:
                return REPORT_FACTORIES["sql"](db)


            def get_clock(request: Request) -> Clock:
                return request.app.state.clock


            @router.get("/r")
            async def report(repo: ReportRepository = Depends(get_reports)):
                return repo.totals()


            @router.get("/state")
            async def report_from_state(repo: Annotated[ReportRepository, Depends(get_reports_from_state)]):
                return repo.totals()


            def get_built(db: Session = Depends(get_db_session)):
                return build_reports(db)


            @router.get("/built")
            async def report_built(repo=Depends(get_built)):
                return repo.totals()


            @router.get("/now")
            async def now(clock: Clock = Depends(get_clock)):
                return clock.now()
            """,
            "from typing import Annotated\nfrom fastapi import Request\nfrom sqlalchemy.orm import Session\n"
            "from db.engine import get_db_session\nfrom reports import Clock, ReportRepository, SqlReportRepository\n"
            "REPORT_FACTORIES: dict = {}",
        ),
    })
    document = cli.json("phase1", root)
    found = handler(document, "report")
    assert found["action"] == "convert", found["reasons"]
    assert any("SqlReportRepository.totals -> self.db.scalar()" in r for r in found["reasons"]), found["reasons"]
    for function in ("report_from_state", "report_built"):
        found = handler(document, function)
        assert found["action"] == "keep", found
        assert found["reasons"][0].startswith("unverified: ") and "the analysis cannot follow" in found["reasons"][0], (
            found["reasons"]
        )
    # built from no Session: nothing to verify
    assert handler(document, "now")["reasons"] == ["does no synchronous Session work"]
    checked = cli.json("check", root)["findings"]
    codes = {(f["function"], f["code"]) for f in checked}
    assert all(
        "have what builds it return a project class the analysis reads" in f["message"]
        for f in checked if f["code"] == "AM304"
    ), checked
    assert {("report", "AM301"), ("report_from_state", "AM304"), ("report_built", "AM304")} <= codes, codes
    assert not any(function == "now" for function, _ in codes)


STORED_MAKER = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite:///./app.db")


def make_factory():
    return sessionmaker(bind=engine)


class Repository:
    def __init__(self):
        self.Session = sessionmaker(bind=engine)
        self.factory = make_factory()
        self.name = "repo"


class Orders(Repository):
    def count(self):
        with self.Session() as s:
            return s.execute("select 1").scalar()

    def count_again(self):
        with self.factory() as s:
            return s.scalar("select 1")

    def title(self):
        return self.name.title()


orders = Orders()
"""


@pytest.mark.parametrize("method", ["count", "count_again"])
def test_sessionmaker_stored_on_the_instance_opens_sessions_in_subclasses(cli, app, method):
    root = app({
        "repo.py": STORED_MAKER,
        "api/orders.py": route(
            f"""
            @router.get("/n")
            async def count():
                return orders.{method}()


            @router.get("/t")
            async def title():
                return orders.title()
            """,
            "from repo import orders",
        ),
    })
    document = cli.json("phase1", root)
    found = handler(document, "count")
    assert found["action"] == "convert", found["reasons"]
    assert any(f"Orders.{method} -> with self." in r for r in found["reasons"]), found["reasons"]
    assert handler(document, "title")["action"] == "keep"


# ------------------------------------------------------------------------ unverified

THIRD_PARTY_REPO = """
from fastapi import Depends
from sqlalchemy.orm import Session
from vendor_sdk import make_repository

from db.engine import get_db_session


def get_repo(db: Session = Depends(get_db_session)):
    return make_repository(db)


def get_plain():
    return make_repository(None)


def get_user(db: Session = Depends(get_db_session)):
    return db.query(dict).first()
"""


def test_object_built_by_unseen_code_from_the_session_is_unverified(cli, app):
    root = app({
        "deps.py": THIRD_PARTY_REPO,
        "api/x.py": route(
            """
            @router.get("/x")
            async def listing(repo=Depends(get_repo)):
                return repo.list()


            @router.get("/y")
            async def plain(repo=Depends(get_plain)):
                return repo.list()


            @router.get("/me")
            async def me(user=Depends(get_user)):
                return user.to_dict()
            """,
            "from deps import get_repo, get_plain, get_user",
        ),
    })
    document = cli.json("phase1", root)
    found = handler(document, "listing")
    assert found["action"] == "keep"
    assert found["reasons"][0].startswith("unverified: `repo.list()` is called on `repo`"), found["reasons"]
    assert handler(document, "plain")["reasons"] == ["does no synchronous Session work"]
    # what a Session query returns is data, not an object holding the Session
    assert handler(document, "me")["reasons"] == ["does no synchronous Session work"]
    checked = cli.json("check", root)
    codes = [(f["function"], f["code"]) for f in checked["findings"]]
    assert ("listing", "AM304") in codes
    assert not any(function == "plain" for function, _ in codes)


def test_session_handed_to_unseen_code_by_a_helper_is_unverified(cli, app):
    root = app({
        "helpers.py": """
            from db.engine import database_sessionmaker
            from vendor_sdk import export


            def export_all():
                return export(database_sessionmaker)


            def export_nothing():
                return export(None)
        """,
        "api/x.py": route(
            """
            @router.get("/x")
            async def run_export():
                return export_all()


            @router.get("/y")
            async def run_nothing():
                return export_nothing()
            """,
            "from helpers import export_all, export_nothing",
        ),
    })
    document = cli.json("phase1", root)
    found = handler(document, "run_export")
    assert found["action"] == "keep"
    assert found["reasons"][0].startswith(
        "unverified: calls helpers.export_all (line 8): export_all -> hands the Session factory "
        "`database_sessionmaker` to `vendor_sdk.export`"
    ), found["reasons"]
    assert handler(document, "run_nothing")["reasons"] == ["does no synchronous Session work"]


def _project(root: Path):  # type: ignore[no-untyped-def]
    from async_migrate.codemods.config import Config
    from async_migrate.codemods.run import Options, scan

    return scan(root, Config(), Options(jobs=1)).project


def test_converted_module_parses_and_only_the_keyword_changes(cli, app):
    root = app({"models/items.py": ITEMS_TABLE, "api/items.py": route(
        """
        @router.get("/a")
        async def read():
            return Items.get(1)
        """, "from models.items import Items")})
    document = cli.json("phase1", root, "--apply")
    assert document["files_changed"] == ["api/items.py"]
    text = (root / "api/items.py").read_text()
    cst.parse_module(text)
    assert "def read():" in text and "async def" not in text
    assert cli.json("phase1", root)["diff"] == ""  # idempotent


def test_model_module_without_marker_words_is_read_when_referenced(cli, app):
    # Neither file mentions a Session, a router or a dependency: the pre-pass only reads
    # them because the route's imports lead into them.
    root = app({
        "db/context.py": """
            from contextlib import contextmanager

            from db.engine import database_sessionmaker


            @contextmanager
            def get_db():
                with database_sessionmaker() as db:
                    yield db
        """,
        "models/tables.py": """
            from db.context import get_db


            class TasksTable:
                def get(self, task_id):
                    with get_db() as db:
                        return db.get(dict, task_id)


            Tasks = TasksTable()
        """,
        "api/tasks.py": route(
            """
            @router.get("/t/{task_id}")
            async def read_task(task_id: int):
                return Tasks.get(task_id)
            """,
            "from models.tables import Tasks",
        ),
    })
    assert b"ession" not in (root / "models/tables.py").read_bytes()
    decided(cli, root, "read_task", "convert", "TasksTable.get -> with get_db() as db -> db.get()")


CYCLIC_PROPERTIES = """
from db.engine import database_sessionmaker


class Holder:
    def __init__(self, ready):
        self._ready = ready

    @property
    def session(self):
        if self._ready:
            return self.backup
        return database_sessionmaker()

    @property
    def backup(self):
        return self.session


holder = Holder(False)
"""


def test_properties_reading_each_other_are_followed_once(cli, app):
    # `session` reads `backup`, which reads `session` again: the flow stops at the second read
    # (it raised RecursionError on SQLAlchemy's own source); the Session a property hands out may
    # be one the process shares, so the route stays a coroutine, with the reason.
    root = app({
        "models/holder.py": CYCLIC_PROPERTIES,
        "api/items.py": route(
            """
            @router.get("/a/{item_id}")
            async def read(item_id: int):
                return holder.session.get(dict, item_id)
            """,
            "from models.holder import holder",
        ),
    })
    found = handler(cli.json("phase1", root), "read")
    assert found["action"] == "keep", found["reasons"]
    assert found["reasons"][0].startswith("does Session work at api/items.py:8 (`holder.session.get()`)")


def test_one_flow_stands_for_the_next_only_when_no_value_was_read_half_worked_out(app, monkeypatch):
    # Received objects, then the Session fixpoint, then the final flow: built alike, the first
    # serves all three, unless some value was read while still being worked out (a property
    # reading another that reads it back), whose kept value may depend on the order of questions.
    from async_migrate.codemods import flow as flow_module

    built: list = []
    original = flow_module.Flow.__init__

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        built.append(self)

    monkeypatch.setattr(flow_module.Flow, "__init__", counting)
    acyclic = app({
        "api/items.py": route(
            """
            @router.get("/a/{item_id}")
            async def read(item_id: int):
                return holder.session.get(dict, item_id)
            """,
            "from models.holder import holder",
        ),
        "models/holder.py": CYCLIC_PROPERTIES.replace("return self.session", "return None"),
    })
    project = _project(acyclic)
    working = [flow for flow in built if flow._env]
    assert working == [project.flow] and project.flow.reusable
    built.clear()
    cyclic = app({
        "api/items.py": route(
            """
            def load(session, item_id):
                return session.get(dict, item_id)


            @router.get("/a/{item_id}")
            async def read(item_id: int):
                return load(holder.session, item_id)
            """,
            "from models.holder import holder",
        ),
        "models/holder.py": CYCLIC_PROPERTIES,
    })
    project = _project(cyclic)
    working = [flow for flow in built if flow._env]
    assert len(working) == 3 and project.flow is working[-1] and not working[0].reusable
