"""AM310 unverified-route: a route registered by call is checked, or reported as unverified, never skipped."""

from __future__ import annotations


def _codes(cli, root, function):  # type: ignore[no-untyped-def]
    return [f["code"] for f in cli.json("check", root)["findings"] if f["function"] == function]


def test_an_endpoint_the_analysis_cannot_resolve_is_an_unverified_route(app, cli):
    root = app(
        """
        from sqlalchemy import select


        def build_handlers():
            async def list_items(db: session_dependency):
                return db.scalars(select(1)).all()

            return {"list": list_items}


        handlers = build_handlers()
        router.add_api_route("/items", handlers["list"], methods=["GET"])
        """
    )
    document = cli.json("check", root)
    found = [f for f in document["findings"] if f["code"] == "AM310"]
    assert len(found) == 1, document["findings"]
    assert found[0]["file"] == "api/items.py"
    assert found[0]["line"] == 19
    assert found[0]["function"] == 'handlers["list"]'
    assert "cannot resolve to a project function" in found[0]["message"]
    assert "`/items`" in found[0]["message"]
    assert cli("check", root).exit_code == 1


def test_near_miss_a_named_function_endpoint_is_analysed_not_unverified(app, cli):
    root = app(
        """
        async def health():
            return {"ok": True}


        router.add_api_route("/health", health, methods=["GET"])
        """
    )
    document = cli.json("check", root)
    assert document["findings"] == []
    assert cli("check", root).exit_code == 0


def test_a_pragma_on_the_registration_acknowledges_it(app, cli):
    root = app(
        """
        handlers = {}
        # async-migrate: ignore[AM310] built by the plugin loader, which offloads its Session work
        router.add_api_route("/items", handlers["list"], methods=["GET"])
        """
    )
    document = cli.json("check", root)
    assert document["findings"] == []
    assert [s["code"] for s in document["silenced"]] == ["AM310"]
    assert cli("check", root).exit_code == 0


def test_a_pragma_without_reason_on_the_registration_is_a_bad_pragma(app, cli):
    root = app(
        """
        handlers = {}
        router.add_api_route("/items", handlers["list"])  # async-migrate: ignore[AM310]
        """
    )
    assert [f["code"] for f in cli.json("check", root)["findings"]] == ["AM303"]


def test_bound_methods_and_partials_resolve_to_their_functions(app, cli):
    root = app(
        """
        from functools import partial

        from sqlalchemy import select


        class StockEndpoints:
            def __init__(self, router) -> None:
                router.add_api_route("/{product_id}", self.level, methods=["GET"])

            async def level(self, product_id: int, db: session_dependency):
                return db.scalars(select(1)).all()


        StockEndpoints(router)


        class ItemView:
            async def list_items(self, db: session_dependency):
                return db.scalars(select(1)).all()


        view = ItemView()
        router.add_api_route("/view/items", view.list_items, methods=["GET"])


        async def by_name(name: str, db: session_dependency):
            return db.scalars(select(1)).all()


        router.add_api_route("/exists", partial(by_name, "x"), methods=["GET"])
        """
    )
    findings = cli.json("check", root)["findings"]
    assert sorted((f["function"], f["code"]) for f in findings) == [
        ("ItemView.list_items", "AM301"),
        ("StockEndpoints.level", "AM301"),
        ("by_name", "AM301"),
    ]
    scan = {h["function"]: h for h in cli.json("scan", root)["handlers"]}
    assert scan["StockEndpoints.level"]["action"] == "convert"
    assert scan["ItemView.list_items"]["action"] == "convert"
    assert scan["by_name"]["action"] == "convert"


def test_a_bound_method_a_subclass_overrides_is_unverified(app, cli):
    root = app(
        """
        class Endpoints:
            def __init__(self, router) -> None:
                router.add_api_route("/level", self.level, methods=["GET"])

            async def level(self):
                return 1


        class SqlEndpoints(Endpoints):
            async def level(self, db: session_dependency):
                return db.scalars(select(1)).all()
        """
    )
    assert "self.level" in {f["function"] for f in cli.json("check", root)["findings"] if f["code"] == "AM310"}


def test_a_bound_method_awaited_by_its_class_stays_async(app, cli):
    root = app(
        """
        from sqlalchemy import select


        class StockEndpoints:
            def __init__(self, router) -> None:
                router.add_api_route("/level", self.level, methods=["GET"])
                router.add_api_route("/both", self.both, methods=["GET"])

            async def level(self, db: session_dependency):
                return db.scalars(select(1)).all()

            async def both(self, db: session_dependency):
                return await self.level(db)


        StockEndpoints(router)
        """
    )
    scan = {h["function"]: h for h in cli.json("scan", root)["handlers"]}
    assert scan["StockEndpoints.level"]["action"] == "keep"
    assert "AM113" in scan["StockEndpoints.level"]["codes"]


def test_scan_and_phase1_list_the_unverified_route(app, cli):
    root = app(
        """
        handlers = {}
        router.add_api_route("/items", handlers["list"], methods=["GET"])
        """
    )
    for command in ("scan", "phase1"):
        warnings = cli.json(command, root).get("warnings", [])
        assert any('api/items.py:9: `add_api_route(...)` registers `handlers["list"]`' in w for w in warnings), warnings


def test_a_module_level_partial_and_a_callable_instance_resolve(app, cli):
    root = app(
        """
        from functools import partial

        from sqlalchemy import select


        async def by_name(name: str, db: session_dependency):
            return db.scalars(select(1)).all()


        class Counter:
            async def __call__(self, db: session_dependency):
                return db.scalars(select(1)).all()


        exists = partial(by_name, "x")
        counter = Counter()
        router.add_api_route("/exists", exists, methods=["GET"])
        router.add_api_route("/count", counter, methods=["GET"])
        """
    )
    findings = cli.json("check", root)["findings"]
    assert sorted((f["function"], f["code"]) for f in findings) == [
        ("Counter.__call__", "AM301"),
        ("by_name", "AM301"),
    ]


def test_a_route_decorator_applied_by_hand_is_a_registration(app, cli):
    root = app(
        """
        from sqlalchemy import select


        async def list_items(db: session_dependency):
            return db.scalars(select(1)).all()


        class Views:
            def __init__(self, router) -> None:
                router.get("/level")(self.level)

            async def level(self, db: session_dependency):
                return db.scalars(select(1)).all()


        router.get("/items")(list_items)
        router.api_route("/other", methods=["GET"])(lambda: 1)
        Views(router)
        """
    )
    findings = cli.json("check", root)["findings"]
    assert sorted((f["function"], f["code"]) for f in findings) == [
        ("Views.level", "AM301"),
        ("lambda: 1", "AM310"),
        ("list_items", "AM301"),
    ]


def test_near_miss_a_mapping_lookup_called_is_no_route(app, cli):
    root = app(
        """
        async def health():
            return 1


        handlers = {"k": print}
        handlers.get("k")("x")
        router.get("/health")(health)
        """
    )
    assert cli.json("check", root)["findings"] == []
    routes = [h["function"] for h in cli.json("scan", root)["handlers"] if h["kind"] == "route"]
    assert routes == ["health"]


def test_a_function_a_router_factory_defines_and_registers_is_analysed(app, cli):
    root = app(
        """
        from fastapi import APIRouter
        from sqlalchemy import select


        def make_router() -> APIRouter:
            built = APIRouter()

            async def health(db: session_dependency):
                return db.scalars(select(1)).all()

            async def also_called(db: session_dependency):
                return db.scalars(select(1)).all()

            async def wrapper(db: session_dependency):
                return await also_called(db)

            handler = pick()
            built.add_api_route("/health", health)
            built.add_api_route("/called", also_called)
            built.add_api_route("/picked", handler)
            return built
        """
    )
    findings = cli.json("check", root)["findings"]
    assert sorted((f["function"], f["code"]) for f in findings) == [
        ("handler", "AM310"),
        ("make_router.<locals>.also_called", "AM301"),
        ("make_router.<locals>.health", "AM301"),
    ]
    scan = {h["function"]: h for h in cli.json("phase1", root)["handlers"]}
    assert scan["make_router.<locals>.health"]["action"] == "convert"
    # awaited by `wrapper` beside it in the factory: as `def` that await would fail
    assert scan["make_router.<locals>.also_called"]["codes"][0] == "AM113"


LOOPED = """
from sqlalchemy import text


async def a(db: session_dependency):
    return db.execute(text("select 1")).scalar_one()


async def b(db: session_dependency):
    return db.execute(text("select 2")).scalar_one()


{loop}
"""


def _looped(app, loop):  # type: ignore[no-untyped-def]
    import textwrap

    return app(LOOPED.replace("{loop}", textwrap.dedent(loop).strip("\n")))


def test_endpoints_a_loop_registers_from_a_literal_display_are_routes_with_their_paths(app, cli):
    for loop in (
        """
        for path, fn in [("/a", a), ("/b", b)]:
            router.add_api_route(path, fn, methods=["GET"])
        """,
        """
        ROUTES = {"/a": a, "/b": b}


        def register():
            for path, fn in ROUTES.items():
                router.add_api_route(path, fn, methods=["GET"])
        """,
    ):
        root = _looped(app, loop)
        scanned = {h["function"]: h for h in cli.json("scan", root)["handlers"]}
        assert {"a", "b"} <= set(scanned), scanned
        assert (scanned["a"]["path"], scanned["b"]["path"]) == ("/a", "/b"), scanned
        document = cli.json("check", root)
        assert {(f["code"], f["function"]) for f in document["findings"]} >= {("AM301", "a"), ("AM301", "b")}
        assert cli("check", root).exit_code == 1


def test_a_loop_over_what_the_analysis_cannot_read_is_an_unverified_route(app, cli):
    for loop in (
        """
            def load():
                return [("/a", a), ("/b", b)]


            for path, fn in load():
                router.add_api_route(path, fn, methods=["GET"])
        """,
        """
            ROUTES = {"/a": a}
            ROUTES["/b"] = b
            for p, f in ROUTES.items():
                router.add_api_route(p, f)
        """,
    ):
        root = _looped(app, loop)
        lines = (root / "api/items.py").read_text().splitlines()
        line = next(n for n, text in enumerate(lines, 1) if "add_api_route" in text)
        document = cli.json("check", root)
        found = [f for f in document["findings"] if f["code"] == "AM310"]
        assert [f["line"] for f in found] == [line], document["findings"]
        assert "loop variable" in found[0]["message"]
        assert cli("check", root).exit_code == 1


def test_a_method_subclasses_override_says_so_and_an_empty_path_is_the_prefix(app, cli):
    # `self.list` in the base class's __init__ runs ProductView.list on a ProductView: which one
    # a route runs depends on the instance, and the message names the overrides.
    root = app(
        """
        from fastapi import APIRouter
        from sqlalchemy import select


        class CRUDView:
            def __init__(self, prefix: str):
                self.router = APIRouter(prefix=prefix)
                self.router.add_api_route("", self.list, methods=["GET"])
                self.router.add_api_route("/one", self.one, methods=["GET"])

            async def list(self, db: session_dependency):
                return db.scalars(select(1)).all()

            async def one(self, db: session_dependency):
                return db.scalars(select(1)).first()


        class ProductView(CRUDView):
            async def list(self, db: session_dependency):
                return db.scalars(select(2)).all()


        products = ProductView("/products")
        """
    )
    document = cli.json("check", root)
    (found,) = [f for f in document["findings"] if f["code"] == "AM310"]
    assert (
        "registers `self.list` for its router's prefix, which the analysis cannot resolve to a project function "
        "(subclasses override it: ProductView.list; which one runs depends on the instance): "
    ) in found["message"]
    # near miss: `self.one`, which no subclass overrides, resolves and is checked as a route
    assert [f["code"] for f in document["findings"] if f["function"] == "CRUDView.one"] == ["AM301"]


CBV = """
import inspect
from typing import Any, Callable

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute


def cbv(router: APIRouter) -> Callable[[type], type]:
    # A hand-written class-based-view decorator: the class's routes are registered again on the
    # same router, with the instance as a dependency.
    def decorator(cls: type) -> type:
        ours = [r for r in router.routes if isinstance(r, APIRoute) and getattr(cls, r.endpoint.__name__, None) is r.endpoint]
        for route in ours:
            router.routes.remove(route)
            {register}
        return cls

    return decorator
"""
VIEWS = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cbv import cbv
from db.engine import get_db_session

{head}


@cbv(router)
class Views:
    db: Session = Depends(get_db_session)

    @router.get("/items")
    async def list_items(self):
        return self.db.scalars(select(1)).all()
"""


def test_near_miss_a_class_based_view_decorator_registering_the_routes_again_is_no_unverified_route(app, cli):
    # `route.endpoint` of `router.routes` is a route the router serves already: checked where the
    # class declares it (AM301 there), not a second time as an endpoint nobody analysed.
    root = app(
        VIEWS.format(head="from fastapi import Depends"),
        {"core/cbv.py": CBV.format(register="router.add_api_route(route.path, route.endpoint, methods=list(route.methods))")},
    )
    document = cli.json("check", root)
    assert [f["code"] for f in document["findings"]] == ["AM301"], document["findings"]
    assert document["findings"][0]["function"] == "Views.list_items"


def test_endpoints_of_another_routers_routes_stay_unverified(app, cli):
    root = app(
        VIEWS.format(head="from fastapi import Depends"),
        {"core/cbv.py": CBV.format(register="OTHER.add_api_route(route.path, route.endpoint)").replace(
            "def cbv(", "OTHER = APIRouter()\n\n\ndef cbv(")},
    )
    codes = [f["code"] for f in cli.json("check", root)["findings"]]
    assert sorted(codes) == ["AM301", "AM310"], codes


ENDPOINT_CLASSES = """
from sqlalchemy import select
from starlette.endpoints import HTTPEndpoint, WebSocketEndpoint

from db.engine import database_sessionmaker


class Counted(WebSocketEndpoint):
    encoding = "text"

    async def on_receive(self, websocket, data):
        with database_sessionmaker() as s:
            s.scalars(select(1)).all()
        await websocket.send_text(data)


class Items(HTTPEndpoint):
    async def get(self, request):
        with database_sessionmaker() as s:
            return s.scalars(select(1)).all()


class Plain:
    async def __call__(self, scope, receive, send):
        with database_sessionmaker() as s:
            s.scalars(select(1)).all()


router.add_websocket_route("/ws", Counted)
router.add_route("/items", Items)
router.add_route("/plain", Plain)
"""


def test_a_starlette_endpoint_class_runs_its_methods_as_handlers(app, cli, reported):
    # Starlette builds the class per request and awaits the methods its base dispatches to:
    # a WebSocketEndpoint's hooks run on the event loop, an HTTPEndpoint's verbs as handlers.
    root = app(ENDPOINT_CLASSES)
    findings = cli.json("check", root)["findings"]
    by_function = {(f["function"], f["code"]) for f in findings}
    assert ("Counted.on_receive", "AM301") in by_function, findings
    assert ("Items.get", "AM301") in by_function, findings
    assert [f["function"] for f in findings if f["code"] == "AM310"] == ["Plain"], findings
    assert "websocket handler" in reported(root, "Counted.on_receive")["reasons"][0]
    assert reported(root, "Items.get")["action"] == "convert"
    assert reported(root, "Counted.on_receive")["path"] == "/ws"


def test_an_endpoint_wrapped_by_a_call_of_a_project_decorator_is_an_unverified_route(app, cli):
    # `cached(count)` is the `async def` wrapper `cached` returns, which calls `count` in place on
    # the event loop: read as the wrapper alone it did no Session work, and check passed it.
    root = app(
        """
        import functools

        from sqlalchemy import text


        def cached(fn):
            @functools.wraps(fn)
            async def wrapper(*args, **kwargs):
                return fn(*args, **kwargs)
            return wrapper


        def timed(label):
            def decorate(fn):
                async def wrapper(*args, **kwargs):
                    return fn(*args, **kwargs)
                return wrapper
            return decorate


        def count(db: session_dependency):
            return db.execute(text("select 1")).scalar()


        router.add_api_route("/count", cached(count), methods=["GET"])
        router.get("/timed")(timed("t")(count))
        """
    )
    document = cli.json("check", root)
    found = sorted((f["function"], f["code"]) for f in document["findings"])
    assert found == [("cached(count)", "AM310"), ('timed("t")(count)', "AM310")], document["findings"]
    # each message names the registration as written, not the call it amounts to
    messages = {f["function"]: f["message"] for f in document["findings"]}
    assert messages["cached(count)"].startswith("`add_api_route(...)` registers `cached(count)` for `/count`")
    assert messages['timed("t")(count)'].startswith('`router.get("/timed")(...)` registers `timed("t")(count)`')
    assert cli("check", root).exit_code == 1


def test_near_miss_a_handler_factory_making_its_route_is_analysed(app, cli):
    root = app(
        """
        from sqlalchemy import text


        def make_counter(table):
            async def count(db: session_dependency):
                return db.execute(text(f"select count(*) from {table}")).scalar()
            return count


        router.add_api_route("/count", make_counter("items"), methods=["GET"])
        """
    )
    found = [(f["function"], f["code"]) for f in cli.json("check", root)["findings"]]
    assert found == [("make_counter.<locals>.count", "AM301")], found


ROUTER_CLASS = """
from typing import Any, Callable

from fastapi import APIRouter, FastAPI
from sqlalchemy import text


class AuditedRouter(APIRouter):
    def api_route(self, path: str, **kwargs: Any) -> Callable:
        def decorator(func: Callable) -> Callable:
            self.add_api_route(path, func, **kwargs)
            return func

        return decorator

    def secure_get(self, path: str) -> Callable:
        def decorator(func: Callable) -> Callable:
            self.add_api_route(path, func, methods=["GET"])
            return func

        return decorator


audited = AuditedRouter()


@audited.get("/count")
async def count(db: session_dependency):
    return db.execute(text("select 1")).scalar_one()
"""


def test_a_router_classs_own_api_route_is_no_unverified_route_and_its_routes_are_checked(app, cli):
    # `@audited.get(...)` reaches the overridden `api_route`: the route is analysed where it is
    # decorated, so the registration inside is no route of its own left unread
    secure_get = ROUTER_CLASS[ROUTER_CLASS.index("    def secure_get"):ROUTER_CLASS.index("audited = ")]
    root = app(ROUTER_CLASS.replace(secure_get, ""))
    findings = cli.json("check", root)["findings"]
    assert [f["code"] for f in findings if f["code"] == "AM310"] == [], findings
    assert [f["code"] for f in findings if f["function"] == "count"] == ["AM301"], findings


def test_a_decorator_of_another_name_registering_what_it_decorates_is_an_unverified_route(app, cli):
    found = [f for f in cli.json("check", app(ROUTER_CLASS))["findings"] if f["code"] == "AM310"]
    assert len(found) == 1, found
    assert "the function a decorator `AuditedRouter.secure_get` defines is applied to" in found[0]["message"], found
    assert "loop variable" not in found[0]["message"], found


OVERRIDDEN_ADD = """
from typing import Any, Callable

from fastapi import APIRouter
from sqlalchemy import text


class TypedRouter(APIRouter):
    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if kwargs.get("response_model") is None:
            kwargs["response_model"] = None
        return super().add_api_route(path, endpoint, **kwargs)


typed = TypedRouter()


@typed.get("/count")
async def count(db: session_dependency):
    return db.execute(text("select 1")).scalar_one()
"""


def test_a_router_classs_own_add_api_route_handing_on_its_endpoint_is_no_unverified_route(app, cli):
    # Prefect's `PrefectRouter.add_api_route` sets defaults and calls `super().add_api_route(path,
    # endpoint, **kwargs)`: every `@typed.get(...)` runs it, and the route is analysed there
    findings = cli.json("check", app(OVERRIDDEN_ADD))["findings"]
    assert [f["code"] for f in findings if f["code"] == "AM310"] == [], findings
    assert [f["code"] for f in findings if f["function"] == "count"] == ["AM301"], findings


def test_near_miss_a_method_of_another_name_handing_on_its_parameter_stays_unverified(app, cli):
    # `add_typed` is no method FastAPI runs: `return super().add_api_route(path, endpoint)` in it
    # registers what its callers hand it, which nothing here reads
    source = OVERRIDDEN_ADD.replace("def add_api_route(self", "def add_typed(self")
    found = [f for f in cli.json("check", app(source))["findings"] if f["code"] == "AM310"]
    assert len(found) == 1, found
