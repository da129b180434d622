"""The mapped class a generic CRUD object's methods return, by how the object is built.

A CRUD base generic over the model (the full-stack FastAPI template's shape) returns its
TypeVar, and which model that is depends on the object, not the class:

    class CRUDBase(Generic[ModelType, CreateSchemaType, UpdateSchemaType]):
        def __init__(self, model: Type[ModelType]):
            self.model = model
        def get(self, db: Session, id: Any) -> Optional[ModelType]: ...

    item = CRUDItem(Item)          # class CRUDItem(CRUDBase[Item, ...]), or:
    customer = CRUDBase(Customer)  # bound by the constructor argument alone

`returned_models` reads what a local name holds when it is the result of such a method: the
TypeVar as the object's class binds it through its subscripted bases, as the argument its
constructor takes it from (`model: type[M]`, or a parameter stored into an attribute the class
declares `type[M]`), or as a class attribute (`model = Item` under `model: type[M]`). The
object is a module-level instance, a local one, or what a dependency returns. Where the model
cannot be known it says why, for the reasons of the lazy-load analysis, which otherwise judges
reads on the object by every model's members.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.held_session import bindings, type_var

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.classes import Classes
    from async_migrate.codemods.project import FunctionId, Project

# What a return annotation may wrap the TypeVar in: one object (`Optional[M]`, `M | None`), or
# a collection of them (`list[M]`), whose elements are the objects (`for item in crud.get_multi(db)`).
_OPTIONAL = frozenset({"None", "Optional", "Union"})
_COLLECTIONS = frozenset({"list", "List", "Sequence", "Iterable", "Iterator", "tuple", "Tuple", "set", "Set"})
_CLASS_OF = frozenset({"type", "builtins.type", "typing.Type", "typing_extensions.Type"})
_DEPTH = 6


@dataclass(frozen=True, slots=True)
class _Built:
    """One construction of the object: its class, each argument (position or keyword, the
    class it names or None, as written), and where."""

    cls: str
    args: tuple[tuple[int | None, str | None, str | None, str], ...]
    where: str


@dataclass(frozen=True, slots=True)
class Models:
    """The mapped classes a name holds (`classes`), or, where the object's method returns a
    TypeVar the tool cannot bind, why (`why`); both empty when the name holds no such result."""

    classes: tuple[str, ...] = ()
    why: str = ""
    # known: the method as called and as defined (`item.get` (CRUDBase.get)), for reasons
    source: str = ""


NONE = Models()


def returned_models(project: Project, classes: Classes, fid: FunctionId, written: str) -> Models:
    """What `written` holds in `fid` when it is what a generic object's method returns: a local
    name every value it is bound to is such a result (or an element of one), or the call itself
    as written (`str(users.first(db))`): the mapped classes its TypeVar stands for."""
    key = (fid, written)
    known = cast("dict[tuple[FunctionId, str], Models]", project.derived.setdefault("generic_returned_models", {}))
    found = known.get(key)
    if found is None:
        reader = _Reader(project, classes)
        found = known[key] = reader.name(fid, written) if written.isidentifier() else reader.called(fid, written)
    return found


def call_models(project: Project, classes: Classes, fid: FunctionId, index: int) -> Models:
    """What the call `index` of `fid` returns where it is a generic object's method returning its
    TypeVar (`await repo.list()` on `class TaskRepo(Repo[Task])`, `-> list[ModelT]`): the mapped
    classes of the objects it gives, one or a collection of them."""
    reader = _Reader(project, classes)
    _, function = project.functions[fid]
    one = reader._call(fid, function, index, False)
    return one if one.classes or one.why else reader._call(fid, function, index, True)


class _Reader:
    def __init__(self, project: Project, classes: Classes) -> None:
        self.project = project
        self.classes = classes

    def name(self, fid: FunctionId, name: str) -> Models:
        _, function = self.project.functions[fid]
        terms = function.holds.get(name)
        if not terms or any(p.name == name for p in function.params):
            return NONE
        found: list[str] = []
        sources: list[str] = []
        for term in terms:
            element = term[0] in ("iter", "item") and len(term) > 1 and isinstance(term[1], tuple)
            if element:
                term = term[1]  # an element of the list the method returns
            if term[0] != "call":
                return NONE
            models = self._call(fid, function, term[1], element)
            if models.why or not models.classes:
                return models
            found.extend(c for c in models.classes if c not in found)
            sources.append(models.source)
        return Models(tuple(found), source=" and ".join(dict.fromkeys(sources)))

    def called(self, fid: FunctionId, written: str) -> Models:
        """A method call as written (`users.first(db)`): every call of that method on that
        object in the function, which must agree."""
        try:
            node = ast.parse(written, mode="eval").body
        except SyntaxError:
            return NONE
        if type(node) is not ast.Call or type(node.func) is not ast.Attribute:
            return NONE
        on, method = dotted(node.func.value), node.func.attr
        _, function = self.project.functions[fid]
        found = {
            self._call(fid, function, c.index, False) for c in function.calls
            if c.method == method and on is not None
            and (c.receiver == on or (c.callee or "").endswith(f".{on}.{method}"))
        }
        return found.pop() if len(found) == 1 else NONE

    def _call(self, fid: FunctionId, function: facts.Function, index: int, element: bool) -> Models:
        """What call `index` returns (an element of it: `element`), where it is a generic object's
        method returning its TypeVar: one object of it, or a collection of them."""
        call = next((c for c in function.calls if c.index == index), None)
        callees = [e.callee for e in self.project.all_calls_from.get(fid, ()) if e.call.index == index]
        if call is None or len(set(callees)) != 1:
            return NONE
        method = self.project.functions[callees[0]][1]
        owner = self.classes.owner(callees[0])
        variables = [r for r in method.returns if type_var(self.project, r) is not None]
        wrappers = {r.rsplit(".", 1)[-1] for r in method.returns if r not in variables}
        # a list formats its items' `__repr__`, an object its `__str__`: never one for the other
        if owner is None or not variables or not wrappers <= (_COLLECTIONS if element else _OPTIONAL) or (
            element and not wrappers
        ):
            return NONE
        receiver = self._receiver(call)
        inline = self._inline(fid, function, call) if receiver is None else None
        name = call.method or method.name
        # `uow.orders.get(...)` has no receiver name of its own: its attribute path as written
        written = (call.func or "").lstrip("$").rpartition(".")[0] if call.func and "(" not in call.func else ""
        shown = call.receiver or (receiver or "").rpartition(".")[2] or (inline[0] if inline else written or "the object")
        returns = f"`{shown}.{name}` returns `{method.qualname.rpartition('.')[0]}`'s "
        returns += ", ".join(f"`{v.rpartition('.')[2]}`" for v in variables)
        built = self._built(fid, receiver, 0) if receiver is not None else inline[1] if inline else None
        if not built:
            return Models(why=f"{returns}, and the tool does not see how `{shown}` is built")
        found: list[str] = []
        for made in built:
            bound = self._bound(made)
            for variable in variables:
                model = bound.get(self.project.canonical(variable) or variable)
                if isinstance(model, _Unknown):
                    return Models(why=f"{returns}, which `{shown}` {model.why}")
                if model is None:
                    return Models(why=f"{returns}, which nothing binds where `{shown}` is built ({made.where})")
                if model not in found:
                    found.append(model)
        return Models(tuple(found), source=f"`{shown}.{name}` ({method.qualname})")

    def _inline(
        self, fid: FunctionId, function: facts.Function, call: facts.Call
    ) -> tuple[str, list[_Built] | None] | None:
        """A method called on an object built in the same expression (`TaskRepository(db).get(id)`):
        the construction as shown, and what it builds."""
        built, dot, _ = (call.func or "").rpartition(".")
        if not dot or not built.endswith("()"):
            return None
        cls = built.removesuffix("()")
        inner = next((c for c in function.calls if c.callee == cls and c.line == call.line and c.index != call.index), None)
        if inner is None:
            return None
        module, _ = self.project.functions[fid]
        return f"{cls.rpartition('.')[2]}(...)", self._term(fid, module, function, ("call", inner.index), 0)

    def _receiver(self, call: facts.Call) -> str | None:
        """The object a method call runs on, as the value notation spells it: a module-level
        reference, or `$name` for a local one."""
        if call.callee is not None and "." in call.callee:
            owner = call.callee.rpartition(".")[0]
            target = self.project.resolve(owner)
            if target is not None and target.kind == "value":
                return owner
        return f"${call.receiver}" if call.receiver else None

    # ------------------------------------------------------------ constructions

    def _built(self, fid: FunctionId | None, expression: str, depth: int) -> list[_Built] | None:
        """Every construction of the object `expression` holds; None when one is not seen."""
        if depth > _DEPTH:
            return None
        if not expression.startswith("$"):
            return self._module_built(expression, depth)
        if fid is None:
            return None
        module, function = self.project.functions[fid]
        local = expression[1:]
        if not local.isidentifier():
            return None
        param = next((p for p in function.params if p.name == local), None)
        if param is not None:
            return self._provided(param, depth)
        terms = function.holds.get(local)
        if not terms:
            return None
        found: list[_Built] = []
        for term in terms:
            made = self._term(fid, module, function, term, depth)
            if made is None:
                return None
            found.extend(made)
        return found

    def _term(
        self, fid: FunctionId, module: facts.Module, function: facts.Function, term: tuple, depth: int
    ) -> list[_Built] | None:
        if term[0] == "name":
            return self._built(fid, f"${term[1]}", depth + 1)
        if term[0] != "call":
            return None
        call = next((c for c in function.calls if c.index == term[1]), None)
        cls = self.classes.resolve(call.callee) if call is not None and call.callee else None
        if call is None or cls is None:
            return None
        args = tuple((a.position, a.keyword, a.ref, a.name or a.expr or a.ref or "…") for a in call.args)
        return [_Built(cls, args, f"{module.path}:{call.line}")]

    def _module_built(self, ref: str, depth: int) -> list[_Built] | None:
        target = self.project.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        if value is None or target is None or target.module is None:
            return None
        if value.kind == "name" and value.ref:
            return self._module_built(value.ref, depth + 1)
        cls = self.classes.resolve(value.ref) if value.kind == "call" else None
        if cls is None:
            return None
        position = 0
        args: list[tuple[int | None, str | None, str | None, str]] = []
        for arg in value.args:
            if arg.keyword is None:
                args.append((position, None, arg.ref, arg.text))
                position += 1
            else:
                args.append((None, arg.keyword, arg.ref, arg.text))
        return [_Built(cls, tuple(args), f"{target.module.path}:{value.line}")]

    def _provided(self, param: facts.Param, depth: int) -> list[_Built] | None:
        """What the dependency a parameter is injected by returns (`Depends(get_repo)`, also
        through an `Annotated` alias)."""
        refs = [param.depends] if param.depends else []
        for ref in param.annotation:
            target = self.project.resolve(ref)
            if target is not None and target.kind == "value" and target.value is not None and target.value.depends:
                refs.append(target.value.depends)
        found = self.project.function(refs[0]) if len(refs) == 1 else None
        if found is None:
            return None
        module, function = found
        dependency = (module.name, function.key)
        if not function.returned_terms or function.is_generator:
            return None
        made: list[_Built] = []
        for _, term in function.returned_terms:
            built = self._term(dependency, module, function, term, depth + 1)
            if built is None:
                return None
            made.extend(built)
        return made

    # ------------------------------------------------------------ bindings

    def _bound(self, made: _Built) -> dict[str, str | _Unknown]:
        """TypeVar -> the mapped class the object binds it to (or why not)."""
        bound: dict[str, str | _Unknown] = {}
        links: list[tuple[str, str]] = []  # (a base's parameter, the TypeVar a subclass gives it)
        for variable, given in bindings(self.project, self.classes, made.cls).items():
            mapped = self._mapped(given)
            if type_var(self.project, given) is not None:
                links.append((variable, given))
            elif mapped is not None:
                bound[variable] = mapped
        for variable, model in self._constructed(made).items():
            subscripted = bound.get(variable)
            if isinstance(subscripted, str) and isinstance(model, str) and subscripted != model:
                model = _Unknown(
                    f"binds to `{self.classes.short(subscripted)}` by its class while it is built with "
                    f"`{self.classes.short(model)}` ({made.where})"
                )
            bound[variable] = model
        for variable, model in self._class_attributes(made.cls).items():
            bound.setdefault(variable, model)
        changed = True
        while changed:  # `class Mid(CRUDBase[M2, ...])`: M2 is what binds ModelType, and back
            changed = False
            for parameter, given in links:
                for one, other in ((parameter, given), (given, parameter)):
                    if one in bound and other not in bound:
                        bound[other] = bound[one]
                        changed = True
        return bound

    def _constructed(self, made: _Built) -> dict[str, str | _Unknown]:
        """TypeVars the constructor takes the class of from its arguments: a parameter declared
        `type[M]`, or one stored into an attribute the class declares `type[M]`."""
        methods, certain = self.classes.method(made.cls, "__init__")
        if len(methods) != 1 or not certain:
            return {}
        fid = methods[0]
        function = self.project.functions[fid][1]
        params = [p for p in function.params[1:] if not p.variadic]
        found: dict[str, str | _Unknown] = {}
        for number, param in enumerate(params):
            variable = self._class_param(made.cls, fid, param)
            if variable is None:
                continue
            given = next((
                a for a in made.args
                if a[1] == param.name or (a[1] is None and a[0] == number and param.positional)
            ), None)
            if given is None:
                continue  # a default, or a class attribute (below)
            model = self._mapped(given[2]) if given[2] else None
            found[variable] = model if model is not None else _Unknown(
                f"takes from `{given[3]}`, its argument for `{param.name}` ({made.where}), a value the tool cannot "
                "resolve to a mapped class"
            )
        return found

    def _class_param(self, cls: str, fid: FunctionId, param: facts.Param) -> str | None:
        variable = self._class_of(param.annotation)
        if variable is not None:
            return variable
        owner = self.classes.owner(fid) or cls
        for ancestor in self.classes.mro(cls):
            for attribute in self.classes.by_ref[ancestor][1].annotations:
                if (fid, f"${param.name}") in self.classes.assigned.get((owner, attribute), ()):
                    declared = self._declared(cls, attribute)
                    if declared is not None:
                        return declared
        return None

    def _class_attributes(self, cls: str) -> dict[str, str | _Unknown]:
        """`model = Item` in a class body under `model: type[M]` declared on its order."""
        found: dict[str, str | _Unknown] = {}
        for ancestor in self.classes.mro(cls):
            _, declared = self.classes.by_ref[ancestor]
            for attribute, ref in declared.named.items():
                variable = self._declared(cls, attribute)
                model = self._mapped(ref)
                if variable is not None and model is not None:
                    found.setdefault(variable, model)
        return found

    def _declared(self, cls: str, attribute: str) -> str | None:
        """The TypeVar an attribute is declared the class of (`model: type[M]`), on `cls`'s order."""
        for ancestor in self.classes.mro(cls):
            _, declared = self.classes.by_ref[ancestor]
            variable = self._class_of(declared.annotations.get(attribute, ()))
            if variable is not None:
                return variable
        return None

    def _class_of(self, annotation: tuple[str, ...]) -> str | None:
        """`M` of `type[M]` / `Type[M]` (the canonical TypeVar), else None."""
        if len(annotation) != 2 or self.project.canonical(annotation[0]) not in _CLASS_OF and annotation[0] not in _CLASS_OF:
            return None
        if type_var(self.project, annotation[1]) is None:
            return None
        return self.project.canonical(annotation[1]) or annotation[1]

    def _mapped(self, ref: str | None) -> str | None:
        cls = self.classes.resolve(ref) if ref else None
        return cls if cls is not None and self.classes.is_mapped(cls) else None


@dataclass(frozen=True, slots=True)
class _Unknown:
    why: str
