"""AM301 through what the application's state keeps from import (`app.state.config = AppConfig()`
at module level, as open-webui does): an `async def` route assigning `request.app.state.config.FOO
= v` runs `AppConfig.__setattr__`, which saves the item its annotated `_state: dict[str,
PersistentConfig]` holds (`self._state[key].save()`), a `with get_db() as db:` query and commit:
synchronous Session work on the event loop. `check` read only assignments made in a function (a
lifespan), and no method called on an item of a declared collection, and said nothing. A property
setter, a local alias, an instance a module-level name holds, an item bound to a local first
(`entry = self._state[key]; entry.save()`) and a module-level `CONFIGS[key].save()` count alike;
reading the value (`__getattr__`, no Session work) stays clean. A container built without
annotation (`self._state = {}`) holds what the class's methods put in, followed where every store
is seen and unverified (AM304) where one puts in a value the analysis cannot read. The premise test runs the route
and finds the row it wrote."""

from __future__ import annotations

import sys

DB = """
import os
from contextlib import contextmanager

from sqlalchemy import JSON, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine(os.environ.get("WEBUI_DB", "sqlite://"))
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Config(Base):
    __tablename__ = "config"
    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)


@contextmanager
def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
"""
CONFIG = """
from webui.db import Config, get_db


def save_to_db(data):
    with get_db() as db:
        row = db.query(Config).first()
        row.data = {**row.data, **data}
        db.commit()


class PersistentConfig:
    def __init__(self, env_name, value):
        self.env_name = env_name
        self.value = value

    def save(self):
        save_to_db({self.env_name: self.value})


class AppConfig:
    _state: dict[str, PersistentConfig]

    def __init__(self):
        super().__setattr__("_state", {})

    def __setattr__(self, key, value):
        if isinstance(value, PersistentConfig):
            self._state[key] = value
        else:
            self._state[key].value = value
            self._state[key].save()

    def __getattr__(self, key):
        return self._state[key].value


class Theme:
    def __init__(self):
        self._name = "light"

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        save_to_db({"theme": value})


class AliasedConfig:
    _state: dict[str, PersistentConfig]

    def __setattr__(self, key, value):
        entry = self._state[key]
        entry.value = value
        entry.save()


SHARED = AliasedConfig()


class Counters:
    def __setattr__(self, key, value):
        super().__setattr__(key, value)


ENABLE_SIGNUP = PersistentConfig("ENABLE_SIGNUP", True)
CONFIGS: dict[str, PersistentConfig] = {"ENABLE_SIGNUP": ENABLE_SIGNUP}
"""
MAIN = """
from fastapi import FastAPI

from webui.config import ENABLE_SIGNUP, SHARED, AppConfig, Counters, Theme
from webui.routers import auths

app = FastAPI()
app.state.config = AppConfig()
app.state.theme = Theme()
app.state.counters = Counters()
app.state.shared = SHARED
app.state.config.ENABLE_SIGNUP = ENABLE_SIGNUP
app.include_router(auths.router)
"""
ROUTES = """
from fastapi import APIRouter, Request

from webui.config import CONFIGS

router = APIRouter()


@router.post("/signup")
async def set_signup(request: Request, enabled: bool):
    request.app.state.config.ENABLE_SIGNUP = enabled
    return {"enabled": enabled}


@router.post("/signup-local")
async def set_signup_local(request: Request, enabled: bool):
    config = request.app.state.config
    config.ENABLE_SIGNUP = enabled


@router.post("/theme")
async def set_theme(request: Request, name: str):
    request.app.state.theme.name = name


@router.post("/saved/{key}")
async def save_one(key: str):
    CONFIGS[key].save()


@router.get("/signup")
async def get_signup(request: Request):
    return {"enabled": request.app.state.config.ENABLE_SIGNUP}


@router.post("/shared")
async def set_shared(request: Request, enabled: bool):
    request.app.state.shared.ENABLE_SIGNUP = enabled


@router.post("/count")
async def count(request: Request):
    request.app.state.counters.hits = 1
"""
FILES = {
    "webui/__init__.py": "", "webui/db.py": DB, "webui/config.py": CONFIG, "webui/main.py": MAIN,
    "webui/routers/__init__.py": "", "webui/routers/auths.py": ROUTES,
}


def test_a_write_or_item_method_on_module_level_app_state_doing_session_work_is_am301(project, findings):
    root = project(FILES)
    for function, shown in (
        ("set_signup", "line 10 (webui.config.AppConfig.__setattr__(...))"),
        ("set_signup_local", "line 17 (webui.config.AppConfig.__setattr__(...))"),
        ("set_theme", "line 22 (webui.config.Theme.name(...))"),
        ("save_one", "line 27 (webui.config.PersistentConfig.save(...))"),
        ("set_shared", "line 37 (webui.config.AliasedConfig.__setattr__(...))"),
    ):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM301"], (function, found)
        assert shown in found[0]["message"], found


def test_near_miss_a_read_or_a_setattr_doing_no_session_work_is_clean(project, findings):
    root = project(FILES)
    for function in ("get_signup", "count"):
        assert findings(root, function) == [], function


def test_the_premise_the_assignment_writes_the_row_within_the_request(project, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    root = project(FILES)
    monkeypatch.setenv("WEBUI_DB", f"sqlite:///{tmp_path / 'webui.db'}")
    monkeypatch.syspath_prepend(str(root))
    try:
        from webui import db
        from webui.main import app

        db.Base.metadata.create_all(db.engine)
        with db.SessionLocal() as session:
            session.add(db.Config(id=1, data={}))
            session.commit()
        with TestClient(app) as client:
            assert client.post("/signup", params={"enabled": False}).status_code == 200
        with db.SessionLocal() as session:
            assert session.get(db.Config, 1).data == {"ENABLE_SIGNUP": False}
    finally:
        for name in [n for n in sys.modules if n == "webui" or n.startswith("webui.")]:
            del sys.modules[name]


# The same container built without annotation (`self._state = {}`): what the class's methods put
# in is followed where every store is seen, and unverified (AM304) where one is not.
UNANNOTATED = """
from webui.config import PersistentConfig


class Plain:
    def save(self):
        return None


class Store:
    def __init__(self):
        self._state = {}
        self._plain = {}
        self._given = {}
        self._loaded = {}
        self._counts = {}

    def register(self, key, value):
        self._state[key] = PersistentConfig(key, value)
        self._plain.setdefault(key, Plain())
        # literals only: no object whose methods could run
        self._counts.setdefault(key, {})
        self._counts[key] = [0, "hits"]

    def adopt(self, key, value):
        self._given[key] = value

    def reload(self, loaded):
        self._loaded = loaded

    def set(self, key, value):
        self._state[key].value = value
        self._state[key].save()

    def set_entry(self, key, value):
        entry = self._state[key]
        entry.value = value
        entry.save()

    def set_plain(self, key):
        self._plain[key].save()

    def set_given(self, key):
        self._given[key].save()

    def set_loaded(self, key):
        self._loaded[key].save()

    def label(self, key):
        return self._given[key].strip()


class HandSet:
    def __init__(self):
        super().__setattr__("_state", {})

    def __setattr__(self, key, value):
        if isinstance(value, PersistentConfig):
            self._state[key] = value
        else:
            self._state[key].value = value
            self._state[key].save()


STORE = Store()
HAND = HandSet()
"""
UNANNOTATED_ROUTES = """
from fastapi import APIRouter

from webui.store import HAND, STORE

router = APIRouter()


@router.post("/state")
async def set_state(key: str, value: str):
    STORE.set(key, value)


@router.post("/entry")
async def set_entry(key: str, value: str):
    STORE.set_entry(key, value)


@router.post("/plain")
async def set_plain(key: str):
    STORE.set_plain(key)


@router.post("/given")
async def set_given(key: str):
    STORE.set_given(key)


@router.post("/loaded")
async def set_loaded(key: str):
    STORE.set_loaded(key)


@router.post("/hand")
async def set_hand(value: bool):
    HAND.ENABLE_SIGNUP = value


@router.get("/label")
async def label(key: str):
    return STORE.label(key)
"""


def _unannotated(project):  # type: ignore[no-untyped-def]
    return project({**FILES, "webui/store.py": UNANNOTATED, "webui/routers/auths.py": UNANNOTATED_ROUTES})


def test_an_item_method_of_an_unannotated_container_filled_with_session_work_is_am301(project, findings):
    root = _unannotated(project)
    for function, shown in (
        ("set_state", "line 10 (webui.store.Store.set(...))"),
        ("set_entry", "line 15 (webui.store.Store.set_entry(...))"),
    ):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM301"], (function, found)
        assert shown in found[0]["message"], found


def test_an_item_method_of_an_unannotated_container_with_an_unread_store_is_unverified(project, findings, reported):
    # a parameter put in (`self._given[key] = value`, open-webui's `__setattr__` guarded by an
    # isinstance), or the container bound again to what a caller hands: what the items are is unseen
    root = _unannotated(project)
    for function, where in (("set_given", "webui/store.py:25"), ("set_loaded", "webui/store.py:28"),
                            ("set_hand", "webui/store.py:58")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM304"], (function, found)
        reasons = reported(root, function, "phase1")["reasons"]
        assert "runs on an item of a container the instance builds without annotation" in reasons[0], reasons
        assert f"which code at {where} fills with a value the analysis cannot read" in reasons[0], reasons
        assert "a project `save()` does synchronous Session work" in reasons[0], reasons


def test_near_miss_items_doing_no_session_work_or_no_working_method_are_clean(project, findings):
    root = _unannotated(project)
    for function in ("set_plain", "label"):
        assert findings(root, function) == [], function


# The container read from outside the class, on the instance a module-level name holds (a
# service locator's `server.managers["user"].create(...)` in a route): before, only a container
# read through a local or `self` (`$...`) was followed, and the route did "no Session work".
HELD_ROUTES = """
from fastapi import APIRouter

from webui.store import STORE
from webui import store

router = APIRouter()


@router.post("/direct")
async def direct(key: str):
    STORE._state[key].save()


@router.post("/held")
async def held(key: str):
    entry = store.STORE._state[key]
    entry.save()


@router.post("/given-direct")
async def given_direct(key: str):
    STORE._given[key].save()


@router.post("/given-get")
async def given_get(key: str):
    STORE._given.get(key).save()


@router.post("/given-got")
async def given_got(key: str):
    entry = STORE._given.get(key)
    entry.save()


@router.post("/plain-direct")
async def plain_direct(key: str):
    STORE._plain[key].save()
    STORE._plain.get(key).save()


@router.post("/counted")
async def counted(key: str):
    STORE._counts.get(key).save()


@router.post("/built")
async def built(key: str):
    BUILT.items[key].save()
"""


def test_an_item_method_of_a_module_level_instance_container_read_outside_the_class(project, findings):
    built = "\n\ndef load_items():\n    return {}\n\n\nclass Built:\n    def __init__(self):\n        self.items = load_items()\n\n\nBUILT = Built()\n"
    routes = HELD_ROUTES.replace("from webui.store import STORE", "from webui.store import BUILT, STORE")
    root = project({**FILES, "webui/store.py": UNANNOTATED + built, "webui/routers/auths.py": routes})
    for function in ("direct", "held"):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM301"], (function, found)
        assert "PersistentConfig.save" in found[0]["message"], found
    assert [f["code"] for f in findings(root, "given_direct")] == ["AM304"]
    # read by `.get(key)` rather than a subscript: as unverified
    for function in ("given_get", "given_got"):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM304"], (function, found)
        assert "runs on an item of a container the instance builds without annotation" in found[0]["message"], found
    # bound to what a call builds: what its items are is not read
    found = findings(root, "built")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "which the class binds to a value the analysis cannot read as a container" in found[0]["message"], found
    assert findings(root, "plain_direct") == []
    # what the stores put in is constants and literal containers: nothing to verify
    assert findings(root, "counted") == []


# An item read with `.get(key)` (or `pop`, `setdefault`) or returned as `self.configs[name]`, and the items of `.values()` in a loop, on
# a container the class fills with project objects (a registry of managers), were no value the
# flow could read: the route did "no Session work". They hold what the class's stores put in.
REGISTRY = """
from webui.config import PersistentConfig
from webui.store import Plain


class Registry:
    def __init__(self):
        self.configs = {"signup": PersistentConfig("ENABLE_SIGNUP", True)}
        self.plain = {"p": Plain()}

    def config(self, name):
        return self.configs.get(name)

    def plain_one(self, name):
        return self.plain.get(name)

    def config_item(self, name):
        return self.configs[name]

    def plain_item(self, name):
        return self.plain[name]


REGISTRY = Registry()
"""
REGISTRY_ROUTES = """
from fastapi import APIRouter

from webui.registry import REGISTRY

router = APIRouter()


@router.post("/by-method")
async def by_method():
    REGISTRY.config("signup").save()


@router.post("/by-get")
async def by_get():
    entry = REGISTRY.configs.get("signup")
    entry.save()


@router.post("/by-item")
async def by_item():
    REGISTRY.config_item("signup").save()


@router.post("/by-values")
async def by_values():
    for entry in REGISTRY.configs.values():
        entry.save()


@router.post("/plain")
async def plain():
    REGISTRY.plain_one("p").save()
    REGISTRY.plain_item("p").save()
    for entry in REGISTRY.plain.values():
        entry.save()
"""


def test_items_read_by_get_or_values_of_a_filled_container_are_followed(project, findings):
    root = project({
        **FILES, "webui/store.py": UNANNOTATED, "webui/registry.py": REGISTRY, "webui/routers/auths.py": REGISTRY_ROUTES,
    })
    for function in ("by_method", "by_get", "by_item", "by_values"):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM301"], (function, found)
        assert "PersistentConfig.save" in found[0]["message"], found
    assert findings(root, "plain") == []
