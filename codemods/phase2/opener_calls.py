"""A `@contextmanager` Session opener taking parameters, entered with constants: its body for that call.

Airflow's session dependency is `with create_session(scoped=False) as session: yield session`,
where the opener picks its sessionmaker by the parameter and then only runs the Session's
lifecycle:

    @contextmanager
    def create_session(scoped: bool = True) -> Iterator[Session]:
        if scoped:
            Session = getattr(settings, "Session", None)
        else:
            Session = getattr(settings, "NonScopedSession", None)
        if Session is None:
            raise RuntimeError("Session must be set before!")
        session = Session()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

With the arguments constants, the branch the call runs is known, and what it opens is a new
Session from a plain sessionmaker on each entry: the opening the async session dependency
stands for (`stack_extras`), no more work per request (AM271). The shapes read before the
lifecycle (`specialise`): `if` on a parameter (`p`, `not p`, `p is None`, `p == 3`), whose
branch the constants choose; a local bound to the sessionmaker (`Maker = settings.Maker`,
`getattr(settings, "Maker", None)`); a guard raising when that local is None (the request
fails either way). Anything else, a parameter read after them, an argument that is no
constant, or a `scoped_session` registry chosen keeps the opener the dependency's extra work,
with the reason.
"""

from __future__ import annotations

import ast
import copy

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import lifecycle
from async_migrate.codemods.astcollect.syntax import after_docstring, dotted
from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary.sqlalchemy import SCOPED_SESSION_MAKERS

_MISSING = object()


def specialise(
    project: Project, module: facts.Module, text: str, node: ast.FunctionDef, call: ast.Call
) -> str | None:
    """Why `call` entering the opener `node` (of `module`, whose source is `text`) is not only a
    new Session's lifecycle opened from a plain sessionmaker; None when it is."""
    bound = _bind(node, call)
    if isinstance(bound, str):
        return bound
    reader = _Prefix(project, module, bound, text)
    rest = reader.read(after_docstring(node.body))
    if isinstance(rest, str):
        return rest
    for statement in rest:
        for name in ast.walk(statement):
            if isinstance(name, ast.Name) and name.id in bound:
                return f"it reads `{name.id}` at line {name.lineno} beyond choosing its sessionmaker"
    remainder = copy.copy(node)
    remainder.body = rest
    problem = lifecycle.read(remainder, lambda n: getattr(n, "lineno", node.lineno))
    if problem:
        return lifecycle.describe(problem, set())  # an opening taking arguments here is no plain sessionmaker's
    return reader.openings(rest)


def _bind(node: ast.FunctionDef, call: ast.Call) -> dict[str, object] | str:
    """Each parameter's constant for `call`: its argument, else its default."""
    arguments = node.args
    if arguments.vararg or arguments.kwarg:
        return "it takes `*args` or `**kwargs`, whose values phase two does not follow"
    positional = [*arguments.posonlyargs, *arguments.args]
    values: dict[str, object] = {}
    defaults = arguments.defaults
    for param, default in zip(positional[len(positional) - len(defaults):], defaults, strict=True):
        values[param.arg] = _constant(default)
    for param, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        values[param.arg] = _MISSING if kw_default is None else _constant(kw_default)
    names = [p.arg for p in positional]
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred) or index >= len(names):
            return f"`{ast.unparse(arg)}` is an argument phase two does not bind to a parameter"
        values[names[index]] = _argument(arg, names[index])
    for keyword in call.keywords:
        if keyword.arg is None or keyword.arg not in {*names, *(p.arg for p in arguments.kwonlyargs)}:
            return f"`{ast.unparse(keyword)}` is an argument phase two does not bind to a parameter"
        values[keyword.arg] = _argument(keyword.value, keyword.arg)
    for name, value in values.items():
        if isinstance(value, _Computed):
            return f"`{name}={value.text}` is no constant, so phase two cannot tell which branch of the opener runs"
        if value is _MISSING:
            return f"the call gives `{name}` no value"
    if any(p.arg not in values for p in (*positional, *arguments.kwonlyargs)):
        return "the call leaves a parameter without a value"
    return values


class _Computed:
    def __init__(self, text: str) -> None:
        self.text = text


def _argument(node: ast.expr, name: str) -> object:
    value = _constant(node)
    return _Computed(ast.unparse(node)) if value is _MISSING else value


def _constant(node: ast.expr) -> object:
    return node.value if isinstance(node, ast.Constant) else _MISSING


class _Prefix:
    """The statements before the lifecycle: branches on parameters, the sessionmaker's local, its guard."""

    def __init__(self, project: Project, module: facts.Module, bound: dict[str, object], text: str) -> None:
        self.project, self.module, self.bound, self.text = project, module, bound, text
        self.makers: dict[str, ast.expr] = {}  # local -> the expression it was bound to

    def read(self, body: list[ast.stmt]) -> list[ast.stmt] | str:
        """The statements left once the prefix is read (the branch taken spliced in), or why not."""
        for index, statement in enumerate(body):
            if isinstance(statement, ast.If):
                taken = self._test(statement.test)
                if taken is not None:
                    chosen = self.read(statement.body if taken else statement.orelse)
                    if isinstance(chosen, str):
                        return chosen
                    if chosen:
                        return f"its branch at line {statement.lineno} does more than choose a sessionmaker"
                    continue
                if self._guard(statement):
                    continue
                return body[index:]
            if (
                isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id not in self.bound
                and self._maker_expression(statement.value)
            ):
                self.makers[statement.targets[0].id] = statement.value
                continue
            return body[index:]
        return []

    def _test(self, test: ast.expr) -> bool | None:
        """The truth of a test on parameters alone, or None when it is none."""
        if isinstance(test, ast.Name) and test.id in self.bound:
            return bool(self.bound[test.id])
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._test(test.operand)
            return None if inner is None else not inner
        if (
            isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name)
            and test.left.id in self.bound and isinstance(test.comparators[0], ast.Constant)
        ):
            left, right, op = self.bound[test.left.id], test.comparators[0].value, test.ops[0]
            if isinstance(op, ast.Is):
                return left is right
            if isinstance(op, ast.IsNot):
                return left is not right
            if isinstance(op, ast.Eq):
                return bool(left == right)
            if isinstance(op, ast.NotEq):
                return bool(left != right)
        return None

    def _guard(self, statement: ast.If) -> bool:
        """`if Maker is None: raise ...` (or `if not Maker:`) on the sessionmaker's local."""
        test = statement.test
        named = (
            isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
            and test.left
        ) or (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and test.operand)
        return (
            isinstance(named, ast.Name) and named.id in self.makers and not statement.orelse
            and len(statement.body) == 1 and isinstance(statement.body[0], ast.Raise)
        )

    def _maker_expression(self, value: ast.expr) -> bool:
        """`settings.Maker`, `Maker`, or `getattr(settings, "Maker", None)`."""
        return self._reference(value) is not None

    def _reference(self, value: ast.expr) -> str | None:
        if (
            isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "getattr"
            and len(value.args) in (2, 3) and not value.keywords and isinstance(value.args[1], ast.Constant)
            and isinstance(value.args[1].value, str) and value.args[1].value.isidentifier()
        ):
            head = dotted(value.args[0])
            return None if head is None else f"{head}.{value.args[1].value}"
        if isinstance(value, (ast.Name, ast.Attribute)):
            return dotted(value)
        return None

    def openings(self, rest: list[ast.stmt]) -> str | None:
        """Why what the lifecycle opens is not a new Session from a plain sessionmaker; None when it is."""
        opened: set[str] = set()
        calls: list[ast.Call] = []
        for statement in rest:
            for node in ast.walk(statement):
                if isinstance(node, ast.Call):
                    calls.append(node)
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                    opened.update(t.id for t in node.targets if isinstance(t, ast.Name))
                if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
                    opened.add(node.optional_vars.id)
        found = False
        for call in calls:
            func = call.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in opened:
                continue  # `session.commit()`: the lifecycle read it
            if isinstance(func, ast.Attribute) and func.attr == "begin":
                func = func.value
            name = dotted(func)
            if name is None:
                written = ast.get_source_segment(self.text, call) or ast.unparse(call)
                return f"it opens its Session with `{written}`, which phase two does not read"
            problem = self._maker(name)
            if problem:
                return problem
            found = True
        return None if found else "it opens no Session phase two can name"

    def _maker(self, name: str) -> str | None:
        """Why `name`, called to open the Session, is not a plain sessionmaker; None when it is."""
        expression = self.makers.get(name)
        written = (ast.get_source_segment(self.text, expression) or ast.unparse(expression)) if expression is not None else name
        ref = self._reference(expression) if expression is not None else name
        if ref is None:
            return f"`{written}` is no sessionmaker phase two can name (a name or attribute, or `getattr` of one)"
        head, _, rest = ref.partition(".")
        base = self.module.imports.get(head, f"{self.module.name}.{head}")
        target = f"{base}.{rest}" if rest else base
        resolved = self.project.resolve(target)
        value = resolved.value if resolved is not None else None
        if value is not None and self.project.canonical(value.ref) in SCOPED_SESSION_MAKERS:
            return (f"`{written}` is a `scoped_session` registry, whose Session other code entering the opener "
                    "shares: a new AsyncSession per request would split it")
        # a Session class called bare binds no engine: no sessionmaker the async stack stands for
        if self.project.is_sync_session_type(target):
            return f"`{written}` is a Session class, which opens a Session bound to no engine"
        if not self.project.is_sessionmaker(target):
            why = self._set_in_functions(target) or "no module-level `sessionmaker(...)` assignment"
            return (f"`{written}` (`{target}`) is no sessionmaker phase two can name ({why}): if it is one, name "
                    f"`{target}` in [tool.async-migrate] sessionmakers and run phase two again")
        return None

    def _set_in_functions(self, target: str) -> str:
        """Where the module of `target` sets it inside its functions, under `global` (Airflow's
        `configure_orm()`: `NonScopedSession = _session_maker(engine)`), as reasons say it; "" when
        none does. What such a function builds is decided when it runs, which phase two does not."""
        owner, _, name = target.rpartition(".")
        module = self.project.modules.get(owner)
        if module is None:
            return ""
        sets = [
            f"`{name} = {_spelled(b.expr)}` in `{f.qualname}()` ({module.path}:{b.line})"
            for f in module.functions if name in f.declared_globals for b in f.bindings if b.name == name
        ]
        if not sets:
            return ""
        value = module.values.get(name)
        start = (
            f"{module.path}:{value.line} binds it to `None`, and " if value is not None and value.ref == "None" else ""
        )
        return (
            f"{start}it is set only inside functions, under `global {name}`: {'; '.join(sets[:3])}"
            f"{'; ...' if len(sets) > 3 else ''}, which phase two does not follow: what the name holds when a request "
            "comes depends on which of them ran last, and on what they build then"
        )


def _spelled(expression: str) -> str:
    """A value-flow expression as code, its arguments elided: `$_session_maker()` -> `_session_maker(...)`,
    `sqlalchemy.orm.sessionmaker()` -> `sessionmaker(...)` (a reference by its own name)."""
    if not expression.startswith("$"):
        head, paren, rest = expression.partition("(")
        expression = head.rpartition(".")[2] + paren + rest
    return expression.removeprefix("$").replace("()", "(...)")
