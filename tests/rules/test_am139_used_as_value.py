"""AM139 used-as-value: an `async def` dependency handed on or stored as a value (wrapped by
asynccontextmanager, passed to other code, kept in a table) stays `async def`, and the code
using it still runs after phase one; one FastAPI alone takes (Depends, add_api_route) converts."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
from sample import run_python

MODULE = """
from contextlib import asynccontextmanager
from functools import partial

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite:///./app.db")
app = FastAPI()


async def get_session():
    with Session(engine) as s:
        yield s


{use}


@app.get("/x")
async def x(db: Session = Depends(get_session)):
    return db.execute(text("select 1")).scalar_one()
"""

USES = {
    "wrapped": """
get_session_ctx = asynccontextmanager(get_session)


async def job():
    async with get_session_ctx() as s:
        return s.execute(text("select 1")).scalar_one()
""",
    "wrapped-in-a-body": """
async def job():
    async with asynccontextmanager(get_session)() as s:
        return s.execute(text("select 1")).scalar_one()
""",
    "default": """
async def job(opener=get_session):
    async with asynccontextmanager(opener)() as s:
        return s.execute(text("select 1")).scalar_one()
""",
    "stored": """
OPENERS = {"default": get_session}


async def job():
    async for s in OPENERS["default"]():
        return s.execute(text("select 1")).scalar_one()
""",
}


def _run_job(root) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    script = "import asyncio, app; print(asyncio.run(app.job()))"
    return run_python(script, cwd=root)


@pytest.mark.parametrize("shape", sorted(USES))
def test_a_dependency_used_as_a_value_keeps_with_am139_and_still_runs(project, reported, cli, shape):
    root = project({"app.py": textwrap.dedent(MODULE).replace("{use}", USES[shape].strip("\n"))})
    entry = reported(root, "get_session", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM139"), entry
    assert entry["reasons"][0].startswith("used as a value at app.py:"), entry
    assert reported(root, "x", "phase1")["action"] == "convert"
    assert cli("phase1", root, "--apply").exit_code == 0
    run = _run_job(root)
    assert run.returncode == 0 and run.stdout.strip() == "1", run.stdout + run.stderr


def test_near_miss_a_dependency_only_fastapi_takes_converts(project, reported):
    use = """
SessionDep = Depends(get_session)
app.dependency_overrides[get_session] = get_session
app.add_api_route("/y", x, methods=["GET"])
print(repr(get_session))
"""
    root = project({"app.py": textwrap.dedent(MODULE).replace("{use}", use.strip("\n"))})
    entry = reported(root, "get_session", "phase1")
    assert entry["action"] == "convert", entry
    assert "AM139" not in entry["codes"]


RETRY = """
def retry(fallback=None, **kwargs):
    def wrap(f):
        return f
    return wrap
"""

# Module-level places where the dependency is used as a value, outside a plain assignment or
# expression statement: each keeps it async.
ELSEWHERE = {
    "decorator-argument": "@retry(fallback=get_session)\ndef job():\n    pass",
    "class-decorator-argument": "@retry(get_session)\nclass Job:\n    pass",
    "for-header": "HANDLERS = []\nfor opener in (get_session,):\n    HANDLERS.append(opener)",
    "for-body": "HANDLERS = []\nfor _ in range(1):\n    HANDLERS.append(get_session)",
    "for-display-registered-and-kept": "HANDLERS = []\nfor fn in [get_session]:\n    app.add_api_route('/a', fn)\n"
    "    HANDLERS.append(fn)",
    "for-display-assigned-twice": "ROUTES = [get_session]\nROUTES = [get_session]\nfor fn in ROUTES:\n"
    "    app.add_api_route('/a', fn)",
    "if-header": "if (opener := get_session) is not None:\n    pass",
    "if-one-line-suite": "if True: OPENER = get_session",
    "elif-body": "if False:\n    pass\nelif True:\n    OPENER = get_session",
    "with-header": "with asynccontextmanager(get_session)() as s:\n    pass",
    "while-body": "while True:\n    OPENER = get_session\n    break",
    "match-case": "match 1:\n    case 1:\n        OPENER = get_session",
    "class-attribute": "class Job:\n    opener = get_session",
    "class-field-default": "class Job:\n    opener: object = field(default=get_session)",
    "default-built": "def job(opener=partial(get_session)):\n    return opener",
    "method-default-built": "class Job:\n    def run(self, openers=(get_session,)):\n        return openers",
    "augmented-assignment": "OPENERS = []\nOPENERS += [get_session]",
    "chained-assignment": "A = B = get_session",
    "keyword-of-a-call": "register = dict\nregister(opener=get_session)",
    "lambda-body": "OPENER = lambda: get_session",
    "returned": "def opener():\n    return get_session",
}


def _module(use: str) -> str:
    head = "from dataclasses import field\nfrom functools import partial\n" + RETRY
    return textwrap.dedent(MODULE).replace("{use}", head + use.strip("\n"))


@pytest.mark.parametrize("shape", sorted(ELSEWHERE))
def test_a_dependency_used_as_a_value_anywhere_at_module_level_keeps_with_am139(project, reported, cli, shape):
    root = project({"app.py": _module(ELSEWHERE[shape])})
    entry = reported(root, "get_session", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM139"), entry
    assert reported(root, "x", "phase1")["action"] == "convert"
    assert cli("phase1", root, "--apply").exit_code == 0
    text = (root / "app.py").read_text()
    assert "async def get_session():" in text and "\ndef x(" in text, text


NEAR_MISSES = {
    "route-decorator-dependencies": "@app.get('/y', dependencies=[Depends(get_session)])\ndef y():\n    return 1",
    "class-attribute-depends": "class View:\n    db: Session = Depends(get_session)",
    "default-depends": "def job(db=Depends(get_session)):\n    return db",
    "override-in-a-block": "if True:\n    app.dependency_overrides[get_session] = get_session",
    "override-in-a-one-line-suite": "if True: app.dependency_overrides[get_session] = get_session",
    "registered-in-a-loop": "for path in ('/a',):\n    app.add_api_route(path, get_session)",
    "registered-from-the-loops-display": "for path, fn in [('/a', get_session)]:\n    app.add_api_route(path, fn)",
    "registered-from-a-partial-in-the-display": "for fn in (partial(get_session),):\n    app.add_api_route('/a', fn)",
    "registered-from-a-module-display": "ROUTES = [('/a', get_session)]\nfor path, fn in ROUTES:\n"
    "    app.add_api_route(path, endpoint=fn)",
    "decorator-argument-without-it": "@retry(fallback=None)\ndef job():\n    pass",
    # A module-level partial is read where the partial is used (here nowhere), as the function is.
    "module-partial": "OPENER = partial(get_session)",
}


@pytest.mark.parametrize("shape", sorted(NEAR_MISSES))
def test_near_miss_a_dependency_only_fastapi_takes_in_those_places_converts(project, reported, shape):
    root = project({"app.py": _module(NEAR_MISSES[shape])})
    entry = reported(root, "get_session", "phase1")
    assert entry["action"] == "convert" and "AM139" not in entry["codes"], entry


def test_a_dependency_run_through_a_module_level_partial_keeps_while_the_partial_is_iterated(project, reported, cli):
    use = """
OPENER = partial(get_session)


async def job():
    async for s in OPENER():
        return s.execute(text("select 1")).scalar_one()
"""
    root = project({"app.py": textwrap.dedent(MODULE).replace("{use}", use.strip("\n"))})
    entry = reported(root, "get_session", "phase1")
    assert entry["action"] == "keep", entry
    assert cli("phase1", root, "--apply").exit_code == 0
    run = _run_job(root)
    assert run.returncode == 0 and run.stdout.strip() == "1", run.stdout + run.stderr


# What a dependency factory returns, handed on by the call making it: phase one made `inner` a
# plain def and the code awaiting it there raised TypeError.
FACTORY = """
import asyncio

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite:///./app.db", connect_args={{"check_same_thread": False}})
app = FastAPI()


def get_db():
    with Session(engine) as s:
        yield s


def requires(role: str):
    async def inner(db: Session = Depends(get_db)) -> int:
        return db.execute(text("select 1")).scalar_one()

    return inner


require_admin = requires("admin")


@app.get("/x", dependencies=[Depends(requires("x")), Depends(require_admin)])
def x():
    return 1


async def run(check, db):
    return await check(db)


{use}


def job():
    with Session(engine) as s:
        return asyncio.run(use(s))
"""
FACTORY_USES = {
    "in a list": 'CHECKS = [requires("a")]\n\n\nasync def use(db):\n    return [await c(db) for c in CHECKS]',
    "handed to a call": 'async def use(db):\n    return await run(requires("b"), db)',
    "returned": 'def made():\n    return requires("c")\n\n\nasync def use(db):\n    return await made()(db)',
}


@pytest.mark.parametrize("use", sorted(FACTORY_USES))
def test_what_a_factory_returns_handed_on_stays_async_and_still_runs(project, reported, cli, use):
    root = project({"app.py": FACTORY.format(use=FACTORY_USES[use])})
    entry = reported(root, "requires.<locals>.inner", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM139"), entry
    assert "(`requires(...)`)" in entry["reasons"][0], entry
    assert cli("phase1", root, "--apply").exit_code == 0
    run = run_python("import app; print(app.job())", cwd=root)
    assert run.returncode == 0 and run.stdout.strip() in ("1", "[1]"), run.stdout + run.stderr


def test_near_miss_a_factory_taken_by_depends_or_named_at_module_level_converts(project, reported):
    root = project({"app.py": FACTORY.format(use="async def use(db):\n    return 1")})
    assert reported(root, "requires.<locals>.inner", "phase1")["action"] == "convert"


# A project decorator that hands on the function it decorates (or the wrapper it builds) other
# than by returning it keeps the handler, above the route decorator (which returns the function it
# registers) as below it; one only reading the function and returning it keeps nothing.
DECORATORS = """
import functools
import inspect

JOBS = []
HANDLERS = {}
SIGNATURES = {}


def job(fn):
    JOBS.append(fn)
    return fn


def handles(kind):
    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


def scheduled(fn):
    @functools.wraps(fn)
    async def run(*args, **kwargs):
        return await fn(*args, **kwargs)

    JOBS.append(run)
    return run


class Registry:
    def __init__(self):
        self.items = []

    def register(self, fn):
        self.items.append(fn)
        return fn


registry = Registry()


def marked(fn):
    fn.public = True
    if fn is None:
        raise ValueError
    SIGNATURES[fn.__name__] = inspect.signature(fn)
    return fn


def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


def _stash(fn):
    JOBS.append(fn)


def _same(fn):
    return fn


def _signature_of(fn):
    sig = inspect.signature(fn)
    return sig.replace(parameters=list(sig.parameters.values())[1:])


def stashed(fn):
    _stash(fn)
    return fn


def passed_through(fn):
    JOBS.append(_same(fn))
    return fn


def resigned(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    wrapper.__signature__ = _signature_of(fn)
    return wrapper
"""


def decorated_route(decorator: str, above: bool) -> str:
    lines = [f"@{decorator}", '@router.post("/items")'] if above else ['@router.post("/items")', f"@{decorator}"]
    head = "\n        ".join(lines)
    return f"""
        from services.jobs import handles, job, marked, passed_through, registry, resigned, scheduled, stashed, traced

        {head}
        async def create(session: session_dependency):
            session.execute("select 1")
        """


DECORATOR_FILES = {"services/__init__.py": "", "services/jobs.py": DECORATORS}


@pytest.mark.parametrize("above", [True, False])
@pytest.mark.parametrize(
    ("decorator", "fragment"),
    [
        ("job", "decorator @job (services/jobs.py:9) receives the function itself (above a route decorator too, "
         "which returns the function it registers) and hands it on at services/jobs.py:10 (`JOBS.append(fn)`)"),
        ('handles("refresh")', "hands it on at services/jobs.py:16 (`HANDLERS[kind] = fn`)"),
        ("scheduled", "hands it on at services/jobs.py:27 (`JOBS.append(run)`)"),
        ("registry.register", "hands it on at services/jobs.py:36 (`self.items.append(fn)`)"),
        # through a function of the module that keeps it, or returns it to what keeps it
        ("stashed", "(`_stash(fn)`)"),
        ("passed_through", "(`JOBS.append(_same(fn))`)"),
    ],
)
def test_a_decorator_handing_the_function_on_keeps_it_with_am139(app, reported, decorator, fragment, above):
    entry = reported(app(decorated_route(decorator, above), DECORATOR_FILES), "create", "phase1")
    assert entry["action"] == "keep", entry
    assert "AM139" in entry["codes"], entry
    reason = entry["reasons"][entry["codes"].index("AM139")]
    assert fragment in reason, reason


@pytest.mark.parametrize("above", [True, False])
@pytest.mark.parametrize("decorator", ["marked", "traced", "resigned"])
def test_near_miss_a_decorator_only_reading_the_function_converts(app, reported, decorator, above):
    entry = reported(app(decorated_route(decorator, above), DECORATOR_FILES), "create", "phase1")
    assert "AM139" not in entry["codes"], entry


KEYWORD_NAMED = """
from dataclasses import dataclass, field

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, text
from sqlalchemy.orm import Session, declarative_base

app = FastAPI()
Base = declarative_base()


def get_db():
    yield Session()


def hook(callback=None):
    return callback


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String, index={index})


class Settings:
    notify = hook(callback={callback})


@dataclass
class Page:
    items: list = field(default_factory=list)


@app.get("/")
async def index(db: Session = Depends(get_db)):
    return db.execute(text("select 1")).scalar()


@app.post("/oauth/callback")
async def callback(db: Session = Depends(get_db)):
    return db.execute(text("select 1")).scalar()


@app.get("/default-factory")
async def default_factory(db: Session = Depends(get_db)):
    return db.execute(text("select 1")).scalar()
"""


def test_a_keyword_value_naming_a_route_is_a_use_of_it(project, reported):
    # the value handed under the keyword is the route itself: what receives it may await it
    source = KEYWORD_NAMED.replace("{index}", "index").replace("{callback}", "callback")
    root = project({"app.py": textwrap.dedent(source)})
    for route in ("index", "callback"):
        entry = reported(root, route, "phase1")
        assert (entry["action"], entry["codes"][0]) == ("keep", "AM139"), entry


def test_near_miss_a_keyword_named_like_a_route_is_no_use_of_it(project, reported):
    # `index=True`, `callback=print`, `default_factory=list`: the keyword's name is the callee's
    # parameter, never the module's function of that name; the routes were kept with a false AM139
    source = KEYWORD_NAMED.replace("{index}", "True").replace("{callback}", "print")
    root = project({"app.py": textwrap.dedent(source)})
    for route in ("index", "callback", "default_factory"):
        entry = reported(root, route, "phase1")
        assert entry["action"] == "convert" and "AM139" not in entry["codes"], entry
