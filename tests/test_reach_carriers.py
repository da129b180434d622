"""More carriers of the Session (issue 10): context-manager objects, callable-instance
dependencies, untyped carriers (`request.state.db`) and `async def` methods reached
through an object.

Each shape has cases that must be reported (in several spellings of the same kind)
and a near miss that must not. Every case builds a tiny application on the shared
engine (`db/engine.py`: `database_sessionmaker`, `get_db_session`) and runs the CLI
with `--format json`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import test_reach_objects
from test_reach_objects import handler as entry
from test_reach_objects import route

app = test_reach_objects.app  # the same tiny application on the shared engine


def findings(cli, root: Path, function: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [f for f in cli.json("check", root)["findings"] if f["function"] == function]


# ------------------------------------------------------- 1. context-manager objects

UNIT_OF_WORK = """
from contextlib import asynccontextmanager, contextmanager

from db.engine import database_sessionmaker


class UserRepo:
    def __init__(self, session):
        self.session = session

    def get(self, pk):
        return self.session.get(dict, pk)


class UnitOfWork:
    def __enter__(self):
        self.session = database_sessionmaker()
        self.users = UserRepo(self.session)
        return self

    def __exit__(self, *exc):
        self.session.close()


class EagerUnitOfWork:
    def __init__(self):
        self.session = database_sessionmaker()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


class AsyncUnitOfWork:
    async def __aenter__(self):
        self.session = database_sessionmaker()
        return self

    async def __aexit__(self, *exc):
        pass


class Store:
    @contextmanager
    def unit(self):
        yield EagerUnitOfWork()


@asynccontextmanager
async def async_unit():
    yield UnitOfWork()


def unit_of_work() -> UnitOfWork:
    return UnitOfWork()


class Cache:
    def __init__(self):
        self.data = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def get(self, key):
        return self.data.get(key)
"""


@pytest.mark.parametrize(
    ("name", "statement", "fragment"),
    [
        ("session set in __enter__", "with UnitOfWork() as uow:\n    return uow.session.get(dict, 1)",
         "`uow.session.get()`"),
        ("repository built in __enter__", "with UnitOfWork() as uow:\n    return uow.users.get(1)",
         "UserRepo.get -> self.session.get()"),
        ("session set in __init__", "with EagerUnitOfWork() as uow:\n    return uow.session.get(dict, 1)",
         "`uow.session.get()`"),
        ("built by a function", "with unit_of_work() as uow:\n    return uow.users.get(1)",
         "UserRepo.get -> self.session.get()"),
        ("yielded by a @contextmanager method",
         "with Store().unit() as uow:\n    return uow.session.get(dict, 1)", "`uow.session.get()`"),
    ],
)
def test_session_held_by_a_context_manager_object_converts(cli, app, name, statement, fragment):
    root = app({
        "models/uow.py": UNIT_OF_WORK,
        "api/items.py": route(
            '@router.get("/a")\nasync def read():\n' + textwrap.indent(statement, "    "),
            "from models.uow import Store, UnitOfWork, EagerUnitOfWork, unit_of_work",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "convert", (name, found)
    assert any(fragment in reason for reason in found["reasons"]), (name, found["reasons"])
    assert findings(cli, root, "read")[0]["code"] == "AM301"


@pytest.mark.parametrize(
    ("statement", "action"),
    [
        ("session = database_sessionmaker()\nwith closing(session) as db:\n    return db.get(dict, 1)", "convert"),
        ("with contextlib.closing(open_session()) as db:\n    return db.get(dict, 1)", "convert"),
        ("with closing(Store()) as store:\n    return store.data.get(1)", "keep"),
    ],
    ids=["closing", "module-qualified", "near-miss-no-session"],
)
def test_a_session_entered_through_contextlib_closing_is_session_work(cli, app, statement, action):
    # `closing(x).__enter__()` returns x itself: the Session's work was no Session work, all-clear
    root = app({
        "models/uow.py": UNIT_OF_WORK,
        "models/makers.py": "from db.engine import database_sessionmaker\n\n\ndef open_session():\n"
                            "    return database_sessionmaker()\n",
        "api/items.py": route(
            '@router.get("/a")\nasync def read():\n' + textwrap.indent(statement, "    "),
            "import contextlib\nfrom contextlib import closing\n\nfrom db.engine import database_sessionmaker\n"
            "from models.makers import open_session\nfrom models.uow import Store",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == action, found["reasons"]
    if action == "convert":
        assert findings(cli, root, "read")[0]["code"] == "AM301"
    else:
        assert findings(cli, root, "read") == []


def test_exit_of_a_context_manager_object_is_session_work(cli, app):
    root = app({
        "models/uow.py": UNIT_OF_WORK,
        "api/items.py": route(
            """
            @router.get("/a")
            async def read():
                with UnitOfWork() as uow:
                    return {"ok": True}
            """,
            "from models.uow import UnitOfWork",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "convert"
    assert any("UnitOfWork.__exit__ -> self.session.close()" in r for r in found["reasons"]), found["reasons"]


@pytest.mark.parametrize(
    ("name", "entered"),
    [("__aenter__", "AsyncUnitOfWork()"), ("@asynccontextmanager function", "async_unit()")],
)
def test_session_held_by_an_async_context_manager_blocks(cli, app, name, entered):
    root = app({
        "models/uow.py": UNIT_OF_WORK,
        "api/items.py": route(
            f"""
            @router.get("/a")
            async def read():
                async with {entered} as uow:
                    return uow.session.get(dict, 1)
            """,
            "from models.uow import AsyncUnitOfWork, async_unit",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    # `async with` awaits: the route stays async, and says it blocks
    assert found["action"] == "keep"
    assert "still blocks the event loop at line 9 (uow.session.get())" in found["reasons"], (name, found["reasons"])
    assert findings(cli, root, "read")[0]["code"] == "AM301"


def test_near_miss_a_context_manager_object_without_a_session(cli, app):
    root = app({
        "models/uow.py": UNIT_OF_WORK,
        "api/items.py": route(
            """
            @router.get("/a")
            async def read():
                with Cache() as cache:
                    return cache.get(1)
            """,
            "from models.uow import Cache",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert (found["action"], found["reasons"]) == ("keep", ["does no synchronous Session work"])
    assert findings(cli, root, "read") == []


# ------------------------------------------------- 2. callable instances as dependencies

CHECKERS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from core.dependencies import session_dependency
from db.engine import database_sessionmaker


class RoleChecker:
    def __init__(self, role: str = "user"):
        self.role = role

    async def __call__(self, db: session_dependency):
        return db.get(dict, self.role)


class SyncChecker:
    def __call__(self, db: session_dependency):
        return db.get(dict, 1)


class SessionProvider:
    def __call__(self):
        with database_sessionmaker() as session:
            yield session


class Flag:
    async def __call__(self):
        return True


class Security:
    def require(self, role):
        return RoleChecker(role)


admin = RoleChecker("admin")
security = Security()
provider = SessionProvider()
"""


@pytest.mark.parametrize(
    ("name", "signature", "decorator"),
    [
        ("module-level instance", "user=Depends(admin)", ""),
        ("instance built inline", 'user: Annotated[dict, Depends(RoleChecker("admin"))]', ""),
        ("instance built by a method of another object", "", ', dependencies=[Depends(security.require("x"))]'),
    ],
)
def test_callable_instance_dependency_is_listed_and_converted(cli, app, name, signature, decorator):
    root = app({
        "api/checkers.py": CHECKERS,
        "api/items.py": route(
            f"""
            @router.get("/a"{decorator})
            async def read({signature}):
                return {{}}
            """,
            "from typing import Annotated\n\nfrom api.checkers import RoleChecker, admin, security",
        ),
    })
    document = cli.json("phase1", root)
    found = entry(document, "RoleChecker.__call__")
    assert (found["kind"], found["action"]) == ("dependency", "convert"), (name, found)
    assert "takes a synchronous Session `db: session_dependency`" in found["reasons"][0]
    assert [f["code"] for f in findings(cli, root, "RoleChecker.__call__")] == ["AM301"]
    assert entry(cli.json("scan", root), "RoleChecker.__call__")["action"] == "convert"
    cli("phase1", root, "--apply")
    assert "    def __call__(self, db: session_dependency):" in (root / "api/checkers.py").read_text()


def test_callable_instance_providing_a_session_gives_the_route_a_session(cli, app):
    root = app({
        "api/checkers.py": CHECKERS,
        "api/items.py": route(
            """
            @router.get("/a")
            async def read(db=Depends(provider)):
                return db.query(dict).all()
            """,
            "from api.checkers import provider",
        ),
    })
    document = cli.json("phase1", root)
    assert entry(document, "SessionProvider.__call__")["kind"] == "dependency"
    found = entry(document, "read")
    assert found["action"] == "convert"
    assert "takes a synchronous Session `db = Depends(provider)`" in found["reasons"][0]


def test_near_miss_a_sync_or_sessionless_callable_dependency(cli, app):
    root = app({
        "api/checkers.py": CHECKERS,
        "api/items.py": route(
            """
            @router.get("/a")
            async def read(flag=Depends(Flag()), user=Depends(SyncChecker()), role=Depends(security.require)):
                return flag
            """,
            "from api.checkers import Flag, SyncChecker, security",
        ),
    })
    document = cli.json("phase1", root)
    assert entry(document, "SyncChecker.__call__")["action"] == "unchanged"
    assert entry(document, "Security.require")["kind"] == "dependency"  # a bound method, listed
    assert entry(document, "Flag.__call__")["reasons"] == ["does no synchronous Session work"]
    assert entry(document, "read")["reasons"] == ["does no synchronous Session work"]
    assert cli.json("check", root)["findings"] == []


# --------------------------------------------------- 3. carriers the analysis cannot type


@pytest.mark.parametrize(
    ("name", "signature", "body", "reason"),
    [
        ("request.state", "request: Request", "return request.state.db.scalars(q)",
         "`request.state.db.scalars()` is called on `request.state.db`, which the analysis cannot type"),
        ("app state", "request: Request", "return request.app.state.session.execute(q).all()",
         "`request.app.state.session.execute()` is called on"),
        ("a global bag", "", "return g.db.query(dict).all()", "`g.db.query()` is called on `g.db`"),
        ("any carrier name, a Session-only method", "request: Request", "return request.state.store.scalars(q)",
         "`request.state.store.scalars()` is called on"),
        ("a local bound to the carrier", "request: Request", "db = request.state.db; return db.query(dict).all()",
         "`db.query()` is called on `db`, which the analysis cannot type"),
        ("handed to a project helper", "request: Request", "return load(request.state.db)",
         "hands `request.state.db`, which the analysis cannot type (it may be a synchronous Session), to `load`"),
        ("a dependency returning it", "db=Depends(state_db)", "return db.query(dict).all()",
         "built from the Session by Depends(state_db)"),
    ],
)
def test_session_method_on_an_untyped_carrier_is_unverified(cli, app, name, signature, body, reason):
    state = """
        from fastapi import Request


        class Bag:
            pass


        g = Bag()


        def load(db):
            return db.query(dict).all()


        def state_db(request: Request):
            return request.state.db
        """
    root = app({
        "core/state.py": state,
        "api/items.py": route(
            f"""
            @router.get("/a")
            async def read({signature}):
                q = "select 1"
                {body}
            """,
            "from fastapi import Request\n\nfrom core.state import g, load, state_db",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "keep"
    assert found["reasons"][0].startswith("unverified: ") and reason in found["reasons"][0], (name, found["reasons"])
    assert [f["code"] for f in findings(cli, root, "read")] == ["AM304"]


def test_untyped_carrier_reached_through_a_helper_is_unverified(cli, app):
    root = app({
        "services.py": "def load(request):\n    return request.state.db.get(dict, 1)\n",
        "api/items.py": route(
            """
            @router.get("/a")
            async def read(request: Request):
                return load(request)
            """,
            "from fastapi import Request\n\nfrom services import load",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["reasons"][0].startswith("unverified: calls services.load"), found["reasons"]


SETTINGS = """
    import enum
    import os


    def parse_ssl(value):
        return value.strip().lower() == "true"


    class Errors(str, enum.Enum):
        DB_NOT_SQLITE = "only on SQLite"


    class Bag:
        pass


    g = Bag()
    SESSION_SECRET = os.getenv("SESSION_SECRET", "")
    CLIENT_SESSION_SSL = parse_ssl(os.getenv("CLIENT_SESSION_SSL", "true"))
    SESSION_TTL = 3600


    def sign(*values):
        return "|".join(str(v) for v in values)
    """


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        ("return sign(request.state.db_session)", "request.state.db_session"),
        ("return sign(g.dbSession)", "g.dbSession"),
        ("return sign(request.state.async_db)", "request.state.async_db"),
        ("return sign(SESSION_SECRET, CLIENT_SESSION_SSL, SESSION_TTL)", None),
        ("return sign(request.state.session_id, g.db_url)", None),
        ("return sign(Errors.DB_NOT_SQLITE)", None),
    ],
)
def test_only_a_carrier_whose_last_word_names_a_session_is_an_untyped_session(cli, app, body, flagged):
    # A value the analysis cannot type was taken for a Session when its name merely contained
    # one: the settings a service hands to every HTTP call and token check (`ssl=CLIENT_SESSION_SSL`,
    # `jwt.decode(token, SESSION_SECRET)`), an enum's message (`Errors.DB_NOT_SQLITE`) or a
    # `session_id` made each such route an AM304 finding. The last word of the name says what
    # the value is: `db_session` and `dbSession` are Sessions, `SESSION_SECRET` is a secret.
    root = app({
        "core/settings.py": SETTINGS,
        "api/items.py": route(
            f"""
            @router.get("/a")
            async def read(request: Request):
                {body}
            """,
            "from fastapi import Request\n\n"
            "from core.settings import CLIENT_SESSION_SSL, SESSION_SECRET, SESSION_TTL, Errors, g, sign",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    codes = [f["code"] for f in findings(cli, root, "read")]
    if flagged:
        assert found["action"] == "keep" and f"hands `{flagged}`, which the analysis cannot type" in found["reasons"][0]
        assert codes == ["AM304"]
    else:
        assert found["reasons"] == ["does no synchronous Session work"], found["reasons"]
        assert codes == []


def test_near_miss_other_methods_and_typed_attributes_are_not_unverified(cli, app):
    root = app({
        "models/client.py": """
            import httpx


            class Client:
                def __init__(self):
                    self.http = httpx.Client()

                def fetch(self):
                    return self.http.get("https://example.org")
            """,
        "api/items.py": route(
            """
            client = Client()


            @router.get("/a")
            async def read(request: Request):
                request.state.cache.get("k")      # a Session method name, but not a Session's carrier
                request.query_params.get("x")
                request.state.db.whatever()       # not a Session method
                print(request.state.settings)     # handed on, but not named like a Session
                await request.state.session.get("k")  # awaited: no synchronous Session
                return client.fetch()
            """,
            "from fastapi import Request\n\nfrom models.client import Client",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["reasons"] == ["does no synchronous Session work"]
    assert findings(cli, root, "read") == []


@pytest.mark.parametrize(
    ("name", "signature", "body", "reason"),
    [
        ("a registry of factories", "", 'with REGISTRY["default"]() as s:\n    return s.scalars(q).all()',
         "`s.scalars()` is called on `s`, entered from a value the analysis cannot spell"),
        ("a factory on the application's state", "request: Request",
         "with request.app.state.sessionmaker() as s:\n    return s.get(dict, 1)",
         "`s.get()` is called on `s`, entered from `request.app.state.sessionmaker()`"),
        ("any carrier, a Session-only method", "request: Request",
         "with request.app.state.factory() as s:\n    return s.query(dict).all()", "`s.query()` is called on `s`"),
    ],
)
def test_a_with_target_the_analysis_cannot_type_used_as_a_session_is_unverified(cli, app, name, signature, body,
                                                                               reason):
    root = app({
        "api/items.py": route(
            'REGISTRY = {"default": database_sessionmaker}\n\n\n'
            f'@router.get("/a")\nasync def read({signature}):\n    q = "select 1"\n{textwrap.indent(body, "    ")}\n',
            "from fastapi import Request\n\nfrom db.engine import database_sessionmaker",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "keep"
    assert found["codes"] == ["AM125"], (name, found)
    assert reason in found["reasons"][0], (name, found["reasons"])
    assert [f["code"] for f in findings(cli, root, "read")] == ["AM304"]


def test_near_miss_a_with_target_with_other_methods_is_no_session_work(cli, app):
    root = app({
        "api/items.py": route(
            """
            @router.get("/a")
            async def read(request: Request):
                with request.app.state.http() as client:
                    client.get("https://example.org")   # a Session method name on something else
                with LOCKS["k"]() as held:
                    held.close()
                return 1
            """,
            "from fastapi import Request\n\nLOCKS = {}",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["reasons"] == ["does no synchronous Session work"]
    assert findings(cli, root, "read") == []


APP_STATE = """
from contextlib import asynccontextmanager

from fastapi import FastAPI

from db.engine import database_sessionmaker


class Repo:
    def __init__(self):
        self.session = database_sessionmaker()

    def count(self):
        return self.session.execute("select 1").scalar()

    def name(self):
        return "items"


class Clock:
    def count(self):
        return 0


class Server:
    def __init__(self):
        self.repo = Repo()
        self.clock = Clock()


@asynccontextmanager
async def lifespan(application: FastAPI):
    application.state.repo = Repo()
    application.state.clock = Clock()
    application.state.server = Server()
    yield


app = FastAPI(lifespan=lifespan)


@app.on_event("startup")
def boot():
    app.state.other = Repo()
"""


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("return request.app.state.repo.count()", "`request.app.state.repo.count()` runs a method that does"),
        ("return request.app.state.other.count()", "(set at core/setup.py:"),
        ("return app.state.repo.count()", "`app.state.repo.count()` runs a method"),
        # through an attribute of what the state keeps (a service locator holding its managers)
        ("return request.app.state.server.repo.count()", "`request.app.state.server.repo.count()` runs a method"),
        ("server = request.app.state.server\n    return server.repo.count()", "`server.repo.count()` runs a method"),
    ],
)
def test_a_method_of_an_object_the_application_state_keeps_is_unverified(cli, app, body, fragment):
    root = app({
        "core/setup.py": APP_STATE,
        "api/items.py": route(
            f'@router.get("/a")\nasync def read(request: Request):\n    {body}\n',
            "from fastapi import Request\n\nfrom core.setup import app",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "keep"
    assert found["reasons"][0].startswith("unverified: ") and fragment in found["reasons"][0], found["reasons"]
    assert [f["code"] for f in findings(cli, root, "read")] == ["AM304"]


def test_near_miss_a_kept_object_whose_method_does_no_session_work(cli, app):
    root = app({
        "core/setup.py": APP_STATE,
        "api/items.py": route(
            '@router.get("/a")\nasync def read(request: Request):\n'
            "    return request.app.state.clock.count(), request.app.state.repo.name(),"
            " request.app.state.server.clock.count(), request.app.state.server.repo.name()\n",
            "from fastapi import Request",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["reasons"] == ["does no synchronous Session work"]
    assert findings(cli, root, "read") == []


FLASK_STYLE = """
from sqlalchemy.orm import Session, scoped_session

from db.engine import database_sessionmaker


class Database:
    def __init__(self, factory) -> None:
        self._registry = scoped_session(factory)

    @property
    def session(self) -> Session:
        return self._registry()

    @property
    def scoped(self):
        return self._registry()

    @property
    def name(self) -> str:
        return "main"


db = Database(database_sessionmaker)
"""


@pytest.mark.parametrize("attribute", ["session", "scoped"])
def test_a_property_giving_a_session_is_session_work(cli, app, attribute):
    root = app({
        "core/database.py": FLASK_STYLE,
        "api/items.py": route(
            f"""
            @router.get("/a")
            async def read():
                return db.{attribute}.scalars("select 1").all()
            """,
            "from core.database import db",
        ),
    })
    assert [f["code"] for f in findings(cli, root, "read")] == ["AM301"]
    assert "does no synchronous Session work" not in entry(cli.json("phase1", root), "read")["reasons"]


def test_near_miss_a_property_giving_something_else_is_no_session_work(cli, app):
    root = app({
        "core/database.py": FLASK_STYLE,
        "api/items.py": route(
            """
            @router.get("/a")
            async def read():
                return db.name.get("x")
            """,
            "from core.database import db",
        ),
    })
    assert entry(cli.json("phase1", root), "read")["reasons"] == ["does no synchronous Session work"]
    assert findings(cli, root, "read") == []


# ------------------------------------------- 4. `async def` methods reached through an object

REPOSITORY = """
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker


class Repo:
    def __init__(self, db: Session):
        self.db = db

    async def get(self, pk):
        return self.db.query(dict).get(pk)

    async def get_twice(self, pk):
        return await self.get(pk)


class OwnRepo:
    async def get(self, pk):
        with database_sessionmaker() as db:
            return db.get(dict, pk)


class Remote:
    async def get(self, pk):
        return {"pk": pk}


def get_repo(db: Session) -> Repo:
    return Repo(db)


own = OwnRepo()
"""


@pytest.mark.parametrize(
    ("name", "signature", "statement", "blocks_at"),
    [
        ("dependency-built instance", "repo: Annotated[Repo, Depends(get_repo)]", "await repo.get(1)",
         "self.db.query()"),
        ("through another async method", "repo: Annotated[Repo, Depends(get_repo)]", "await repo.get_twice(1)",
         "self.db.query()"),
        ("module-level instance", "", "await own.get(1)", "database_sessionmaker()"),
        ("attribute of another object", "", "await holder.repo.get(1)", "database_sessionmaker()"),
    ],
)
def test_sync_session_work_behind_an_async_method_is_reported(cli, app, name, signature, statement, blocks_at):
    root = app({
        "models/repo.py": REPOSITORY,
        "api/items.py": route(
            f"""
            class Holder:
                def __init__(self):
                    self.repo = own


            holder = Holder()


            @router.get("/a")
            async def read({signature}):
                return {statement}
            """,
            "from typing import Annotated\n\nfrom models.repo import Repo, get_repo, own",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "keep", (name, found)
    text = " ".join(found["reasons"])
    assert "calls the coroutine helper models.repo." in text and blocks_at in text, (name, found["reasons"])
    [finding] = findings(cli, root, "read")
    bound = statement.removeprefix("await ").split("(")[0]  # the method as the route spells it
    assert finding["code"] == "AM301", finding
    if bound.endswith("get_twice"):  # it awaits `self.get(pk)` itself: a plain def could not
        assert "get_twice awaits too, at models/repo.py:" in finding["message"], finding["message"]
        assert "so it cannot become a plain def" in finding["message"]
    else:
        assert f"make it a plain def and call it as `await run_in_threadpool({bound}, ...)`" in finding["message"]


def test_near_miss_an_async_method_without_session_work(cli, app):
    root = app({
        "models/repo.py": REPOSITORY,
        "api/items.py": route(
            """
            remote = Remote()


            @router.get("/a")
            async def read():
                return await remote.get(1)
            """,
            "from models.repo import Remote",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["reasons"] == ["does no synchronous Session work"]
    assert findings(cli, root, "read") == []


# ------------------- 5. a unit of work typed by its abstract base, its factory a default

ABSTRACT_UOW = """
import abc

from db.engine import database_sessionmaker


class AbstractUnitOfWork(abc.ABC):
    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass

    @abc.abstractmethod
    def commit(self):
        raise NotImplementedError


class SqlUnitOfWork(AbstractUnitOfWork):
    def __init__(self, session_factory=database_sessionmaker):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        return super().__enter__()

    def commit(self):
        self.session.commit()


class MemoryUnitOfWork:
    def __init__(self, factory=dict):
        self.factory = factory

    def commit(self):
        self.data = self.factory()


def add(uow: AbstractUnitOfWork):
    with uow:
        uow.commit()


def add_and_flush(uow: AbstractUnitOfWork):
    with uow as unit:
        unit.session.flush()


def add_in_memory(uow: MemoryUnitOfWork):
    uow.commit()
"""


def test_unit_of_work_typed_by_its_abstract_base_with_a_default_factory_converts(cli, app):
    root = app({
        "models/uow.py": ABSTRACT_UOW,
        "api/items.py": route(
            """
            @router.post("/a")
            async def create():
                add(SqlUnitOfWork())
            """,
            "from models.uow import SqlUnitOfWork, add",
        ),
    })
    found = entry(cli.json("phase1", root), "create")
    assert found["action"] == "convert"
    assert "add -> SqlUnitOfWork.commit -> self.session.commit()" in found["reasons"][0], found["reasons"]


def test_attribute_of_an_abstract_unit_of_work_is_its_implementations(cli, app):
    root = app({
        "models/uow.py": ABSTRACT_UOW,
        "api/items.py": route(
            """
            @router.post("/a")
            async def create():
                add_and_flush(SqlUnitOfWork())
            """,
            "from models.uow import SqlUnitOfWork, add_and_flush",
        ),
    })
    found = entry(cli.json("phase1", root), "create")
    assert found["action"] == "convert"
    assert "add_and_flush -> unit.session.flush()" in found["reasons"][0], found["reasons"]


def test_near_miss_a_default_that_is_no_session_factory(cli, app):
    root = app({
        "models/uow.py": ABSTRACT_UOW,
        "api/items.py": route(
            """
            @router.post("/a")
            async def create():
                add_in_memory(MemoryUnitOfWork())
            """,
            "from models.uow import MemoryUnitOfWork, add_in_memory",
        ),
    })
    assert entry(cli.json("phase1", root), "create")["reasons"] == ["does no synchronous Session work"]


def test_untyped_carrier_behind_a_dependency_annotated_as_a_session_converts(cli, app):
    """The fix AM125 gives: a dependency annotated to return the Session makes it visible."""
    root = app({
        "core/state.py": """
            from fastapi import Request
            from sqlalchemy.orm import Session


            def state_db(request: Request) -> Session:
                return request.state.db
            """,
        "api/items.py": route(
            """
            @router.get("/a")
            async def read(db=Depends(state_db)):
                return db.query(dict).all()
            """,
            "from core.state import state_db",
        ),
    })
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "convert", found
