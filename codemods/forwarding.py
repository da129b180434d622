"""What a project proxy class's `__getattr__` forwards the attributes it lacks to, and whether
that can be a Session.

`proxy.get(k)` on an instance of a class declaring no `get` runs its `__getattr__`. Read there:
each `getattr(X, name)` on the attribute's name (in the body or a wrapper nested in it), then X
back through what the proxy holds: locals bound to it, the methods returning it
(`self._resolve_master()`), the class's assignments of the attribute (`self._master = ...`), the
`__init__` parameter they store and what each construction hands it. A value the flow reads as a
Session (or a registry, factory or object built from one), a project object whose method of that
name does Session work, a name along the way that names a Session, a method that names little
else (as for an untyped carrier), or a link the facts cannot spell: it may be a Session. A proxy
over a Sentinel's Redis master, read to its library calls, is none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.flow import (
    _DISTINCT_SESSION_METHODS,
    FACTORY,
    INJECTED,
    INSTANCE,
    MAKER,
    REGISTRY,
    RESULT,
    SCOPED_MAKER,
    SESSION,
    TAINTED,
    _session_named,
    arguments_to,
    split,
)

if TYPE_CHECKING:
    from async_migrate.codemods.flow import FunctionId
    from async_migrate.codemods.project import Project

# what the flow gives for a Session or what opens or stands for one (a registry, a sessionmaker,
# a value built from one by code it cannot follow): the proxy may call it first
_SESSION_LIKE = frozenset({SESSION, REGISTRY, FACTORY, MAKER, SCOPED_MAKER, TAINTED, INJECTED, RESULT})
_DEPTH = 12
# annotations that say nothing of the type
_UNTYPED = frozenset({"typing.Any", "Any", "object", "builtins.object", "None"})


def forwards_session(project: Project, getattr_fid: FunctionId, name: str) -> bool:
    """Whether `name` looked up through the `__getattr__` `getattr_fid` may reach a Session."""
    _, function = project.functions[getattr_fid]
    if not function.returned and function.forwards is None:
        return False  # it only raises: nothing is forwarded
    if len(function.params) != 2:
        return True
    attribute = function.params[1].name
    delegates = [
        _arg_expr(call.args[0]) for call in function.calls
        if call.callee == "getattr" and len(call.args) >= 2 and call.args[0].position == 0
        and call.args[1].position == 1 and call.args[1].name == attribute
    ]
    if function.forwards is not None:
        delegates.append(function.forwards)
    if not delegates:
        return True  # it forwards in a way not read (`self.__dict__[name]`, `object.__getattribute__`)
    reader = _Reader(project, name)
    return any(reader.may_be_session(getattr_fid, delegate, 0) for delegate in delegates)


def _arg_expr(arg: facts.Arg) -> str | None:
    if arg.expr is not None:
        return arg.expr
    if arg.ref is not None:
        return arg.ref  # a module or function the name stands for (`import redis as redis_mod` in the body)
    return f"${arg.name}" if arg.name is not None else None


class _Reader:
    def __init__(self, project: Project, method: str) -> None:
        self.project = project
        self.flow = project.flow
        self.method = method
        self.seen: set[tuple[FunctionId, str]] = set()

    def may_be_session(self, fid: FunctionId, expression: str | None, depth: int) -> bool:
        if expression is None or expression == facts.UNSPELLED or depth > _DEPTH:
            return True  # what it forwards to cannot be read: it may be one
        if (fid, expression) in self.seen:
            return False  # a cycle adds nothing the first visit did not
        self.seen.add((fid, expression))
        if self._by_value(fid, expression):
            return True
        head, steps = split(expression)
        words = [step[1:] for step in steps if step != "()"]
        if any(_session_named(word) for word in (head.lstrip("$").rpartition(".")[2], *words)):
            return True
        if self.method in _DISTINCT_SESSION_METHODS:
            return True
        if head.startswith("$"):
            return self._local(fid, head[1:], steps, depth)
        function = self.project.function(head) if steps[:1] == ("()",) else None
        if function is not None:
            module, called = function
            return any(self.may_be_session((module.name, called.key), r, depth + 1) for r in called.returned)
        target = self.project.resolve(head) if not steps else None
        value = target.value if target is not None and target.kind == "value" else None
        if value is not None and value.kind == "call" and value.ref:
            return self.may_be_session(fid, f"{value.ref}()", depth + 1)  # a module-level `client = make()`
        return False  # a library's name, read to its end

    def _by_value(self, fid: FunctionId, expression: str) -> bool:
        """The flow's reading of `expression`: a Session, or a project object whose method of this
        name does Session work or which forwards again through a `__getattr__`."""
        for value in self.flow.evaluate(fid, expression):
            if value.kind in _SESSION_LIKE:
                return True
            if value.kind == INSTANCE and isinstance(value.target, str):
                classes = self.flow.classes
                for ancestor in classes.mro(value.target):
                    methods = classes.methods.get(ancestor, {})
                    if self.method in methods:
                        if methods[self.method] in self.project.work_chains:
                            return True
                        break
                    if "__getattr__" in methods and forwards_session(self.project, methods["__getattr__"], self.method):
                        return True
        return False

    def _local(self, fid: FunctionId, name: str, steps: tuple[str, ...], depth: int) -> bool:
        """`$name...` in function `fid`: through its bindings, or the instance's attributes and
        methods (`self._master`, `self._resolve_master()`), or what a parameter is handed."""
        _, function = self.project.functions[fid]
        bound = [b for b in function.bindings if b.name == name]
        if bound:
            return any(
                b.entered or b.expr == facts.UNSPELLED or self.may_be_session(fid, b.expr + "".join(steps), depth + 1)
                for b in bound
            )
        param = next((p for p in function.params if p.name == name), None)
        if param is None:
            return True  # a name the facts do not bind (a loop's, an unpacking's)
        owner = self.flow.classes.owner(fid)
        if owner is not None and function.params[0] is param and steps and steps[0] != "()":
            return self._attribute(owner, steps[0][1:], steps[1:], depth)
        if param.variadic:
            return True
        declared = {self.project.canonical(r) for r in param.annotation}
        if any(self.project.is_sync_session_type(r) or self.project.is_async_session_type(r) for r in declared):
            return True
        if declared and not declared <= _UNTYPED:
            return False  # declared a type that is no Session
        edges = self.project.all_calls_to.get(fid, [])
        if not edges:
            return True  # no caller in sight: what it is handed cannot be read
        positional = [p.name for p in function.params if p.positional and not p.variadic]
        if owner is not None and positional[:1] in (["self"], ["cls"]):
            positional = positional[1:]
        for edge in edges:
            passed = arguments_to(edge.call, positional, name)
            if any(a.position is None and a.keyword is None for a in edge.call.args) and not passed:
                return True  # `*args` or `**kwargs` handed on: it may hold the value
            for arg in passed:
                if self.may_be_session(edge.caller, _arg_expr(arg), depth + 1):
                    return True
        return False

    def _attribute(self, owner: str, attribute: str, steps: tuple[str, ...], depth: int) -> bool:
        """`self.<attribute>...`: the class's methods returning it when called, else what its
        assignments store."""
        classes = self.flow.classes
        rest = "".join(steps)
        if steps[:1] == ("()",):
            methods, _ = classes.method(owner, attribute)
            if methods:
                return any(
                    self.may_be_session(m, r + "".join(steps[1:]), depth + 1)
                    for m in methods for r in self.project.functions[m][1].returned
                )
        found = False
        for ancestor in classes.mro(owner):
            for method in classes.methods.get(ancestor, {}).values():
                for assigned, expr in self.project.functions[method][1].assigns:
                    if assigned == attribute:
                        found = True
                        if self.may_be_session(method, expr + rest, depth + 1):
                            return True
        return not found  # set only from outside the class: cannot be read
