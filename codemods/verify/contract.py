"""The HTTP contract of two imports of one application, compared.

Input: the documents `introspect.py` writes (`{"openapi": ..., "routes": ...}`). Output:
one `Difference` per thing a client or an auth check would notice (in the application and in
each FastAPI application it mounts): a route added or
removed, an operation id, a parameter, a request body, a response code or schema, a
security requirement, or a non-Session dependency (auth, permission) that is not the
same function or its phase-two async twin (`get_current_user` -> `get_current_user_async`);
and what OpenAPI does not show: a route left out of the schema or whose path converter
changed, a route's status code, response class and response-model exclusions, the
application's middleware and exception handlers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from async_migrate.codemods import twin_names

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SHOWN = 160  # characters of a value shown in a difference


@dataclass(frozen=True, slots=True)
class Difference:
    route: str  # "GET /books/{book_id}", or "(application)" for document-wide parts
    what: str  # "response 200 schema .properties.price.type", "dependency", "route", ...
    before: str
    after: str

    def to_json(self) -> dict[str, str]:
        return {"route": self.route, "what": self.what, "before": self.before, "after": self.after}


def compare(before: dict[str, Any], after: dict[str, Any], twin_suffix: str = "_async") -> list[Difference]:
    """Every contract difference between two introspection documents, in route order."""
    found = _compare_openapi(before.get("openapi") or {}, after.get("openapi") or {})
    mounts_before, mounts_after = before.get("mounts") or {}, after.get("mounts") or {}
    for mount in _ordered(mounts_before, mounts_after):
        old, new = mounts_before.get(mount), mounts_after.get(mount)
        if old is None or new is None:
            found.append(Difference(f"(application mounted at {mount})", "application", _present(old), _present(new)))
            continue
        found += [_under(mount, d) for d in _compare_openapi(old, new)]
    named = {d.route for d in found if d.what == "route"}
    found += _compare_routes(before.get("routes") or [], after.get("routes") or [], twin_suffix, named)
    apps_before, apps_after = before.get("applications"), after.get("applications")
    if apps_before is not None and apps_after is not None:
        for mount in _ordered(apps_before, apps_after):
            where = "(application)" if mount == "/" else f"(application mounted at {mount})"
            old, new = apps_before.get(mount), apps_after.get(mount)
            if old is None or new is None:
                continue  # the mount itself is named above
            for key in _ordered(old, new):
                for at, value_before, value_after in leaf_differences(old.get(key), new.get(key)):
                    found.append(Difference(where, _label(key, at), _shown(value_before), _shown(value_after)))
    return found


def operation_count(document: dict[str, Any]) -> int:
    """The OpenAPI operations a contract compares: the application's and its mounted ones'."""
    return len(operations(document.get("openapi") or {})) + sum(
        len(operations(mounted or {})) for mounted in (document.get("mounts") or {}).values()
    )


def _under(mount: str, difference: Difference) -> Difference:
    """A mounted application's difference, named by the path the client calls."""
    method, _, path = difference.route.partition(" ")
    route = f"{method} {mount}{path}" if path.startswith("/") else f"{difference.route[:-1]} mounted at {mount})"
    return Difference(route, difference.what, difference.before, difference.after)


# ------------------------------------------------------------------ OpenAPI


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{"GET /path": operation} with every `$ref` inlined and order-free lists sorted."""
    components = document.get("components") or {}
    found = {}
    for path, item in (document.get("paths") or {}).items():
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            operation = dict(operation)
            if shared:
                operation["parameters"] = list(shared) + list(operation.get("parameters") or [])
            found[f"{method.upper()} {path}"] = _normalise(_inline(operation, components, ()))
    return found


def _inline(value: Any, components: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            if ref in seen:  # a recursive schema: compare it by name past the first level
                return {"$ref": ref}
            target: Any = components
            for part in ref.removeprefix("#/components/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            extra = {k: v for k, v in value.items() if k != "$ref"}
            return _inline({**target, **extra}, components, (*seen, ref))
        return {key: _inline(item, components, seen) for key, item in value.items()}
    if isinstance(value, list):
        return [_inline(item, components, seen) for item in value]
    return value


def _normalise(operation: dict[str, Any]) -> dict[str, Any]:
    operation = dict(operation)
    operation["parameters"] = {
        f"{p.get('in', '?')} {p.get('name', '?')}": p for p in operation.get("parameters") or []
    }
    operation["security"] = sorted(json.dumps(s, sort_keys=True) for s in operation.get("security") or [])
    return _sort_sets(operation)


def _sort_sets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: sorted(item) if key in ("required", "tags") and isinstance(item, list) and
            all(isinstance(i, str) for i in item) else _sort_sets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_sort_sets(item) for item in value]
    return value


def _compare_openapi(before: dict[str, Any], after: dict[str, Any]) -> list[Difference]:
    found: list[Difference] = []
    ops_before, ops_after = operations(before), operations(after)
    for route in _ordered(ops_before, ops_after):
        old, new = ops_before.get(route), ops_after.get(route)
        if old is None or new is None:
            found.append(Difference(route, "route", _present(old), _present(new)))
            continue
        for key in _ordered(old, new):
            what = _category(key)
            for where, value_before, value_after in leaf_differences(old.get(key), new.get(key)):
                label = what
                if key == "parameters" and where:
                    label, where = f"parameter {where[0]}", where[1:]
                elif key == "responses" and where:
                    label, where = f"response {where[0]}", where[1:]
                found.append(Difference(route, _label(label, where), _shown(value_before), _shown(value_after)))
    global_before = {k: before.get(k) for k in ("security",)}
    global_before["securitySchemes"] = (before.get("components") or {}).get("securitySchemes")
    global_after = {k: after.get(k) for k in ("security",)}
    global_after["securitySchemes"] = (after.get("components") or {}).get("securitySchemes")
    for where, value_before, value_after in leaf_differences(global_before, global_after):
        found.append(Difference("(application)", _label("security", where), _shown(value_before), _shown(value_after)))
    return found


def _category(key: str) -> str:
    return {
        "operationId": "operation id",
        "requestBody": "request body",
        "security": "security requirements",
        "parameters": "parameters",
        "responses": "responses",
    }.get(key, key)


def _label(what: str, where: tuple[str, ...]) -> str:
    return what + (" ." + ".".join(where) if where else "")


def leaf_differences(before: Any, after: Any, where: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any, Any]]:
    """[(path, before, after)] for every place two JSON values differ; `None` when absent."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in _ordered(before, after):
            if key not in before or key not in after:
                found.append(((*where, str(key)), before.get(key), after.get(key)))
            else:
                found += leaf_differences(before[key], after[key], (*where, str(key)))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for index, (old, new) in enumerate(zip(before, after)):
            found += leaf_differences(old, new, (*where, f"[{index}]"))
        return found
    return [(where, before, after)]


# ------------------------------------------------------------------ routes and dependencies


def _route_key(route: dict[str, Any]) -> str:
    return f"{route.get('method')} {route.get('path')}"


_CONVERTER = re.compile(r"\{(\w+):[^}]*\}")


def _compare_routes(before: list[dict], after: list[dict], twin_suffix: str, named: set[str]) -> list[Difference]:
    found: list[Difference] = []
    by_before = {_route_key(r): r for r in before}
    by_after = {_route_key(r): r for r in after}
    for key in _ordered(by_before, by_after):
        old, new = by_before.get(key), by_after.get(key)
        if old is None or new is None:
            # What the OpenAPI comparison named already is not named twice; a route left out of
            # the schema, or one whose path converter changed ({id} -> {id:path}, the same in
            # OpenAPI, matching other requests), is named here.
            if key not in named and _CONVERTER.sub(r"{\1}", key) not in named:
                found.append(Difference(key, "route", _present(old), _present(new)))
            continue
        served_before, served_after = old.get("served") or {}, new.get("served") or {}
        if served_before and served_after:
            for what in _ordered(served_before, served_after):
                if served_before.get(what) != served_after.get(what):
                    found.append(Difference(key, what, _shown(served_before.get(what)), _shown(served_after.get(what))))
        found += _compare_trees(key, old.get("dependencies") or [], new.get("dependencies") or [], twin_suffix, ())
    return found


def _compare_trees(
    route: str, before: list[dict], after: list[dict], twin_suffix: str, chain: tuple[str, ...]
) -> list[Difference]:
    found: list[Difference] = []
    remaining = list(after)
    where = "dependency" + (" under " + " -> ".join(chain) if chain else "")
    for old in before:
        # A function dependency's async twin, or a class dependency's parallel async class (what
        # it depends on is compared below, so an auth dependency dropped from it still shows).
        match = next((new for new in remaining if twin_names.is_twin(old["call"], new["call"], twin_suffix)
                      or twin_names.is_parallel_class(old["call"], new["call"])), None)
        if match is None:
            found.append(Difference(route, where, old["call"], "(none)"))
            continue
        remaining.remove(match)
        if sorted(old.get("scopes") or []) != sorted(match.get("scopes") or []):
            found.append(Difference(route, f"{where} {old['call']} scopes", str(old.get("scopes")), str(match.get("scopes"))))
        found += _compare_trees(route, old.get("children") or [], match.get("children") or [], twin_suffix, (*chain, old["call"]))
    for new in remaining:
        found.append(Difference(route, where, "(none)", new["call"]))
    return found


# ------------------------------------------------------------------ helpers


def _ordered(first: dict, second: dict) -> list:
    keys = list(first)
    keys += [key for key in second if key not in first]
    return keys


def _present(value: Any) -> str:
    return "present" if value is not None else "absent"


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
