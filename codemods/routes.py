"""A route's full path: its router's `APIRouter(prefix=...)` and every `include_router(..., prefix=...)`
above it, composed as FastAPI composes them, and the path of an `app.mount("/v2", sub_app)` in
front of a mounted application's routes.

A prefix that is not a string literal, a router included with different prefixes, or an
include into a router built inside a function leaves the path as the decorator wrote it
(`None` from `full_path`); includes in an application factory (`create_app()`) compose, and
so do those in a loop over a module-level display of routers, or of (router, prefix) pairs,
in the same module or imported (`for router, prefix in ROUTERS: app.include_router(router, prefix=prefix)`).
A router a factory builds from its prefix parameter and returns (`make_router("/users", User)`
included, or kept in a module-level name that is) is served at the literal each call hands it,
or the parameter's string default: a path per call. A route on the application a factory builds (`def create_app(): app = FastAPI()`,
`@app.get("/health")`) is served at that application's root.

A router an instance holds (`self.router = APIRouter(prefix="/x")` in a method, routes added
on `self.router` or a local bound to it) composes like a module-level one, included as
`view.router` for a module-level `view = View()`; where the class has project bases or
subclasses, or sets the attribute more than once, its paths stay incomplete. `DoctorView(router)`
handing the router to register on: `passed_routers.py`.

Over 500 lines: one class, whose prefix walk every path reads (includes, mounts, factories, the
routers instances hold), and which `may_serve_under`/`above` share with the router dependencies.
"""

from __future__ import annotations

import os

from async_migrate.codemods import facts, prefix_values
from async_migrate.codemods.passed_routers import passed_router
from async_migrate.codemods.project import Handler, Project, Registration
from async_migrate.codemods.vocabulary.fastapi import APPLICATION_TYPES
from async_migrate.codemods.vocabulary.fastapi import INCLUDE_ROUTER as INCLUDE
from async_migrate.codemods.vocabulary.python import PLAIN_BASES
from async_migrate.codemods.vocabulary.starlette import MOUNT


class Routes:
    """Full paths for one project; prefixes are read once per router."""

    def __init__(self, project: Project) -> None:
        self.project = project
        # canonical router reference -> [(canonical parent reference or None, prefix or None)]
        self.includes: dict[str, list[tuple[str | None, str | None]]] = {}
        # `for module in (...): app.include_router(module.router, prefix="/api")`: some router is
        # included under a prefix, and the analysis cannot tell which.
        self.unknown_include = False
        # The routers (None: one the analysis cannot name) into which such an include adds what
        # it cannot read: a router a function builds (`include_router(make_router(...))`) is
        # served only there.
        self.unread_parents: set[str | None] = set()
        # `app.mount("/v2", make_v2())`: some application is served under a path, and the
        # analysis cannot tell which; the applications that mount others are not it.
        self.unknown_mount = False
        self.mounting: set[str | None] = set()
        for module in project.modules.values():
            for added in module.registrations:
                if added.attr == MOUNT:
                    self._mount(added)
                    continue
                if added.attr != INCLUDE:
                    continue
                if added.looped is not None and not project.changed_source(added):
                    included = self.looped(added.looped)
                    if included is not None:
                        parent = self._canonical(added.base)
                        for router, prefix in included:
                            self.includes.setdefault(router, []).append((parent, prefix))
                        continue
                child = self._canonical(added.endpoint) if added.endpoint is not None else None
                if child is not None and added.sources and project.changed_source(added):
                    # `for router, prefix in ROUTERS:` over a display other code changes: the
                    # display is not every router (and prefix) the loop includes.
                    self.unknown_include = True
                    self.includes.setdefault(child, []).append((self._canonical(added.base), None))
                elif child is not None:
                    self.includes.setdefault(child, []).append((self._canonical(added.base), added.path))
                else:
                    self.unknown_include = True
                    self.unread_parents.add(self._canonical(added.base) if added.base is not None else None)
        self._prefixes: dict[str, frozenset[str] | None] = {}
        self._changing: dict[str, bool] = {}

    def looped(self, looped: facts.LoopInclude) -> list[tuple[str, str | None]] | None:
        """(router, prefix) for each element of the display another module's loop includes
        (`for router, prefix in ROUTERS:` with `ROUTERS` imported), or None where the display or
        one of its routers cannot be read."""
        home = self.project.containers.home(looped.over)
        module = self.project.modules.get(home[0]) if home is not None else None
        rows = module.rows.get(home[1]) if module is not None and home is not None else None
        if rows is None:
            return None
        found: list[tuple[str, str | None]] = []
        for row in rows:
            if looped.router_at == -1:
                if len(row.refs) != 1:
                    return None  # `for router in ROUTERS` over tuples: no router
                ref = row.refs[0]
            elif looped.router_at < len(row.refs):
                ref = row.refs[looped.router_at]
            else:
                return None
            child = self._canonical(".".join([ref, *looped.attributes])) if ref is not None else None
            if child is None:
                return None
            if looped.prefix_at is None:
                prefix = looped.prefix
            elif looped.prefix_at < len(row.strings) and len(row.strings) == len(row.refs):
                prefix = row.strings[looped.prefix_at]
            else:
                return None
            found.append((child, prefix))
        return found

    def _mount(self, added: facts.Registration) -> None:
        """A mounted application's routes are served under the mount's path, as an included
        router's are under its prefix. Only mounts on an application count (base None: the
        application a factory builds); `requests.Session().mount(...)` is no route."""
        if added.base is not None and not self._application(added.base):
            return
        parent = self._canonical(added.base) if added.base is not None else None
        self.mounting.add(parent)
        child = self._canonical(added.endpoint) if added.endpoint is not None else None
        if child is not None:
            self.includes.setdefault(child, []).append((parent, added.path))
        elif not self._external(added.endpoint):
            self.unknown_mount = True

    def _external(self, ref: str | None) -> bool:
        """A third-party application (`StaticFiles(...)` is a call, `some_lib.app` a name): no project routes."""
        target = self.project.resolve(ref)
        return target is not None and target.kind == "external"

    def _canonical(self, ref: str | None) -> str | None:
        target = self.project.resolve(ref)
        if target is None or target.kind != "value":
            return self._instance_router(ref)
        return target.ref

    def _instance_router(self, ref: str | None) -> str | None:
        """`api.items.view.router`, for `view = ItemsView()` at module level: the router the
        class's instances hold, as `Decorator.held` names it (`api.items.ItemsView.router`)."""
        owner, _, attribute = (ref or "").rpartition(".")
        made = self.project.resolve(owner) if owner else None
        if made is None or made.kind != "value" or made.value is None or made.value.kind != "call":
            return None
        cls = self.project.flow.classes.resolve(made.value.ref)
        held = f"{cls}.{attribute}" if cls is not None else None
        return held if held is not None and self._held(held) is not None else None

    def _held(self, held: str) -> facts.Value | None:
        """The router construction `self.attribute = APIRouter(...)` of a `held` reference
        (`module.Class.attribute`), or None where it cannot be read: the attribute set more
        than once or not by a router's construction, or a class with project bases or
        subclasses (which instance, and whose methods set it, the analysis does not follow)."""
        classes = self.project.flow.classes
        ref, _, attribute = held.rpartition(".")
        found = classes.by_ref.get(ref)
        if found is None or classes.subclasses(ref):
            return None
        cls = found[1]
        if any(self.project.canonical(base) not in PLAIN_BASES for base in cls.bases):
            return None
        value = cls.held.get(attribute)
        return value if value is not None and self.project.is_router_type(value.ref) else None

    def router_ref(self, ref: str | None) -> str | None:
        """The canonical reference of a router as an include names it: a module-level router's,
        or `module.Class.router` for `instance.router` of a module-level instance; None."""
        return self._canonical(ref)

    def may_serve_under(self, registration: Registration, router: str) -> bool:
        """Whether the routes a registration adds may be served under `router` (a module-level
        router's reference): registered on it or on a router included in it, at any depth. A
        router the index cannot resolve, or one an `include_router(...)` the index cannot read
        may include, may be (conservative). A router an instance builds itself
        (`self.router = APIRouter()`) is followed through the includes of that instance's router."""
        start = self._canonical(registration.base) if registration.base is not None else None
        if start is None and registration.decorator is not None and registration.decorator.held is not None:
            start = registration.decorator.held if self._held(registration.decorator.held) is not None else None
        elif start is None and registration.held is not None:
            start = registration.held if self._held(registration.held) is not None else None
        target = self._canonical(router) or router
        if start is None and self._built_in_function(registration):
            # Distinct from every module-level router, whatever its name: served only where an
            # include the analysis cannot read adds it, as the function's result or a local.
            return any(parent is None or self._reaches(parent, target) for parent in self.unread_parents)
        if start is None:
            return True
        return self._reaches(start, target)

    def _built_in_function(self, registration: Registration) -> bool:
        """`@router.get(...)` on a router the enclosing function builds (`router = APIRouter()` in
        a router factory), not on a parameter or a name the analysis cannot place."""
        made = registration.made_router
        return made is not None and self.project.is_router_type(made[0])

    def _reaches(self, start: str, target: str) -> bool:
        """Whether routes on the router `start` may be served under `target`: it is `target`, or
        included in it at any depth, or in a router the analysis cannot read the includes of."""
        queue, seen = [start], set()
        while queue:
            current = queue.pop()
            if current == target:
                return True
            if current in seen:
                continue
            seen.add(current)
            above = self.includes.get(current)
            if above is None:
                if self.unknown_include and not self._application(current):
                    return True  # an unreadable include_router(...) may include it
                continue
            for parent, _ in above:
                if parent is None:  # included by a router the index cannot name
                    if self.unknown_include:
                        return True
                    continue
                queue.append(parent)
        return False

    def above(self, registration: Registration) -> list[str]:
        """The routers a registration's routes are served under, as far as the index reads them:
        the module-level router it registers on, then every router including that one (read from
        `include_router(...)` calls naming both), nearest first. Empty when the router is not a
        module-level one the index resolves; an include the index cannot read adds nothing."""
        start = self._canonical(registration.base) if registration.base is not None else None
        if start is None:
            return []
        found = [start]
        for current in found:
            for parent, _ in self.includes.get(current, ()):
                if parent is not None and parent not in found:
                    found.append(parent)
        return found

    def _application(self, router: str) -> bool:
        """Whether the value is the application itself (`app = FastAPI()`, or `app = create_app()`
        for a factory returning the application it builds), which nothing includes."""
        target = self.project.resolve(router)
        if target is None or target.value is None or target.value.kind != "call":
            return False
        made = self.project.canonical(target.value.ref) or ""
        return made in APPLICATION_TYPES or self._builds_application(made)

    def _builds_application(self, ref: str) -> bool:
        """Whether `ref` is a project function returning the one local an application
        construction binds (`def create_app(): app = FastAPI(); ...; return app`)."""
        found = self.project.function(ref)
        if found is None or len(found[1].returned) != 1 or not found[1].returned[0].startswith("$"):
            return False
        function, local = found[1], found[1].returned[0][1:]
        bindings = [b for b in function.bindings if b.name == local]
        return len(bindings) == 1 and any(
            c.line == bindings[0].line and (self.project.canonical(c.callee) or "") in APPLICATION_TYPES
            for c in function.calls
        )

    def _factory_application(self, handler: Handler) -> frozenset[str] | None:
        """The prefixes a route on the application its enclosing factory builds is served under
        (`def create_app(): app = FastAPI()` then `@app.get("/health")`): those of the
        module-level names bound to a call of the factory (`app = create_app()`: its root;
        `v2 = create_app()` mounted at "/v2": "/v2"), the root where none is (`uvicorn
        --factory`). None where a mount the analysis cannot read may serve it, or the factory is
        no module-level function."""
        owner = handler.function.qualname.rpartition(".<locals>.")[0]
        if not owner or "." in owner or (self.unknown_mount and None not in self.mounting):
            return None
        ref = f"{handler.module.name}.{owner}"
        found: set[str] = set()
        for module in self.project.modules.values():
            for name, value in module.values.items():
                if value.kind == "call" and self.project.canonical(value.ref) == ref:
                    above = self.prefixes(f"{module.name}.{name}")
                    if above is None:
                        return None
                    found |= above
        return frozenset(found or {""})

    def _own_prefix(self, router: str) -> str | None:
        """`prefix=` of the router's own construction: "" when absent, None when not known."""
        target = self.project.resolve(router)
        value = target.value if target is not None else self._held(router)
        if value is None or value.kind != "call":
            return ""
        return self._made_prefix(value)

    def _made_prefix(self, value: facts.Value) -> str | None:
        """The prefix of the router a call makes: a router type's literal `prefix=` ("" when
        absent), what a project factory returning the router it builds gives it for the call's
        arguments (`make_router("books")` of `APIRouter(prefix=f"/{name}")`: "/books"); "" for an
        application. None where that cannot be known: not a literal, `**` handed on, a project
        `APIRouter` subclass one of whose methods touches the prefix (`kw["prefix"] = "/v1" + ...`
        in `__init__`), a call of something else (a classmethod, a library function; a library
        class's construction is read as a router type's)."""
        made = self.project.canonical(value.ref) or ""
        if made in APPLICATION_TYPES:
            return ""
        if self.project.is_router_type(value.ref):
            return None if self._changes_prefix(value.ref) else self._keyword_prefix(value)
        found = self.project.function(value.ref)
        if found is None and (made or value.ref or "").rpartition(".")[2][:1].isupper():
            # A library's router class (`InferringRouter(prefix="/x")`): its own `prefix=`.
            return self._keyword_prefix(value)
        if found is None:
            return None  # what a library function (or a name the index cannot resolve) returns
        function = found[1]
        if self._builds_application(made) or any(
            (self.project.canonical(ref) or "") in APPLICATION_TYPES for ref in function.returns
        ):
            return ""
        built = self._built_router(function)
        if built is None or "." in function.qualname:  # a method: `cls`/`self` shifts the arguments
            return None
        return prefix_values.evaluate(built, value, function.params)

    def _keyword_prefix(self, value: facts.Value) -> str | None:
        """The literal `prefix=` of a construction, "" when absent; None when not a literal or `**`."""
        if any(a.keyword == "**" for a in value.args):
            return None
        given = [a for a in value.args if a.keyword == "prefix"]
        return prefix_values.literal(given[0].text) if given else ""

    def _built_router(self, function: facts.Function) -> str | None:
        """The prefix expression (as written; '""' when absent) of the router a function builds in
        one local and returns (`r = APIRouter(prefix=f"/{name}")` ... `return r`); None where it
        returns something else, builds it with `**`, or touches a prefix otherwise."""
        if len(function.returned) != 1 or not function.returned[0].startswith("$"):
            return None
        local = function.returned[0][1:]
        bindings = [b for b in function.bindings if b.name == local]
        if len(bindings) != 1:
            return None
        made = [c for c in function.calls if c.line == bindings[0].line and self.project.is_router_type(c.callee)]
        if len(made) != 1 or made[0].splatted or made[0].unpacks_keywords or self._changes_prefix(made[0].callee):
            return None
        return prefix_values.prefix_text(function, bindings[0].line)

    def _changes_prefix(self, ref: str | None) -> bool:
        """Whether a project class in the order of the router class `ref` has a method touching a
        prefix (`__init__` setting `kw["prefix"]`, `self.prefix = ...`, handing on `**` of its own)."""
        classes = self.project.flow.classes
        cls = classes.resolve(ref)
        if cls is None:
            return False
        if cls not in self._changing:
            self._changing[cls] = any(
                self.project.functions[fid][1].router_prefixes
                for ancestor in classes.mro(cls) for fid in classes.methods.get(ancestor, {}).values()
            )
        return self._changing[cls]

    def prefixes(self, router: str | None, seen: frozenset[str] = frozenset()) -> frozenset[str] | None:
        """Every prefix the router's routes are served under; None when one cannot be known."""
        if router is None:
            return frozenset({""})
        if router in self._prefixes:
            return self._prefixes[router]
        if router in seen:
            return None
        own = self._own_prefix(router)
        found: set[str] | None = set()
        if own is None:
            found = None
        elif router not in self.includes and self._held(router) is not None:
            found = None  # an instance's router is served where an include the analysis may not read puts it
        elif router not in self.includes and self.unknown_include and not self._application(router):
            found = None  # it may be the router an unreadable include_router(...) serves
        elif (
            router not in self.includes and self.unknown_mount and router not in self.mounting
            and self._application(router)
        ):
            found = None  # it may be the application an unreadable mount(...) serves
        elif router not in self.includes:
            found = {own}
        else:
            collected: set[str] = set()
            for parent, prefix in self.includes[router]:
                above = self.prefixes(parent, seen | {router})
                if above is None or prefix is None:
                    found = None
                    break
                collected |= {outer + prefix + own for outer in above}
            else:
                found = collected
        result = frozenset(found) if found is not None else None
        self._prefixes[router] = result
        return result

    def full_path(self, handler: Handler) -> str | None:
        """The one path the handler is served under, prefixes included; None when not known or
        not one (a router included twice with different prefixes, a router factory called twice)."""
        if not handler.registrations:
            return None
        registration = handler.registrations[0]
        if registration.path is None:
            return None
        if self._unread_router(handler):
            paths = self.factory_paths(handler)
            return paths[0] if paths is not None and len(paths) == 1 else None
        if self._local_application(handler):
            prefixes = self._factory_application(handler)
        else:
            prefixes = self.prefixes(self._router(handler))
        if prefixes is None or len(prefixes) != 1:
            return None
        return next(iter(prefixes)) + registration.path

    def served(self, handler: Handler) -> tuple[str | None, bool]:
        """(the path to show, whether it is complete): the full path (the first of a router
        factory called more than once, as of a function registered twice), or the decorator's
        own when the prefixes in front of it cannot be known (then not complete)."""
        full = self.full_path(handler)
        if full is not None:
            return full, True
        if handler.path is None:
            return None, True
        several = self.factory_paths(handler) if self._unread_router(handler) else None
        if several:
            return several[0], True
        return self._known_tail(self._router(handler)) + handler.path, False

    def _local_application(self, handler: Handler) -> bool:
        """Whether the handler is registered on an application its enclosing function builds.
        A module-level function the factory adds (`application.add_api_route("/health",
        health)`) is not: it is served where the unnamed application is, as any route on it."""
        if ".<locals>." not in handler.function.qualname:
            return False
        decorator = handler.registrations[0].decorator
        added = self._added(handler) if decorator is None else None
        made = decorator.router_call if decorator is not None else added.router_call if added is not None else None
        return (self.project.canonical(made) or "") in APPLICATION_TYPES

    def _router(self, handler: Handler) -> str | None:
        """The reference of the router a handler is registered on (for a router an instance
        holds, `Decorator.held`), or None."""
        decorator = handler.registrations[0].decorator
        added = self._added(handler) if decorator is None else None
        held = decorator.held if decorator is not None else added.held if added is not None else None
        if held is not None:
            return held
        if decorator is not None and decorator.router_call is not None or added is not None and added.router_call:
            return None  # one the enclosing function builds, whatever a global of its name is
        base = decorator.base if decorator is not None else added.base if added is not None else None
        if base is None and added is not None:  # `DoctorView(router)` handing it the router to register on
            base = passed_router(self.project, handler.module, added)
        return self._canonical(base) if base is not None else None

    def _known_tail(self, router: str | None, seen: frozenset[str] = frozenset()) -> str:
        """The known right-hand part of the prefixes in front of a router's routes: its own
        `prefix=`, then each enclosing include's, up to the first that cannot be known.

        A router included in several places keeps the whole path segments all its tails share.
        """
        own = self._own_prefix(router) if router is not None else ""
        if router is None or own is None:
            return ""
        if router in seen or router not in self.includes:
            return own
        tails = set()
        for parent, prefix in self.includes[router]:
            tails.add("" if prefix is None else self._known_tail(parent, seen | {router}) + prefix)
        if len(tails) == 1:
            return tails.pop() + own
        shared = os.path.commonprefix([tail[::-1] for tail in tails])[::-1]
        # a shared tail that starts mid-segment ("/v1/items", "/v2/items" share "/items", not "2/items")
        return shared[shared.find("/"):] + own if "/" in shared else own

    def factory_paths(self, handler: Handler) -> list[str] | None:
        """Every path a route on the router its enclosing factory builds is served at, one per
        call of the factory (`def make_router(prefix, model): router = APIRouter(prefix=prefix)`
        ... `return router`, with `app.include_router(make_router("/users", User))`): the prefix
        expression (`prefix_values.evaluate`: the parameter, an f-string of parameters) read with the string
        literal each call gives each parameter (or its string default), each call,
        module-level or in a function, the router of an include the index reads (into a
        module-level router, or into the application a function builds), or its result kept in a
        module-level name (`users = make_router("/users", User)`), served where that name is. None
        where any of it cannot be read: a call neither, its result kept in a function's local, its
        router handed elsewhere, a prefix not a literal."""
        registration = handler.registrations[0]
        built = registration.made_router
        if built is None or registration.path is None or not self._built_in_function(registration):
            return None
        owner, nested, _ = handler.function.qualname.rpartition(".<locals>.")
        module = handler.module
        factory = next((f for f in module.functions if f.qualname == owner), None) if nested else None
        router_call, local = built
        if factory is None or local is None or factory.returned != (f"${local}",):
            return None
        bindings = [b for b in factory.bindings if b.name == local]
        made = [c for c in factory.calls if bindings and c.line == bindings[0].line and c.callee == router_call]
        if len(bindings) != 1 or len(made) != 1 or self._changes_prefix(made[0].callee):
            return None
        # Used only where it is made, where routes are added on it and where it is returned: not
        # included into another router, nor handed elsewhere, by the factory itself.
        decorated = {
            r.line for h in self.project.handlers if h.module is module
            and h.function.qualname.startswith(f"{owner}.<locals>.") for r in h.registrations
            if (made_here := r.made_router) is not None and made_here[1] == local
        }
        returned = {line for line, name, *_ in factory.name_returns if name == local}
        if not set(factory.name_uses.get(local, ())) <= {bindings[0].line, *decorated, *returned}:
            return None
        text = prefix_values.prefix_text(factory, bindings[0].line)
        if text is None or made[0].splatted or made[0].unpacks_keywords:
            return None
        fid, ref = (module.name, factory.key), f"{module.name}.{factory.qualname}"
        modules = self.project.modules.values()
        # Every call of the factory (module-level ones with arguments, and those in functions)
        # must be the router of an include read here, or kept in a module-level name whose includes are.
        calls = {(m.name, v.line) for m in modules for v in m.constructions if self.project.canonical(v.ref) == ref}
        calls |= {(self.project.functions[e.caller][0].name, e.call.line) for e in self.project.all_calls_to.get(fid, ())}
        paths: set[str] = set()
        included: set[tuple[str, int]] = set()
        for other in modules:
            for name, kept in other.values.items():
                if kept.kind != "call" or self.project.canonical(kept.ref) != ref:
                    continue
                # `router = make_router("/items")` then `app.include_router(router)`: served where
                # the name is; its own `prefix=` as the prefix walk reads it is the factory's argument
                held = f"{other.name}.{name}"
                above, own = self.prefixes(held), self._own_prefix(held)
                prefix = prefix_values.evaluate(text, kept, factory.params)
                if above is None or own is None or prefix is None:
                    return None
                included.add((other.name, kept.line))
                paths |= {outer[: len(outer) - len(own)] + prefix + registration.path for outer in above}
            for added in other.registrations:
                call = added.made
                if added.attr != INCLUDE or call is None or self.project.canonical(call.ref) != ref:
                    continue
                if added.endpoint is not None or added.path is None or added.sources:
                    return None
                if added.base is None and (self.project.canonical(added.router_call) or "") not in APPLICATION_TYPES:
                    return None
                # into the application a function builds (base None): served at its root, as its other includes are
                parent = self._canonical(added.base) if added.base is not None else None
                above = self.prefixes(parent) if parent is not None or added.base is None else None
                prefix = prefix_values.evaluate(text, call, factory.params)
                if above is None or prefix is None:
                    return None
                included |= {(other.name, added.line), (other.name, call.line)}
                paths |= {outer + added.path + prefix + registration.path for outer in above}
        if not included or not calls <= included:
            return None
        return sorted(paths)

    def _unread_router(self, handler: Handler) -> bool:
        """Whether the handler's router is one whose prefix the analysis cannot read: an
        attribute of an object (`self.router`), a parameter, or a router (no application)
        made inside a function."""
        decorator = handler.registrations[0].decorator
        if decorator is None:
            added = self._added(handler)
            if added is not None and added.held is not None:
                return self._held(added.held) is None
            if added is not None and added.router_call is not None:  # an application the function builds is served at its root
                return (self.project.canonical(added.router_call) or "") not in APPLICATION_TYPES
            if added is None or added.base is not None or added.receiver is None:
                return False
            return passed_router(self.project, handler.module, added) is None  # `DoctorView(router)`
        if decorator.held is not None:
            return self._held(decorator.held) is None
        if decorator.router_call is not None:  # made in the enclosing function, whatever a global of its name is
            return (self.project.canonical(decorator.router_call) or "") not in APPLICATION_TYPES
        return decorator.base is None

    def _added(self, handler: Handler) -> facts.Registration | None:
        """The `add_api_route(...)` registration of a handler (its first registration's: the line
        and the router, as a function registered in two modules may be on the same line of each)."""
        first = handler.registrations[0]
        for module in [handler.module, *self.project.modules.values()]:
            for added in module.registrations:
                found = self.project.endpoint(added.endpoint) if added.attr not in (INCLUDE, MOUNT) else None
                if added.line == first.line and added.base == first.base and found is not None and (
                    found[1] is handler.function
                ):
                    return added
        return None
