"""AM125 unverified-session-call: an object unseen code built from the Session keeps the handler, unverified."""

from __future__ import annotations

import pytest

DEPS = """
from fastapi import Depends
from sqlalchemy.orm import Session
from vendor_sdk import make_repository

from db.engine import get_db_session


def get_repo(db: Session = Depends(get_db_session)):
    return make_repository(db)


def get_cache():
    return make_repository(None)
"""


def test_a_method_on_an_object_built_from_the_session_by_unseen_code_keeps_with_am125(app, reported):
    root = app(
        """
        from fastapi import Depends

        from deps import get_repo


        @router.get("/items")
        async def list_items(repo=Depends(get_repo)):
            return repo.list()
        """,
        {"deps.py": DEPS},
    )
    entry = reported(root, "list_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"])
    assert entry["reasons"][0].startswith("unverified: `repo.list()` is called on `repo`, built from the Session")


def test_near_miss_an_object_built_without_the_session_keeps_with_am105(app, reported):
    root = app(
        """
        from fastapi import Depends

        from deps import get_cache


        @router.get("/items")
        async def list_items(repo=Depends(get_cache)):
            return repo.list()
        """,
        {"deps.py": DEPS},
    )
    assert reported(root, "list_items", "phase1")["codes"] == ["AM105"]


REGISTRY = """
from vendor_sdk import HOOKS

from services.counts import article_count, user_count

BUILT = dict(articles=article_count)
GROWN = {"users": user_count}
LABELS = {"users": "Users"}
"""
COUNTS = """
def user_count():
    return 0


def article_count():
    return 1
"""
# Another module adds to GROWN (and to LABELS, which no route calls through).
PLUGINS = """
from registry import GROWN, LABELS
from services.counts import article_count

GROWN["articles"] = article_count
LABELS.update(articles="Articles")
"""
FILES = {"registry.py": REGISTRY, "plugins.py": PLUGINS, "services/__init__.py": "", "services/counts.py": COUNTS}


def test_a_call_through_a_container_the_analysis_cannot_read_keeps_with_am125(app, reported):
    root = app(
        """
        import plugins  # noqa: F401 (its import adds to GROWN)
        from registry import BUILT, GROWN, HOOKS


        @router.get("/built/{kind}")
        async def built(kind: str):
            return BUILT[kind]()


        @router.get("/grown/{kind}")
        async def grown(kind: str):
            return GROWN[kind]()


        @router.get("/hooks")
        async def hooks():
            return [hook() for hook in HOOKS]
        """,
        FILES,
    )
    expected = {
        "built": "`BUILT[kind]()` runs a value taken from `BUILT`, which is no dict, list or tuple display",
        "grown": "`GROWN[kind]()` runs a value taken from `GROWN`, which code elsewhere changes or is handed to",
        "hooks": "`hook()` runs a value taken from `HOOKS`, which is no dict, list or tuple display",
    }
    for function, text in expected.items():
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry
        assert entry["reasons"][0].startswith(f"unverified: {text}"), entry["reasons"]


def test_near_miss_a_container_changed_elsewhere_but_only_read_keeps_with_am105(app, reported):
    root = app(
        """
        import plugins  # noqa: F401
        from registry import LABELS


        @router.get("/label/{kind}")
        async def label(kind: str):
            return {"label": LABELS[kind]}
        """,
        FILES,
    )
    assert reported(root, "label", "phase1")["codes"] == ["AM105"]


TASKS = """
from celery import shared_task

from db.engine import database_sessionmaker


@shared_task
def count_rows() -> int:
    with database_sessionmaker() as session:
        return session.execute("select 1").scalar()
"""


def test_a_method_of_a_task_doing_session_work_keeps_with_am125(app, reported, findings):
    # `task.run()` and `task.apply()` run the task's body in this process, on the event loop.
    root = app(
        """
        from tasks import count_rows


        @router.get("/count")
        async def count(eager: bool):
            return count_rows.apply().get() if eager else count_rows.run()
        """,
        {"tasks.py": TASKS},
    )
    entry = reported(root, "count", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry
    assert entry["reasons"][0].startswith(
        "unverified: `count_rows.apply()` is called on the function `count_rows`, which does synchronous Session work"
    ), entry
    assert [f["code"] for f in findings(root, "count")] == ["AM304"]


def test_near_miss_a_task_enqueued_keeps_with_am105(app, reported, findings):
    root = app(
        """
        from tasks import count_rows


        @router.get("/count")
        async def count():
            return {"id": count_rows.delay().id}
        """,
        {"tasks.py": TASKS},
    )
    assert reported(root, "count", "phase1")["codes"] == ["AM105"]
    assert findings(root, "count") == []


# A message bus wired once at import: its handlers are closures over the unit of work
# (`lambda message: handler(message, uow=uow)`), kept in tables on the bus.
BUS = """
from sqlalchemy import text

from db.engine import database_sessionmaker


class UnitOfWork:
    def __enter__(self):
        self.session = database_sessionmaker()
        return self

    def __exit__(self, *args):
        self.session.close()

    def commit(self):
        self.session.commit()


def record(message, uow):
    with uow:
        uow.session.execute(text("insert into items (name, owner_id) values (:n, 1)"), {"n": message})
        uow.commit()


def log(message, sink):
    sink.append(message)


class MessageBus:
    def __init__(self, uow: UnitOfWork, handlers: dict):
        self.uow = uow
        self.handlers = handlers

    def handle(self, message):
        handler = self.handlers[type(message)]
        return handler(message)


class Signals:
    def __init__(self, handlers: dict):
        self.handlers = handlers
        self.sink = []

    def send(self, message):
        for handler in self.handlers[type(message)]:
            handler(message)


def inject(handler, **dependencies):
    return lambda message: handler(message, **dependencies)


uow = UnitOfWork()
bus = MessageBus(uow, {str: inject(record, uow=uow)})
signals = Signals({str: []})
signals.handlers[str].append(inject(log, sink=signals.sink))
"""


def test_a_handler_out_of_a_table_on_a_bus_holding_a_unit_of_work_keeps_with_am125(app, reported, findings):
    root = app(
        """
        from bus import bus


        @router.post("/items/{name}")
        async def create(name: str):
            bus.handle(name)
        """,
        {"bus.py": BUS},
    )
    entry = reported(root, "create", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry
    assert (
        "`handler()` runs a value taken from `self.handlers`, a table the instance holds and the analysis "
        "cannot read, beside `self.uow`, a UnitOfWork whose methods do synchronous Session work"
    ) in entry["reasons"][0], entry["reasons"]
    assert [f["code"] for f in findings(root, "create")] == ["AM304"]


def test_near_miss_a_table_on_an_object_holding_no_session_work_keeps_with_am105(app, reported, findings):
    root = app(
        """
        from bus import signals


        @router.post("/signals/{name}")
        async def signal(name: str):
            signals.send(name)
        """,
        {"bus.py": BUS},
    )
    assert reported(root, "signal", "phase1")["codes"] == ["AM105"]
    assert findings(root, "signal") == []


UNTYPED_BUS = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

DEFAULT_SESSION_FACTORY = sessionmaker(bind=create_engine("sqlite://"))


class UnitOfWork:
    def __init__(self, session_factory=DEFAULT_SESSION_FACTORY):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        return self

    def __exit__(self, *args):
        self.session.close()


def allocate(sku, uow: UnitOfWork):
    with uow:
        uow.session.execute(text("select 1"))


class MessageBus:
    def __init__(self, uow, handlers):
        self.uow = uow
        self.handlers = handlers

    def handle(self, message):
        {dispatch}


def bootstrap(uow=None):
    return MessageBus(uow=uow or UnitOfWork(), handlers={handlers})
"""


@pytest.mark.parametrize(
    ("dispatch", "handlers"),
    [
        ("self.handlers[type(message)](message, self.uow)", "{str: allocate}"),
        ("for handler in self.handlers[type(message)]:\n            handler(message, self.uow)", "{str: [allocate]}"),
    ],
)
def test_a_bus_handing_an_untyped_unit_of_work_to_its_handler_table_is_unverified(app, reported, findings, dispatch, handlers):
    # `self.uow` comes from `uow or UnitOfWork()`, which the flow does not type, and the table the
    # bus holds is not read: what the handler does with it is unseen, never "no Session work".
    root = app(
        """
        from db.bus import bootstrap

        bus = bootstrap()


        @router.post("/allocate")
        async def allocated(sku: str):
            bus.handle(sku)
        """,
        {"db/bus.py": UNTYPED_BUS.replace("{dispatch}", dispatch).replace("{handlers}", handlers)},
    )
    entry = reported(root, "allocated", "phase1")
    assert entry["action"] == "keep" and entry["codes"] == ["AM125"], entry
    assert "and hands it `self.uow`, which the analysis cannot type" in entry["reasons"][0], entry
    assert [f["code"] for f in findings(root, "allocated")] == ["AM304"]


# A command bus whose handlers open their own Session and register themselves with a decorator,
# into a table no module-level display holds: the instance's (`self._handlers`), the class's read
# on `cls`, or one handed in as a parameter. `{work}` is the handlers' body.
REGISTERED_BUS = """
from sqlalchemy import text

from db.engine import database_sessionmaker


class InstanceBus:
    def __init__(self):
        self._handlers = {}

    def handles(self, kind):
        def register(fn):
            self._handlers[kind] = fn
            return fn
        return register

    def dispatch(self, message):
        return self._handlers[type(message)](message)


class ClassBus:
    registry = {}

    @classmethod
    def on(cls, kind):
        def register(fn):
            cls.registry[kind] = fn
            return fn
        return register

    @classmethod
    def dispatch(cls, message):
        handler = cls.registry.get(type(message))
        return handler(message)


def run_from(table, message):
    for handler in table[type(message)]:
        handler(message)


instance_bus = InstanceBus()
SINK = []


@instance_bus.handles(str)
def record(message):
    {work}


@ClassBus.on(int)
def count(message):
    {work}


def listen(message):
    {work}


LISTENERS = {}
LISTENERS.setdefault(bytes, []).append(listen)
"""

SESSION_WORK = """with database_sessionmaker() as session:
        session.execute(text("select 1"))"""

NO_SESSION_WORK = "SINK.append(message)"


@pytest.mark.parametrize(("call", "table"), [("run_from(LISTENERS, name.encode())", "table")])
def test_a_handler_out_of_a_table_filled_at_run_time_with_session_work_is_unverified(app, reported, findings, call, table):
    # Nothing holds a Session beside the table: the handlers open their own. The analysis cannot
    # read what the table holds, and the project registers functions doing Session work, so the
    # route may run one of them on the event loop: never "does no synchronous Session work".
    root = app(
        f"""
        from bus import ClassBus, LISTENERS, instance_bus, run_from


        @router.post("/items/{{name}}")
        async def create(name: str):
            {call}
        """,
        {"bus.py": REGISTERED_BUS.replace("{work}", SESSION_WORK)},
    )
    entry = reported(root, "create", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry
    assert f"a value taken from `{table}`, a table the analysis cannot read" in entry["reasons"][0], entry
    assert "functions doing synchronous Session work (record, registered by `@instance_bus.handles(str)`" in entry["reasons"][0]
    assert [f["code"] for f in findings(root, "create")] == ["AM304"]


@pytest.mark.parametrize("call", ["instance_bus.dispatch(name)", "ClassBus.dispatch(len(name))"])
def test_a_table_only_a_registering_decorator_fills_is_read_whole(app, reported, findings, call):
    # `self._handlers` and `cls.registry` are written only by the decorators storing the function
    # they decorate (tests/rules/test_am125_registered_tables.py): the call may run `record` or
    # `count`, which do synchronous Session work, so the route is converted and check reports it.
    root = app(
        f"""
        from bus import ClassBus, LISTENERS, instance_bus, run_from


        @router.post("/items/{{name}}")
        async def create(name: str):
            {call}
        """,
        {"bus.py": REGISTERED_BUS.replace("{work}", SESSION_WORK)},
    )
    entry = reported(root, "create", "phase1")
    assert entry["action"] == "convert" and "AM125" not in entry["codes"], entry
    found = [f["code"] for f in findings(root, "create")]
    assert found and "AM304" not in found, found


@pytest.mark.parametrize("call", ["instance_bus.dispatch(name)", "ClassBus.dispatch(len(name))", "run_from(LISTENERS, name.encode())"])
def test_near_miss_a_table_filled_at_run_time_with_handlers_doing_no_session_work(app, reported, findings, call):
    root = app(
        f"""
        from bus import ClassBus, LISTENERS, instance_bus, run_from


        @router.post("/items/{{name}}")
        async def create(name: str):
            {call}
        """,
        {"bus.py": REGISTERED_BUS.replace("{work}", NO_SESSION_WORK)},
    )
    assert reported(root, "create", "phase1")["codes"] == ["AM105"]
    assert findings(root, "create") == []


# A module-level `ContextVar[Session]` whose sets the flow cannot read: the annotation says a
# synchronous Session, so a Session method on what it holds is unverified, never "no Session work".
CONTEXT = """
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from vendor_sdk import make_session

from db.engine import database_sessionmaker

session_ctx: ContextVar[Session | None] = ContextVar("session_ctx", default=None)
async_ctx: ContextVar[AsyncSession] = ContextVar("async_ctx")


def current_session():
    return session_ctx.get()


async def bind_session():
    session_ctx.set({made})
    async_ctx.set(make_session())
"""

CONTEXT_ROUTES = """
from sqlalchemy import text

from db.context import async_ctx, current_session, session_ctx


def count_local():
    s = session_ctx.get()
    return s.execute(text("select 1")).scalar()


@router.get("/direct")
async def direct():
    return session_ctx.get().scalar(text("select 1"))


@router.get("/helper")
async def helper():
    return current_session().execute(text("select 1")).scalar()


@router.get("/local")
async def local():
    return count_local()


@router.get("/async")
async def on_async():
    return (await async_ctx.get().execute(text("select 1"))).scalar()
"""


@pytest.mark.parametrize("made", ["make_session()", "vendor_sdk_factory"], ids=["unread-set", "no-set"])
@pytest.mark.parametrize("function", ["direct", "helper", "local"])
def test_a_session_method_on_a_context_variable_declared_a_session_keeps_with_am125(
    app, reported, findings, made, function
):
    context = CONTEXT.replace("{made}", made)
    if made == "vendor_sdk_factory":
        context = context.replace("    session_ctx.set(vendor_sdk_factory)\n", "")
    root = app(CONTEXT_ROUTES, {"db/context.py": context})
    entry = reported(root, function, "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry
    assert "the context variable `session_ctx` holds, declared a synchronous Session, " in entry["reasons"][0]
    assert ("set to a value the analysis cannot read (at db/context.py:" if made != "vendor_sdk_factory" else
            "set nowhere in the project") in entry["reasons"][0], entry["reasons"][0]
    assert [f["code"] for f in findings(root, function)] == ["AM304"]


def test_near_miss_a_context_variable_set_to_a_session_converts_and_an_async_one_is_none(app, reported):
    root = app(CONTEXT_ROUTES, {"db/context.py": CONTEXT.replace("{made}", "database_sessionmaker()")})
    entry = reported(root, "helper", "phase1")
    assert (entry["action"], "AM125" in entry["codes"]) == ("convert", False), entry
    entry = reported(root, "on_async", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM105"]), entry


@pytest.mark.parametrize(("name", "unverified"), [("session_ctx", True), ("tenant_ctx", False)])
def test_an_undeclared_context_variable_counts_by_its_name(app, reported, name, unverified):
    # Without `ContextVar[...]` the variable is judged as an untyped carrier is: `execute` on one
    # named like a Session may be a Session's; on another name it says too little.
    context = CONTEXT.replace("session_ctx: ContextVar[Session | None] =", "session_ctx =").replace("{made}", "make_session()")
    root = app(CONTEXT_ROUTES.replace("session_ctx", name), {"db/context.py": context.replace("session_ctx", name)})
    entry = reported(root, "helper", "phase1")
    if unverified:
        assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry
        assert f"the context variable `{name}` holds, which the analysis cannot type, set to a value" in entry["reasons"][0]
    else:
        assert (entry["action"], entry["codes"]) == ("keep", ["AM105"]), entry


# A module-level werkzeug `LocalProxy` over a value the analysis cannot read (a module global a
# library's call or a later `global` assignment sets, a function returning one): what it forwards
# to may be a synchronous Session, never "no Session work".
PROXY = """
from some_vendor import make_session
from sqlalchemy.orm import Session
from werkzeug.local import LocalProxy

_shared = None


def init_session():
    global _shared
    _shared = make_session()


def get_shared():
    return _shared


{proxy}
"""

PROXY_ROUTES = """
from sqlalchemy import text

from db.proxy import current


def count_through(value):
    return value.execute(text("select 1")).scalar()


@router.get("/direct")
async def direct():
    current.commit()


@router.get("/local")
async def local():
    s = current
    s.commit()


@router.get("/handed")
async def handed():
    return count_through(current)
"""


@pytest.mark.parametrize(
    ("proxy", "functions"),
    [
        ("current: Session = LocalProxy(lambda: _shared)", ["direct", "local", "handed"]),
        ("current: Session = LocalProxy(get_shared)", ["direct", "local", "handed"]),
        # undeclared: judged as an untyped carrier is, here by the name of what it forwards to
        ("current = LocalProxy(lambda: _db_session)", ["direct", "local"]),
        ("current = LocalProxy(get_db_session)", ["direct", "local"]),
    ],
    ids=["declared-lambda", "declared-function", "named-lambda", "named-function"],
)
def test_a_session_method_on_a_proxy_over_an_unread_value_keeps_with_am125(app, reported, findings, proxy, functions):
    text = PROXY.replace("{proxy}", proxy).replace("_shared", "_db_session" if "_db_session" in proxy else "_shared")
    text = text.replace("def get_shared", "def get_db_session" if "get_db_session" in proxy else "def get_shared")
    root = app(PROXY_ROUTES, {"db/proxy.py": text})
    for function in functions:
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), (function, entry)
        if function != "handed":
            assert "is called on what the proxy `current` (db/proxy.py:" in entry["reasons"][0], entry["reasons"][0]
        assert [f["code"] for f in findings(root, function)] == ["AM304"], function


@pytest.mark.parametrize(
    "proxy",
    [
        "current = LocalProxy(get_shared)",  # undeclared and named for nothing: `commit` says too little
        "current: dict = LocalProxy(lambda: _shared)",  # declared as something else
    ],
    ids=["undeclared-unnamed", "declared-other"],
)
def test_near_miss_a_proxy_not_said_to_be_a_session_does_no_session_work(app, reported, findings, proxy):
    root = app(PROXY_ROUTES, {"db/proxy.py": PROXY.replace("{proxy}", proxy)})
    for function in ("direct", "local"):
        entry = reported(root, function, "phase1")
        assert entry["codes"] == ["AM105"], (function, entry)
        assert findings(root, function) == []


def test_near_miss_a_proxy_over_a_session_per_call_converts(app, reported):
    text = PROXY.replace("{proxy}", "current = LocalProxy(get_shared)").replace(
        "    return _shared", "    return database_sessionmaker()"
    ).replace("from werkzeug", "from db.engine import database_sessionmaker\nfrom werkzeug")
    entry = reported(app(PROXY_ROUTES, {"db/proxy.py": text}), "direct", "phase1")
    assert entry["action"] == "convert" and "AM125" not in entry["codes"], entry
