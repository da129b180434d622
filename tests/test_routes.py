"""Full route paths: `APIRouter(prefix=...)` and `include_router(..., prefix=...)` composed as
FastAPI composes them, in the JSON `path`, the summary and the commit message."""

from __future__ import annotations

import json

import pytest
from sample import run_python

from async_migrate.codemods.outcome import UNKNOWN_PREFIX as UNKNOWN

ITEMS = """
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter(prefix="/items")


@router.get("/{item_id}")
async def read_item(item_id: int, session: session_dependency):
    return session.execute("select 1").all()
"""


def paths(document: dict) -> dict[str, str]:
    return {h["function"]: h["path"] for h in document["handlers"] if h["kind"] != "dependency"}


@pytest.mark.parametrize(
    ("main", "api_init", "expected"),
    [
        # included straight into the app, with a prefix
        ("from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\n"
         "app.include_router(items.router, prefix='/v1')\n", "", "/v1/items/{item_id}"),
        # through an intermediate router, each level with its own prefix
        ("from fastapi import FastAPI\nfrom api import api_router\napp = FastAPI()\n"
         "app.include_router(api_router, prefix='/api')\n",
         "from fastapi import APIRouter\nfrom api.items import router as items_router\n"
         "api_router = APIRouter(prefix='/v2')\napi_router.include_router(items_router, prefix='/shop')\n",
         "/api/v2/shop/items/{item_id}"),
        # included without a prefix: the router's own prefix only
        ("from fastapi import FastAPI\nfrom api.items import router\napp = FastAPI()\napp.include_router(router)\n",
         "", "/items/{item_id}"),
        # in an application factory, into the local application
        ("from fastapi import FastAPI\nfrom api import items\ndef create_app() -> FastAPI:\n"
         "    application = FastAPI()\n    application.include_router(items.router, prefix='/v1')\n"
         "    return application\napp = create_app()\n", "", "/v1/items/{item_id}"),
        # in a function given the application
        ("from fastapi import FastAPI\nfrom api import items\ndef register(application: FastAPI) -> None:\n"
         "    application.include_router(items.router, prefix='/v3')\napp = FastAPI()\nregister(app)\n",
         "", "/v3/items/{item_id}"),
        # included in a loop over a display in the same module: each element as if written out
        ("from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\n"
         "for module in (items,):\n    app.include_router(module.router, prefix='/api')\n",
         "", "/api/items/{item_id}"),
        ("from fastapi import APIRouter, FastAPI\nfrom api import items\nhealth_router = APIRouter()\n"
         "ROUTERS = [(health_router, ''), (items.router, '/v1')]\n"
         "def create_app() -> FastAPI:\n    application = FastAPI()\n"
         "    for router, prefix in ROUTERS:\n        application.include_router(router, prefix=prefix)\n"
         "    return application\napp = create_app()\n", "", "/v1/items/{item_id}"),
        ("from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\n"
         "for router in [items.router]:\n    app.include_router(router)\n", "", "/items/{item_id}"),
        # the (router, prefix) pairs imported from the package that assembles them
        ("from fastapi import FastAPI\nfrom api import ROUTERS\ndef create_app() -> FastAPI:\n"
         "    application = FastAPI()\n    for router, prefix in ROUTERS:\n"
         "        application.include_router(router, prefix=prefix)\n    return application\n",
         "from fastapi import APIRouter\nfrom . import items\nhealth = APIRouter()\n"
         "ROUTERS = [(health, ''), (items.router, '/v4')]\n", "/v4/items/{item_id}"),
        ("from fastapi import FastAPI\nimport api\napp = FastAPI()\n"
         "for module in api.MODULES:\n    app.include_router(module.router, prefix='/m')\n",
         "from api import items\nMODULES = (items,)\n", "/m/items/{item_id}"),
    ],
    ids=["app-prefix", "nested-routers", "no-include-prefix", "app-factory", "registering-function",
         "loop-over-modules", "factory-loop-over-router-prefix-pairs", "loop-over-routers",
         "loop-over-imported-pairs", "loop-over-imported-modules"],
)
def test_the_full_path_composes_every_prefix(cli, project, app_files, main, api_init, expected):
    root = project({**app_files, "api/__init__.py": api_init, "api/items.py": ITEMS, "main.py": main})
    for command in ("scan", "phase1"):
        assert paths(cli.json(command, root)) == {"read_item": expected}



@pytest.mark.parametrize(
    "main",
    [
        # a prefix the facts cannot evaluate
        "from fastapi import FastAPI\nfrom api import items\nPREFIX = '/v' + '1'\napp = FastAPI()\n"
        "app.include_router(items.router, prefix=PREFIX)\n",
        # the same router served under two prefixes: no single path
        "from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\n"
        "app.include_router(items.router, prefix='/v1')\napp.include_router(items.router, prefix='/v2')\n",
        # in an application factory, into a router built there with a prefix of its own
        "from fastapi import APIRouter, FastAPI\nfrom api import items\ndef create_app() -> FastAPI:\n"
        "    application = FastAPI()\n    api = APIRouter(prefix='/api')\n"
        "    api.include_router(items.router)\n    application.include_router(api)\n"
        "    return application\napp = create_app()\n",
        # two prefixes sharing their last segment: the shared part is known
        "from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\n"
        "app.include_router(items.router, prefix='/v1/shop')\napp.include_router(items.router, prefix='/v2/shop')\n",
        # included in a loop over something the analysis cannot read: which router gets the prefix is not known
        "from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\n"
        "for module in load_modules():\n    app.include_router(module.router, prefix='/api')\n",
        # a loop over a display other code extends: the display is not every router it includes
        "from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\nROUTERS = [(items.router, '/api')]\n"
        "ROUTERS.append((items.router, '/v9'))\n"
        "for router, prefix in ROUTERS:\n    app.include_router(router, prefix=prefix)\n",
        # an imported display that its module extends, or with an element the analysis cannot read
        "from fastapi import FastAPI\nfrom api import ROUTERS\napp = FastAPI()\n"
        "for router, prefix in ROUTERS:\n    app.include_router(router, prefix=prefix)\n"
        "#api\nfrom api import items\nROUTERS = [(items.router, '/api')]\nROUTERS.append((items.router, '/v9'))\n",
        "from fastapi import FastAPI\nfrom api import ROUTERS\napp = FastAPI()\n"
        "for router, prefix in ROUTERS:\n    app.include_router(router, prefix=prefix)\n"
        "#api\nfrom api import items\nMORE = []\nROUTERS = [(items.router, '/api'), *MORE]\n",
    ],
    ids=["computed-prefix", "two-prefixes", "router-built-in-factory", "two-prefixes-one-tail", "loop",
         "loop-over-a-changed-display", "loop-over-an-imported-changed-display", "loop-over-an-unread-display"],
)
def test_a_path_that_cannot_be_composed_keeps_the_tail_that_is_known(cli, project, app_files, main):
    api_init = ""
    if "from api import ROUTERS" in main:
        main, _, api_init = main.partition("#api\n")
    root = project({**app_files, "api/__init__.py": api_init, "api/items.py": ITEMS, "main.py": main})
    tail = "/shop/items/{item_id}" if "/v2/shop" in main else "/items/{item_id}"
    for command in ("scan", "phase1"):
        document = cli.json(command, root)
        assert paths(document) == {"read_item": UNKNOWN + tail}
        assert [h.get("path_incomplete") for h in document["handlers"] if h["kind"] != "dependency"] == [True]
    assert f"GET {UNKNOWN}{tail}" in cli("phase1", root).output
    report = cli.json("check", root)
    assert [(f["path"], f.get("path_incomplete")) for f in report["findings"]] == [(UNKNOWN + tail, True)]


CONTROLLER = """
from fastapi import APIRouter

from core.dependencies import session_dependency


class OrderController:
    def __init__(self) -> None:
        self.router = APIRouter(prefix="/orders")
        self.router.add_api_route("", self.list_orders, methods=["GET"])
        self.router.add_api_route("/{order_id}", self.get_order, methods=["GET"])

    async def list_orders(self, session: session_dependency):
        return session.execute("select 1").all()

    async def get_order(self, order_id: int, session: session_dependency):
        return session.execute("select 1").all()


router = OrderController().router
"""
FACTORY = """
from fastapi import APIRouter

from core.dependencies import session_dependency


def make_router() -> APIRouter:
    router = APIRouter(prefix="/orders")

    @router.get("")
    async def list_orders(session: session_dependency):
        return session.execute("select 1").all()

    @router.get("/{order_id}")
    async def get_order(order_id: int, session: session_dependency):
        return session.execute("select 1").all()

    return router


router = make_router()
"""
GIVEN = """
from fastapi import APIRouter

from core.dependencies import session_dependency


async def list_orders(session: session_dependency):
    return session.execute("select 1").all()


async def get_order(order_id: int, session: session_dependency):
    return session.execute("select 1").all()


def register(router: APIRouter) -> None:
    router.add_api_route("", list_orders, methods=["GET"])
    router.add_api_route("/{order_id}", get_order, methods=["GET"])


def make_router() -> APIRouter:
    made = APIRouter(prefix="/orders")
    register(made)
    return made


router = make_router()
"""


# "parameter": a router a function builds, handed to the function registering on its parameter
@pytest.mark.parametrize("orders", [CONTROLLER, FACTORY, GIVEN], ids=["self-router", "router-in-factory", "parameter"])
def test_routes_on_a_router_the_analysis_cannot_read_have_incomplete_paths(cli, project, app_files, orders, tmp_path):
    # FastAPI serves /orders and /orders/{order_id}: "" and "/{order_id}" as complete paths were wrong.
    main = "from fastapi import FastAPI\nfrom api import orders\napp = FastAPI()\napp.include_router(orders.router)\n"
    root = project({**app_files, "api/__init__.py": "", "api/orders.py": orders, "main.py": main})
    # The controller's own prefix is read; what includes `OrderController().router` is not.
    own = "/orders" if orders is CONTROLLER else ""
    # never "" for list_orders: what cannot be known is said, in the JSON as in the text and the report
    expected = {orders: {"list_orders": (UNKNOWN + own, True), "get_order": (f"{UNKNOWN}{own}/{{order_id}}", True)}}
    for command in ("scan", "phase1"):
        document = cli.json(command, root)
        routes = {h["function"].rsplit(".", 1)[-1]: (h["path"], h.get("path_incomplete"))
                  for h in document["handlers"] if h["kind"] == "route"}
        assert routes == expected[orders]
    assert f"(route GET {UNKNOWN}{own}/{{order_id}})" in cli("scan", root).output
    report = tmp_path / "plan.md"
    assert cli("scan", root, "--report", report).exit_code == 0
    rollout = report.read_text(encoding="utf-8").split("## Rollout priority", 1)[1].split("## Subsystems", 1)[0]
    assert f"| GET {UNKNOWN}{own} |" in rollout and f"| GET {UNKNOWN}{own}/{{order_id}} |" in rollout and "| GET |" not in rollout


def test_the_commit_message_names_the_full_path(cli, project, app_files):
    from gitrepos import commit_all, init_repo

    root = project({
        **app_files, "api/__init__.py": "", "api/items.py": ITEMS,
        "main.py": "from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\n"
                   "app.include_router(items.router, prefix='/v1')\n",
    })
    repo = init_repo(root)
    commit_all(repo, "initial")
    assert cli("phase1", root, "--apply", "--commit").exit_code == 0
    assert "read_item (GET /v1/items/{item_id})" in repo.head.commit.message


@pytest.mark.parametrize("subsystem", ["services/helpers.py", "helpers-only"])
def test_phase2_on_a_module_without_routes_is_a_usage_error(cli, project, app_files, subsystem, tmp_path):
    root = project({
        **app_files, "api/__init__.py": "", "api/items.py": ITEMS, "services/__init__.py": "",
        "services/helpers.py": "from sqlalchemy.orm import Session\n\n\ndef count(session: Session):\n"
                               "    return session.execute('select 1').scalar()\n",
        "pyproject.toml": '[tool.async-migrate.subsystems]\nhelpers-only = ["services/*.py"]\n',
    })
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    result = cli("phase2", root, "--subsystem", subsystem, "--apply")
    assert result.exit_code == 2, result.output
    assert f"subsystem {subsystem!r} has no routes" in " ".join(result.stderr.split())
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_phase2_on_a_router_module_is_not_refused(cli, project, app_files):
    root = project({**app_files, "api/__init__.py": "", "api/items.py": ITEMS})
    assert cli("phase2", root, "--subsystem", "api/items.py").exit_code == 0


def test_check_findings_carry_the_full_path(cli, project, app_files):
    root = project({
        **app_files, "api/__init__.py": "", "api/items.py": ITEMS,
        "main.py": "from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\n"
                   "app.include_router(items.router, prefix='/v1')\n",
    })
    document = cli.json("check", root)
    assert [(f["function"], f["path"]) for f in document["findings"]] == [("read_item", "/v1/items/{item_id}")]


# ------------------------------------------------------------ mounted applications

SUB_APP = """
from fastapi import FastAPI

from api import items
from core.dependencies import session_dependency

sub = FastAPI()
sub.include_router(items.router, prefix="/shop")


@sub.get("/stats")
async def stats(session: session_dependency):
    return session.execute("select 1").all()


def make_sub() -> FastAPI:
    return sub
"""
HEALTH = "\n\n@app.get('/health')\nasync def health(session: session_dependency):\n    return session.execute('select 1').all()\n"
MAIN_HEAD = "from fastapi import FastAPI\nfrom core.dependencies import session_dependency\nimport v2\n"


@pytest.mark.parametrize(
    "main",
    [
        MAIN_HEAD + "app = FastAPI()\napp.mount('/v2/', v2.sub)\n" + HEALTH,
        # in an application factory, on the local application
        MAIN_HEAD + "def create_app() -> FastAPI:\n    application = FastAPI()\n"
        "    application.mount('/v2', v2.sub)\n    return application\napp = FastAPI()\n" + HEALTH,
    ],
    ids=["module-level", "app-factory"],
)
def test_a_mounted_application_serves_its_routes_under_the_mount_path(cli, project, app_files, main):
    root = project({**app_files, "api/__init__.py": "", "api/items.py": ITEMS, "v2.py": SUB_APP, "main.py": main})
    for command in ("scan", "phase1"):
        document = cli.json(command, root)
        assert paths(document) == {"read_item": "/v2/shop/items/{item_id}", "stats": "/v2/stats", "health": "/health"}
        assert not any(h.get("path_incomplete") for h in document["handlers"])
    report = cli.json("check", root)
    assert {f["function"]: f["path"] for f in report["findings"]} == {
        "read_item": "/v2/shop/items/{item_id}", "stats": "/v2/stats", "health": "/health",
    }
    assert "stats (route GET /v2/stats)" in cli("scan", root).output


# An application factory handing the mounted application its state before mounting it, and adding
# a route to the application it builds by hand. The store into `v2.sub.state` made the module-level
# application a local of the factory, so the mount named no application and every application's
# routes lost their prefix; the route added by hand was taken for one on an unread router.
FACTORY_MAIN = (
    "from fastapi import FastAPI\nfrom core.dependencies import session_dependency\nfrom v2 import sub\n\n"
    "async def health(session: session_dependency):\n    return session.execute('select 1').all()\n\n"
    "def create_app(settings) -> FastAPI:\n    application = FastAPI()\n    application.state.settings = settings\n"
    "    sub.state.settings = application.state.settings\n"
    "    application.add_api_route('/health', health, methods=['GET'])\n"
    "    application.mount('/v2', sub)\n    return application\n"
)


def test_an_application_factory_storing_into_the_mounted_application_keeps_every_path(cli, project, app_files):
    root = project({**app_files, "api/__init__.py": "", "api/items.py": ITEMS, "v2.py": SUB_APP, "main.py": FACTORY_MAIN})
    document = cli.json("scan", root)
    assert paths(document) == {"read_item": "/v2/shop/items/{item_id}", "stats": "/v2/stats", "health": "/health"}
    assert not any(h.get("path_incomplete") for h in document["handlers"]), document["handlers"]


def test_near_miss_a_route_added_to_a_router_a_function_builds_stays_incomplete(cli, project, app_files):
    main = FACTORY_MAIN.replace("    application.add_api_route(", "    extra = APIRouter(prefix=settings.prefix)\n"
                                "    application.include_router(extra)\n    extra.add_api_route(").replace(
        "from fastapi import FastAPI", "from fastapi import APIRouter, FastAPI")
    root = project({**app_files, "api/__init__.py": "", "api/items.py": ITEMS, "v2.py": SUB_APP, "main.py": main})
    document = cli.json("scan", root)
    assert {h["function"] for h in document["handlers"] if h.get("path_incomplete")} == {"health"}


@pytest.mark.parametrize(
    "mount",
    ["PREFIX = '/v' + '2'\napp.mount(PREFIX, v2.sub)\n", "app.mount('/v2', v2.make_sub())\n"],
    ids=["computed-path", "unreadable-application"],
)
def test_an_unreadable_mount_leaves_the_mounted_paths_incomplete(cli, project, app_files, mount):
    main = MAIN_HEAD + "app = FastAPI()\n" + mount + HEALTH
    root = project({**app_files, "api/__init__.py": "", "api/items.py": ITEMS, "v2.py": SUB_APP, "main.py": main})
    document = cli.json("scan", root)
    assert paths(document) == {"read_item": UNKNOWN + "/shop/items/{item_id}", "stats": UNKNOWN + "/stats", "health": "/health"}
    incomplete = {h["function"] for h in document["handlers"] if h.get("path_incomplete")}
    assert incomplete == {"read_item", "stats"}  # the application that mounts is served at its root
    report = cli.json("check", root)
    assert {f["function"] for f in report["findings"] if f.get("path_incomplete")} == {"read_item", "stats"}


def test_near_miss_a_mount_that_is_no_application_mount_changes_no_path(cli, project, app_files):
    main = (
        "import requests\nfrom fastapi import FastAPI\nfrom fastapi.staticfiles import StaticFiles\n"
        "from api import items\n\nhttp = requests.Session()\nhttp.mount('https://', requests.adapters.HTTPAdapter())\n"
        "app = FastAPI()\napp.include_router(items.router, prefix='/v1')\n"
        "app.mount('/static', StaticFiles(directory='static'))\n"
    )
    root = project({**app_files, "api/__init__.py": "", "api/items.py": ITEMS, "main.py": main})
    document = cli.json("scan", root)
    assert paths(document) == {"read_item": "/v1/items/{item_id}"}
    assert not any(h.get("path_incomplete") for h in document["handlers"])


# A class-based setup: the router an instance holds, its routes added in `__init__`, through a
# local bound to it, and in another method; the instance included under a prefix of its own.
VIEW = """
from fastapi import APIRouter

from core.dependencies import session_dependency


class ItemsView:
    def __init__(self) -> None:
        self.router = APIRouter(prefix=PREFIX)
        router = self.router
        self.router.add_api_route("/count", self.count, methods=["GET"])

        @router.get("/one")
        async def one(session: session_dependency):
            return session.execute("select 1").all()

        self.register()

    def register(self) -> None:
        @self.router.get("/two")
        async def two(session: session_dependency):
            return session.execute("select 1").all()

    async def count(self, session: session_dependency):
        return session.execute("select 1").all()
SUBCLASS
view = ItemsView()
"""
VIEW_MAIN = "from fastapi import FastAPI\nfrom api.items import view\napp = FastAPI()\napp.include_router(view.router, prefix='/api')\n"


def served(root) -> list[str]:  # type: ignore[no-untyped-def]
    """The paths FastAPI itself serves the application's routes under (its OpenAPI schema's)."""
    script = "import json, main; print(json.dumps(sorted(main.app.openapi()['paths'])))"
    done = run_python(script, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("command", ["scan", "phase1"])
def test_a_router_an_instance_holds_resolves_its_literal_prefix(cli, project, app_files, command):
    view = VIEW.replace("PREFIX", '"/items"').replace("SUBCLASS", "")
    root = project({**app_files, "api/__init__.py": "", "api/items.py": view, "main.py": VIEW_MAIN})
    document = cli.json(command, root)
    routes = {h["function"].rsplit(".", 1)[-1]: (h["path"], h.get("path_incomplete"))
              for h in document["handlers"] if h["kind"] == "route"}
    assert routes == {
        "count": ("/api/items/count", None), "one": ("/api/items/one", None), "two": ("/api/items/two", None),
    }
    assert served(root) == ["/api/items/count", "/api/items/one", "/api/items/two"]


@pytest.mark.parametrize(
    ("prefix", "subclass"),
    [
        ("PREFIXES[0]", ""),  # not a literal
        ('"/items"', "\n\nclass OtherView(ItemsView):\n    pass\n"),  # which class's instance is included is not read
    ],
    ids=["computed-prefix", "subclassed"],
)
def test_near_miss_a_router_an_instance_holds_stays_incomplete_when_unread(cli, project, app_files, prefix, subclass):
    view = "PREFIXES = ['/items']\n" + VIEW.replace("PREFIX)", prefix + ")").replace("SUBCLASS", subclass)
    root = project({**app_files, "api/__init__.py": "", "api/items.py": view, "main.py": VIEW_MAIN})
    document = cli.json("scan", root)
    incomplete = {h["function"].rsplit(".", 1)[-1]: h.get("path_incomplete")
                  for h in document["handlers"] if h["kind"] == "route"}
    assert incomplete == {"count": True, "one": True, "two": True}
    assert served(root) == ["/api/items/count", "/api/items/one", "/api/items/two"]


def test_a_route_on_a_router_the_enclosing_function_is_given_has_an_incomplete_path(cli, project, app_files):
    # `router` is the parameter, not the module's router of the same name: its prefix is not read.
    orders = ITEMS + """

def register(router: APIRouter) -> None:
    @router.get("/{order_id}/lines")
    async def read_lines(order_id: int, session: session_dependency):
        return session.execute("select 1").all()


orders = APIRouter(prefix="/orders")
register(orders)
"""
    main = "from fastapi import FastAPI\nfrom api import items\napp = FastAPI()\napp.include_router(items.router)\n" \
        "app.include_router(items.orders, prefix='/api')\n"
    root = project({**app_files, "api/__init__.py": "", "api/items.py": orders, "main.py": main})
    document = cli.json("scan", root)
    routes = {h["function"].rsplit(".", 1)[-1]: (h["path"], h.get("path_incomplete"))
              for h in document["handlers"] if h["kind"] == "route"}
    assert routes == {"read_item": ("/items/{item_id}", None), "read_lines": (UNKNOWN + "/{order_id}/lines", True)}
    assert served(root) == ["/api/orders/{order_id}/lines", "/items/{item_id}"]


CONSTANT_PATHS = """
from fastapi import APIRouter, FastAPI

from core.dependencies import session_dependency

router = APIRouter()
BASE = "/projects/{project_id}/notes"
ONE = BASE + "/{note_id}"


@router.get(BASE)
async def list_notes(project_id: int, session: session_dependency):
    return session.execute("select 1").all()


@router.get(ONE + "/history")
async def note_history(project_id: int, note_id: int, session: session_dependency):
    return session.execute("select 1").all()


@router.get(f"{BASE}/count")
async def count_notes(project_id: int, session: session_dependency):
    return session.execute("select 1").all()


async def export_notes(project_id: int, session: session_dependency):
    return session.execute("select 1").all()


router.add_api_route(BASE + "/export", export_notes, methods=["GET"])


def make_router(BASE: str) -> APIRouter:
    made = APIRouter()

    @made.get(BASE)
    async def shadowed(session: session_dependency):
        return session.execute("select 1").all()

    return made


app = FastAPI()
app.include_router(router)
app.include_router(make_router("/elsewhere"))
"""


def test_a_path_built_from_module_level_constants_is_composed(cli, project, app_files):
    # `BASE`, `BASE + "..."` and `f"{BASE}/..."`: FastAPI serves the string they make
    root = project({**app_files, "api/__init__.py": "", "api/notes.py": CONSTANT_PATHS})
    document = cli.json("scan", root)
    assert paths(document) == {
        "make_router.<locals>.shadowed": None,  # a parameter named as the constant is not the constant
        "list_notes": "/projects/{project_id}/notes",
        "note_history": "/projects/{project_id}/notes/{note_id}/history",
        "count_notes": "/projects/{project_id}/notes/count",
        "export_notes": "/projects/{project_id}/notes/export",
    }


# One endpoint function registered on v1's router and on a mounted v2 application's, each
# `add_api_route(...)` on line 4 of its module.
SHARED = """
from core.dependencies import session_dependency


async def list_items(session: session_dependency):
    return session.execute("select 1").all()
"""
V1 = "from fastapi import APIRouter\nfrom shared import list_items\nrouter = APIRouter(prefix='/v1')\nrouter.add_api_route('/items', list_items)\n"
V2 = "from fastapi import FastAPI\nfrom shared import list_items\nsub = FastAPI()\nsub.add_api_route('/items', list_items)\n"
TWICE_MAIN = "from fastapi import FastAPI\nimport v1\nimport v2\napp = FastAPI()\napp.include_router(v1.router)\napp.mount('/v2', v2.sub)\n"


def test_an_endpoint_registered_twice_lists_each_registration_as_served(cli, project, app_files):
    root = project({**app_files, "shared.py": SHARED, "v1.py": V1, "v2.py": V2, "main.py": TWICE_MAIN})
    for command in ("scan", "phase1"):
        (found,) = [h for h in cli.json(command, root)["handlers"] if h["function"] == "list_items"]
        assert found["path"] == "/v1/items"
        assert found["paths"] == ["/v1/items", "/v2/items"]


# Class-based views registering their methods in `__init__` on the router they are handed, and
# a function doing so on its parameter (`api_route(...)` applied by hand), called at import and
# in the application factory.
HANDED = """
from fastapi import APIRouter, FastAPI

from core.dependencies import session_dependency


class DoctorView:
    def __init__(self, router: APIRouter) -> None:
        router.add_api_route("", self.list_doctors, methods=["GET"])

    async def list_doctors(self, session: session_dependency):
        return session.execute("select 1").all()


class NurseView:
    def __init__(self, target: APIRouter, label: str) -> None:
        target.add_api_route("/nurses", self.list_nurses, methods=["GET"])

    async def list_nurses(self, session: session_dependency):
        return session.execute("select 1").all()


async def list_wards(session: session_dependency):
    return session.execute("select 1").all()


def register(router: APIRouter) -> None:
    router.api_route("/wards", methods=["GET"])(list_wards)


router = APIRouter(prefix="/doctors")
staff = APIRouter(prefix="/staff")
view = DoctorView(router)
register(staff)
api = APIRouter(prefix="/api/v1")
api.include_router(router)


def create_app() -> FastAPI:
    NurseView(label="n", target=staff)
    api.include_router(staff)
    application = FastAPI()
    application.include_router(api)
    return application


app = create_app()
"""


@pytest.mark.parametrize("command", ["scan", "phase1"])
def test_routes_added_on_the_router_a_function_is_handed_compose_its_prefixes(cli, project, app_files, command):
    root = project({**app_files, "api/__init__.py": "", "api/staff.py": HANDED, "main.py": "from api.staff import app\n"})
    document = cli.json(command, root)
    routes = {h["function"].rsplit(".", 1)[-1]: (h["path"], h.get("path_incomplete"))
              for h in document["handlers"] if h["kind"] == "route"}
    assert routes == {
        "list_doctors": ("/api/v1/doctors", None), "list_nurses": ("/api/v1/staff/nurses", None),
        "list_wards": ("/api/v1/staff/wards", None),
    }
    assert served(root) == ["/api/v1/doctors", "/api/v1/staff/nurses", "/api/v1/staff/wards"]


@pytest.mark.parametrize(
    "change",
    [
        ("view = DoctorView(router)", "view = DoctorView(router)\nother = DoctorView(staff)"),  # two routers
        ("view = DoctorView(router)", "view = DoctorView(ROUTERS[0])"),  # no module-level router by name
    ],
    ids=["handed-two-routers", "handed-an-item"],
)
def test_near_miss_a_function_handed_no_one_router_keeps_its_path_incomplete(cli, project, app_files, change):
    handed = HANDED.replace(*change).replace("api = APIRouter", "ROUTERS = [router]\napi = APIRouter")
    root = project({**app_files, "api/__init__.py": "", "api/staff.py": handed, "main.py": "from api.staff import app\n"})
    document = cli.json("scan", root)
    routes = {h["function"].rsplit(".", 1)[-1]: (h["path"], h.get("path_incomplete"))
              for h in document["handlers"] if h["kind"] == "route"}
    assert routes["list_doctors"] == (UNKNOWN, True)
    assert routes["list_wards"] == ("/api/v1/staff/wards", None)
