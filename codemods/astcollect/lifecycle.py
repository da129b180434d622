"""Whether a generator's body is only a Session's lifecycle, as a `@contextmanager` opener writes it.

Phase two gives such an opener an async twin (`phase2/scope_openers.py`); anything else in the
body is named with its line, so the opener stays synchronous with a reason. The shapes read are
listed on `read`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

LIFECYCLE_METHODS = frozenset({"commit", "rollback", "close", "flush", "begin"})

# Before what `read` names when the body is lifecycle work but opens its Session with a call taking
# arguments (`with Session(engine) as s:`, `s = SessionLocal(bind=engine)`): that opening is all it
# does beyond the lifecycle, so a reason must not say the body does more.
ARGUED = "opens with arguments: "


def describe(problem: str, opened_lines: frozenset[int] | set[int]) -> str:
    """Why an opener whose `read` gave `problem` gets no async twin, as a reason says it:
    `opened_lines` are the lines where the project knows it opens a Session (what `ARGUED` names
    must be one, else it is some other call, and the body does more)."""
    if problem.startswith(ARGUED):
        named = problem.removeprefix(ARGUED)
        line = named.removeprefix("line ").partition(":")[0]
        if line.isdigit() and int(line) in opened_lines:
            return (f"its body opens its Session with arguments ({named}) rather than calling a sessionmaker with "
                    "none (`SessionLocal()`), and otherwise only yields, commits, rolls back and closes it")
        problem = named
    return f"its body does more than open, yield, commit, roll back and close its Session ({problem})"


def read(node: ast.FunctionDef, line_of: Callable[[ast.AST], int], handed: frozenset[str] = frozenset()) -> str:
    """"" when the body is only lifecycle work on the Session it opens and yields once;
    otherwise the first statement that is not, as `line N: `text``.

    The shapes read as lifecycle work, each on a name the body opens with a call taking no
    arguments (`session = SessionLocal()`, `with SessionLocal() as session:`, `with
    SessionLocal.begin() as session:`):

        session = SessionLocal()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    and any nesting of `try`/`except`/`else`/`finally` and `with` around one `yield session`;
    `session.commit()`, `.rollback()`, `.close()`, `.flush()`, `.begin()` as statements,
    `with session.begin():`, a bare `raise`, `pass` and the docstring. The exception classes an
    `except` names are read (a name or a dotted name, or a tuple of them), nothing else.

    Anything else (a log line, a call, an assignment, a parameter read, a second `yield`, a
    `yield` inside `except` or `finally`) is named with its line: phase two keeps such an
    opener synchronous and says which statement it would not carry into an async twin.

    `handed`: the body is read as a helper its callers hand their Session, one of these
    parameters (`with transaction(db):`): it opens none, and yields that Session or nothing
    (a bare `yield`); see `handed_lifecycle`.
    """
    return _read(_Reader(line_of, handed), node)


def handed_lifecycle(node: ast.FunctionDef, line_of: Callable[[ast.AST], int]) -> tuple[str, tuple[str, ...]]:
    """A generator taking parameters, read as `read` reads an opener but on a Session handed in:

        @contextmanager
        def transaction(session: Session) -> Iterator[Session]:
            try:
                yield session
                session.commit()
            except Exception:
                session.rollback()
                raise

    ("" or the first statement that is not such lifecycle work, the parameters the body yields
    or works on). Whether those are Sessions is the project's to say (`Project.session_params`)."""
    arguments = node.args
    names = frozenset(a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs))
    reader = _Reader(line_of, names)
    return _read(reader, node), tuple(sorted(reader.used))


def _read(reader: _Reader, node: ast.FunctionDef) -> str:
    body = node.body
    if body and type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant and isinstance(body[0].value.value, str):
        body = body[1:]
    problem = reader.block(body, may_yield=True)
    if problem is None and reader.yields != 1:
        what = "the Session it is handed" if reader.handed else "the Session it opens"
        return f"no single `yield` of {what}" if not reader.yields else "more than one `yield`"
    if problem is None and reader.argued is not None:
        return ARGUED + reader.argued
    return problem or ""


class _Reader:
    def __init__(self, line_of: Callable[[ast.AST], int], handed: frozenset[str] = frozenset()) -> None:
        self.line_of = line_of
        self.sessions: set[str] = set(handed)
        self.handed = bool(handed)
        self.used: set[str] = set()  # of the handed names: those the body yields or works on
        self.yields = 0
        self.argued: str | None = None  # the first opening taking arguments, named

    def block(self, statements: list[ast.stmt], may_yield: bool) -> str | None:
        for statement in statements:
            problem = self.statement(statement, may_yield)
            if problem is not None:
                return problem
        return None

    def statement(self, node: ast.stmt, may_yield: bool) -> str | None:
        kind = type(node)
        if kind is ast.Pass or kind is ast.Raise and node.exc is None and node.cause is None:  # type: ignore[attr-defined]
            return None
        if kind is ast.Assign and not self.handed and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:  # type: ignore[attr-defined]
            if self._opening(node.value) or self._argued(node, node.value):  # type: ignore[attr-defined]
                self.sessions.add(node.targets[0].id)  # type: ignore[attr-defined]
                return None
        if kind is ast.Expr:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is ast.Yield and may_yield and type(value.value) is ast.Name and value.value.id in self.sessions:
                self.yields += 1
                self.used.add(value.value.id)
                return None
            if type(value) is ast.Yield and may_yield and value.value is None and self.handed:
                self.yields += 1
                return None
            if self._lifecycle_call(value):
                return None
        if kind is ast.With and len(node.items) == 1:  # type: ignore[attr-defined]
            item = node.items[0]  # type: ignore[attr-defined]
            target = item.optional_vars
            if type(target) is ast.Name and not self.handed and (
                self._opening(item.context_expr, begin=True) or self._argued(node, item.context_expr)
            ):
                self.sessions.add(target.id)
                return self.block(node.body, may_yield)  # type: ignore[attr-defined]
            if target is None and self._lifecycle_call(item.context_expr, ("begin",)):
                return self.block(node.body, may_yield)  # type: ignore[attr-defined]
        if kind is ast.Try:
            problem = self.block(node.body, may_yield)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                if handler.type is not None and not _exception_classes(handler.type):
                    return self._named(handler)
                problem = problem or self.block(handler.body, may_yield=False)
            return (
                problem or self.block(node.orelse, may_yield)  # type: ignore[attr-defined]
                or self.block(node.finalbody, may_yield=False)  # type: ignore[attr-defined]
            )
        return self._named(node)

    def _lifecycle_call(self, value: ast.expr, methods: tuple[str, ...] | frozenset[str] = LIFECYCLE_METHODS) -> bool:
        found = (
            type(value) is ast.Call and not value.args and not value.keywords
            and type(value.func) is ast.Attribute and value.func.attr in methods
            and type(value.func.value) is ast.Name and value.func.value.id in self.sessions
        )
        if found:
            self.used.add(value.func.value.id)  # type: ignore[attr-defined]
        return found

    def _opening(self, value: ast.expr, begin: bool = False) -> bool:
        """`Maker()`, or `Maker.begin()` where `begin`: a call of a (dotted) name without
        arguments, not rooted at a Session already opened (`session.begin()` opens none)."""
        if type(value) is not ast.Call or value.args or value.keywords:
            return False
        func = value.func
        if begin and type(func) is ast.Attribute and func.attr == "begin":
            func = func.value
        while type(func) is ast.Attribute:
            func = func.value
        return type(func) is ast.Name and func.id not in self.sessions

    def _argued(self, node: ast.stmt, value: ast.expr) -> bool:
        """`Session(engine)`: a call of a (dotted) name with arguments, read as the opening it may be
        (the project says whether it opens a Session: `describe`), remembered as the first such."""
        if type(value) is not ast.Call or not (value.args or value.keywords):
            return False
        bare = ast.Call(func=value.func, args=[], keywords=[])
        if not self._opening(bare):
            return False
        if self.argued is None:
            self.argued = self._named(node)
        return True

    def _named(self, node: ast.stmt | ast.ExceptHandler) -> str:
        if isinstance(node, ast.ExceptHandler):
            text = f"except {ast.unparse(node.type)}:" if node.type is not None else "except:"
        else:
            text = ast.unparse(node).splitlines()[0]
        return f"line {self.line_of(node)}: `{text}`"


def _exception_classes(node: ast.expr) -> bool:
    if type(node) is ast.Tuple:
        return all(_exception_classes(element) for element in node.elts)
    while type(node) is ast.Attribute:
        node = node.value
    return type(node) is ast.Name
