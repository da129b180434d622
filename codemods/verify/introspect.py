"""Run in the service's own interpreter: import the app, write its HTTP contract as JSON.

`python -c SOURCE MODULE:ATTR OUT.json`, from the application root. Standalone (standard
library, and FastAPI/SQLAlchemy as the service has them); passed with `-c` so that no
folder of the tool lands on the service's `sys.path`.

The document: `{"openapi": app.openapi(), "routes": [...], "mounts": {...}, "applications":
{...}}`, one route per (method, path) or websocket path, each with its non-Session dependency
tree (`{"call": "module.qualname", "scopes": [...], "children": [...]}`) and what it answers
beyond OpenAPI (`served`); per application (by mount path, `/` for the top one) its middleware
and exception handlers. A dependency that
provides a Session or AsyncSession is left out (phase two changes it by design); the
dependencies below it are listed in its place. A mounted FastAPI application (`app.mount("/admin", admin_app)`) is
described too: its OpenAPI under `mounts` by mount path, its routes among the others with
the mount path in front. Exit 3 when the application does not import.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import sys
import traceback
import typing


def _session_classes() -> tuple[type, ...]:
    found: list[type] = []
    try:
        from sqlalchemy.orm import Session

        found.append(Session)
    except ImportError:
        pass
    try:
        from sqlalchemy.ext.asyncio import AsyncSession

        found.append(AsyncSession)
    except ImportError:
        pass
    return tuple(found)


SESSIONS = _session_classes()
# The Session dependencies the static analysis found (`module.qualname`, one a line), for those no
# annotation shows: `def get_db(): db = SessionLocal(); yield db` hands out a Session only at run time.
KNOWN_PROVIDERS = frozenset(filter(None, os.environ.get("ASYNC_MIGRATE_SESSION_DEPENDENCIES", "").splitlines()))


def _is_session_type(hint: object, depth: int = 0) -> bool:
    """A Session type, or Annotated/Optional/Iterator/Generator of one."""
    if depth > 5 or hint is None:
        return False
    if isinstance(hint, type):
        return bool(SESSIONS) and issubclass(hint, SESSIONS)
    return any(_is_session_type(arg, depth + 1) for arg in typing.get_args(hint))


_GUARDED: dict[str, dict[str, object]] = {}


def _guarded_names(function: object) -> dict[str, object]:
    """The names the function's module imports only under `if TYPE_CHECKING:` (`from
    sqlalchemy.orm import Session` there, `db: "Session"` on the function), imported now, so that
    its annotations resolve; none when its source cannot be read."""
    module_name = getattr(inspect.unwrap(function), "__module__", None) if callable(function) else None
    if not module_name:
        return {}
    if module_name in _GUARDED:
        return _GUARDED[module_name]
    found: dict[str, object] = {}
    _GUARDED[module_name] = found
    module = sys.modules.get(module_name)
    try:
        import ast

        tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    except Exception:
        return found
    for statement in tree.body:
        if not isinstance(statement, ast.If):
            continue
        test = statement.test
        if not (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") and not (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            continue
        imports = [s for s in statement.body if isinstance(s, (ast.Import, ast.ImportFrom))]
        namespace: dict[str, object] = {"__name__": module_name, "__package__": getattr(module, "__package__", None)}
        for one in imports:
            try:
                exec(compile(ast.Module(body=[one], type_ignores=[]), "<TYPE_CHECKING>", "exec"), namespace)
            except Exception:
                continue
        found.update({k: v for k, v in namespace.items() if not k.startswith("__")})
    return found


def _hints(function: object) -> dict[str, object]:
    try:
        return typing.get_type_hints(function, include_extras=True)
    except Exception:
        pass
    guarded = _guarded_names(function)
    if guarded:
        try:
            return typing.get_type_hints(function, localns=guarded, include_extras=True)
        except Exception:
            pass
    return getattr(function, "__annotations__", {}) or {}


def _provides_session(call: object, parent: object, name: str | None) -> bool:
    if call is None:
        return False
    target = typing.cast(typing.Any, call).__init__ if isinstance(call, type) else getattr(type(call), "__call__", call)  # noqa: B004 (the method itself, not a callable test)
    if isinstance(call, type) and SESSIONS and issubclass(call, SESSIONS):
        return True
    if KNOWN_PROVIDERS and _name(call) in KNOWN_PROVIDERS:
        return True
    for function in (call, target):
        hints = _hints(function)
        if _is_session_type(hints.get("return")):
            return True
    while isinstance(parent, functools.partial):  # `Depends(partial(get_repo, User))`: get_repo's parameters
        parent = parent.func
    if parent is not None and name:
        # The parameter is declared on what FastAPI calls: a class's `__init__` (`Depends(ItemService)`),
        # a callable instance's `__call__` (`Depends(RoleChecker("admin"))`), or the function itself.
        if isinstance(parent, type):
            parent = typing.cast(typing.Any, parent).__init__
        elif not inspect.isroutine(parent) and callable(parent):
            parent = type(parent).__call__  # noqa: B004 (the method itself, not a callable test)
        hints = _hints(parent)
        if _is_session_type(hints.get(name)):
            return True
    return False


def _name(call: object) -> str:
    if call is None:
        return "?"
    if inspect.isfunction(call) or inspect.ismethod(call) or isinstance(call, type):
        function = inspect.unwrap(call) if not isinstance(call, type) else call
        return f"{function.__module__}.{function.__qualname__}"
    kind = type(call)
    return f"{kind.__module__}.{kind.__qualname__}()"  # a callable instance


def _coroutine(endpoint: object) -> bool | None:
    """Whether FastAPI runs the endpoint on the event loop (`async def`, or an instance whose
    `__call__` is one) rather than in its threadpool; None for no endpoint."""
    if endpoint is None:
        return None
    # as FastAPI judges it: the endpoint as registered, not what a decorator wraps
    if inspect.iscoroutinefunction(endpoint):
        return True
    if inspect.isfunction(endpoint) or inspect.ismethod(endpoint) or inspect.isclass(endpoint):
        return False
    return inspect.iscoroutinefunction(getattr(endpoint, "__call__", None))  # noqa: B004 (its method, not callability)


def _tree(dependant: object, parent: object) -> list[dict]:
    children = []
    for sub in getattr(dependant, "dependencies", []) or []:
        call = getattr(sub, "call", None)
        if _provides_session(call, parent, getattr(sub, "name", None)):
            # The Session dependency itself changes in phase two; what it depends on (an auth
            # check guarding a tenant's or an admin's Session) is still the route's.
            children.extend(_tree(sub, call))
            continue
        children.append(
            {
                "call": _name(call),
                "scopes": sorted(getattr(sub, "security_scopes", None) or getattr(sub, "scopes", None) or []),
                "children": _tree(sub, call),
            }
        )
    return children


def _flat_routes(app: object) -> list[tuple[object, str | None, object]]:
    """Each route as served: the route, its full path and its dependant (prefixes and
    router-level dependencies applied)."""
    routes = list(getattr(app, "routes", []))
    fastapi_routing = sys.modules.get("fastapi.routing")
    # FastAPI >= 0.13x keeps included routers as nodes: the route object keeps the path and
    # dependencies it was declared with, its context those it is served with.
    with_context = getattr(fastapi_routing, "_iter_routes_with_context", None)
    if with_context is not None:
        found: list[tuple[object, str | None, object]] = []
        for route, context in with_context(routes):
            served = getattr(context, "starlette_route", None) if context is not None else None
            if served is not None:
                route = served
            elif context is not None and getattr(context, "path", None):
                found.append((route, context.path, getattr(context, "dependant", None) or getattr(route, "dependant", None)))
                continue
            found.append((route, _path(route), getattr(route, "dependant", None)))
        return found
    flatten = getattr(fastapi_routing, "_iter_included_route_candidates", None)
    flat = list(flatten(routes)) if flatten is not None else routes
    return [(route, _path(route), getattr(route, "dependant", None)) for route in flat]


def _path(route: object) -> str | None:
    return getattr(route, "path", None) or getattr(route, "path_format", None)


def _mounted_application(route: object) -> typing.Any:
    """The FastAPI application a `Mount` serves (`app.mount("/admin", admin_app)`), or None."""
    sub = getattr(route, "app", None)
    if type(route).__name__ != "Mount" or sub is None:
        return None
    return sub if hasattr(sub, "openapi") and hasattr(sub, "routes") else None


def _served(route: object) -> dict:
    """How an APIRoute answers beyond what OpenAPI shows (a route left out of the schema has
    none): the status code and response class, and what the response model leaves out of the
    payload."""
    if type(route).__name__ != "APIRoute" and not hasattr(route, "response_model_exclude_none"):
        return {}
    found: dict[str, typing.Any] = {"status code": getattr(route, "status_code", None)}
    response_class = getattr(route, "response_class", None)
    found["response class"] = _name(getattr(response_class, "value", response_class))
    for attribute in ("include", "exclude", "exclude_unset", "exclude_defaults", "exclude_none", "by_alias"):
        value = getattr(route, f"response_model_{attribute}", None)
        found[f"response_model_{attribute}"] = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
    return {key: value if isinstance(value, (str, int, bool, list, type(None))) else repr(value)
            for key, value in found.items()}


def _application(app: typing.Any) -> dict:
    """What the application does around every route: its middleware in order (class, and the
    function a `@app.middleware("http")` dispatches to; option values are left out, they may hold
    secrets) and its exception handlers (what a raised exception answers)."""
    middleware = []
    for entry in getattr(app, "user_middleware", None) or []:
        cls = getattr(entry, "cls", None)
        options = getattr(entry, "kwargs", None) or getattr(entry, "options", None) or {}
        named = [f"{key}={_name(value)}" for key, value in sorted(options.items()) if callable(value)]
        named += [key for key, value in sorted(options.items()) if not callable(value)]
        middleware.append(_name(cls) + (f"({', '.join(named)})" if named else ""))
    handlers = {}
    for key, handler in (getattr(app, "exception_handlers", None) or {}).items():
        handlers[str(key) if isinstance(key, int) else _name(key)] = _name(handler)
    return {"middleware": middleware, "exception handlers": handlers}


def describe(app: typing.Any, prefix: str = "") -> dict:
    """The contract; a mounted FastAPI application's OpenAPI goes under `mounts` (by its full
    mount path) and its routes, with the mount path in front, beside the application's own."""
    routes = []
    mounts: dict[str, typing.Any] = {}
    applications = {prefix or "/": _application(app)}
    for route, path, dependant in _flat_routes(app):
        sub = _mounted_application(route)
        if sub is not None:
            inner = describe(sub, prefix + (path or ""))
            mounts[prefix + (path or "")] = inner["openapi"]
            mounts.update(inner["mounts"])
            routes.extend(inner["routes"])
            applications.update(inner["applications"])
            continue
        if path is not None:
            path = prefix + path
        kind = type(route).__name__
        endpoint = getattr(route, "endpoint", None)
        methods = sorted(getattr(route, "methods", None) or []) or (["WEBSOCKET"] if "WebSocket" in kind else [kind])
        for method in methods:
            routes.append(
                {
                    "method": method,
                    "path": path,
                    "kind": kind,
                    "endpoint": _name(endpoint) if endpoint is not None else None,
                    "coroutine": _coroutine(endpoint),
                    "dependencies": _tree(dependant, endpoint) if dependant is not None else [],
                    "served": _served(route),
                }
            )
    return {"openapi": app.openapi(), "routes": routes, "mounts": mounts, "applications": applications}


def _applications(module: object) -> list[str]:
    found = []
    for name, value in list(vars(module).items()):
        try:
            if not isinstance(value, type) and hasattr(value, "openapi") and hasattr(value, "routes"):
                found.append(name)
        except Exception:
            continue
    return found


def main(argv: list[str]) -> int:
    spec, out = argv[1], argv[2]
    sys.path.insert(0, os.getcwd())
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except BaseException as error:  # the service's own import error, whatever it is
        missing = getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            sys.stderr.write(f"no module named {missing!r} in {os.getcwd()}\n")
            return 3
        # The service's frames only: this script's own say nothing about what failed.
        frames = error.__traceback__.tb_next if error.__traceback__ is not None else None
        sys.stderr.write("".join(traceback.format_exception(type(error), error, frames)))
        return 3
    app: typing.Any = module
    for depth, part in enumerate(attribute.split(".")):
        try:
            app = getattr(app, part)
        except Exception:
            owner = ".".join([module_name, *attribute.split(".")[:depth]])
            apps = _applications(module) if depth == 0 else []
            there = f" (applications in it: {', '.join(apps)})" if apps else ""
            sys.stderr.write(f"{owner} has no attribute {part!r}{there}\n")
            return 3
    if not hasattr(app, "openapi") or not hasattr(app, "routes"):
        hint = ""
        if callable(app) and not isinstance(app, type):
            # uvicorn's --factory has no counterpart: the tests and the server need the object.
            hint = (": for an application factory, point --app at an application it builds "
                    f"(app = {attribute}() in a module, e.g. asgi.py, and --app asgi:app)")
        sys.stderr.write(f"{spec} is a {type(app).__name__}, not a FastAPI application{hint}\n")
        return 3
    document = describe(app)
    # Where the top-level package came from: the caller checks it is this side's own checkout.
    head = sys.modules.get(module_name.split(".")[0])
    head_spec = getattr(head, "__spec__", None)
    if head_spec is not None and head_spec.origin not in (None, "namespace"):
        document["origin"] = head_spec.origin
    elif head_spec is not None and head_spec.submodule_search_locations:
        document["origin"] = list(head_spec.submodule_search_locations)[0]
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(document, handle, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
