"""The pre-pass on `ast`: the shapes `ast` spells differently from the source.

Calls are numbered in the order they are written (the rewriters count them that way in
libcst), a node's line is where its first wrapping parenthesis stands, `None`/`True`/
`False` are names, pragmas come from comment text, and syntax newer than the running
Python is read through libcst without moving a line.
"""

from __future__ import annotations

import ast
import sys
import textwrap

import libcst as cst
import pytest

from async_migrate.codemods.astcollect import collect, type_params
from async_migrate.codemods.astcollect.newer import readable
from async_migrate.codemods.tree import walk


def _function(source: str):  # type: ignore[no-untyped-def]
    (function,) = collect("app/m.py", textwrap.dedent(source)).functions
    return function


def test_calls_are_numbered_in_the_order_written_as_libcst_walks_them():
    source = textwrap.dedent(
        """
        def f(db, n=make(), *, k: "int" = other()):
            outer(key=first(), *second(db))
            mapping = {key(): val() for k, v in items()}
            chosen = left() if test() else right()
            return [r for r in stream(db)]
        """
    )
    function = _function(source)
    written = [call.callee for call in function.calls]
    assert written == ["outer", "first", "second", "key", "val", "items", "left", "test", "right", "stream"]
    # the same order as libcst's walk of the body, which the rewriters use
    body = cst.parse_module(source).body[0].body
    names = [cst.Module([]).code_for_node(n.func) for n in walk(body) if isinstance(n, cst.Call)]
    assert names == written
    assert [call.index for call in function.calls] == list(range(len(written)))


def test_lines_and_texts_take_the_wrapping_parentheses_but_not_a_call_s():
    function = _function(
        """
        async def f(db):
            rows = (
                db.execute(query)
                .scalars()
            )
            total = sum(row.price for row in rows)
            await (db.flush())
        """
    )
    assert [(call.line, call.method or call.callee) for call in function.calls[:2]] == [(3, None), (4, "execute")]
    assert function.awaits == [(8, "await (db.flush())")]
    assert function.calls[0].chained == "scalars"


def test_none_true_and_false_are_names_and_pragmas_come_from_comments():
    function = _function(
        """
        # async-migrate: ignore[AM101] kept on the sync path
        def f(db=None):
            handle = None
            return None  # async-migrate: not a pragma here
        """
    )
    assert function.pragma == "ignore[AM101] kept on the sync path"
    assert function.params[0].default_ref == "None"
    assert [(b.name, b.expr) for b in function.bindings] == [("handle", "None")]
    assert function.yields == ("None",)
    near_miss = _function("def f(db):  # a comment, then # async-migrate: ignore\n    return db\n")
    assert near_miss.pragma is None


def test_a_one_line_suite_is_not_looked_into_for_definitions():
    module = collect("app/m.py", "if TYPE_CHECKING: from x import Session\nif OTHER:\n    from y import Engine\n")
    assert module.imports == {"Engine": "y.Engine"}


def test_newer_syntax_is_read_through_libcst_line_for_line():
    source = textwrap.dedent(
        """
        type Rows[T] = list[T]

        def first[T](items: list[T]) -> T:
            return pick(items)

        def names(db):
            return db.execute(f"{labels["a"]}")
        """
    )
    older = readable(source)
    assert len(older.splitlines()) == len(source.splitlines())
    ast.parse(older)
    module = collect("app/m.py", older)
    assert [(f.name, f.line, [c.callee for c in f.calls]) for f in module.functions] == [
        ("first", 4, ["pick"]),
        ("names", 7, [None]),
    ]
    assert module.functions[1].calls[0].method == "execute"


def test_a_type_statement_reads_as_the_assignment_whichever_python_runs_the_tool():
    # Python 3.12's `ast` reads `type X = v` as a statement of its own, which no reader of
    # module values knew: the alias injecting the Session was invisible there, and only there.
    from async_migrate.codemods.workers import _collect_text

    alias = "from typing import Annotated\nfrom fastapi import Depends\n{}SessionDep = Annotated[Session, Depends(get_db)]\n"
    statement = _collect_text("app/deps.py", alias.format("type "))
    assignment = _collect_text("app/deps.py", alias.format(""))
    assert "SessionDep" in assignment.values
    assert statement.values == assignment.values


def test_a_function_local_from_import_reads_no_attribute_and_uses_no_name():
    function = _function(
        """
        def f(db, models):
            from models.task import Task
            from db.engine import SessionLocal
            return Task, SessionLocal
        """
    )
    assert function.attributes == []
    assert "db" not in function.name_uses and "models" not in function.name_uses


def test_near_miss_a_function_local_import_of_a_package_still_binds_it():
    function = _function(
        """
        def f(models):
            import models.task
            return models.task.Task
        """
    )
    assert (3, "models", "task") in function.attributes


def test_a_call_s_line_is_its_own_unless_a_parenthesis_wraps_it_from_an_earlier_line():
    function = _function(
        """
        def f(db):
            a = db.get(A, 1)
            b = (  # a comment
                db.get(B, 1)
            )
            c = x \\
                or db.get(C, 1)
            d = [(
                db.get(D, 1))]
        """
    )
    assert [call.line for call in function.calls if call.method == "get"] == [3, 4, 8, 9]


def test_an_argument_s_line_is_decided_on_its_line_only_when_the_parenthesis_is_a_call_s():
    from async_migrate.codemods.astcollect.syntax import Source

    text = textwrap.dedent(
        """\
        x = (
            (a)
        )
        y = (
            f(b)
        )
        z = (
            not (c)
        )
        w = (
            g()[0](d)
        )
        v = (
            if_(e)
        )
        """
    )
    source = Source(text)
    lines = {n.id: source.line_of(n) for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name) and len(n.id) == 1}
    # `(a)` sits in parentheses that reach back to line 1; the others are a call's argument or
    # follow a keyword, on their own line
    assert lines == {"x": 1, "a": 1, "y": 4, "f": 5, "b": 5, "z": 7, "c": 8, "w": 10, "g": 11, "d": 11, "v": 13, "e": 14}


def test_a_name_first_on_its_line_reads_the_code_ending_an_earlier_line():
    from async_migrate.codemods.astcollect.syntax import Source

    # The line a node starts on, read off the earlier lines' code (comments, blank lines and
    # backslashes stepped over), is the one the whole-text walk finds; CRLF line ends too.
    text = (
        "x = f(\n"
        "    a,  # (\n"
        "\n"
        "    # only a comment (\n"
        "    b,\n"
        ")\n"
        "y = (  # (\n"
        "    c\n"
        ")\n"
        "z = g( \\\n"
        "    d)\n"
        "w = [(\n"
        "    e)]\n"
    )
    expected = {"x": 1, "f": 1, "a": 2, "b": 5, "y": 7, "c": 7, "z": 10, "g": 10, "d": 11, "w": 12, "e": 12}
    variants = (text, text.replace("    c\n", "c\n"), text.replace("\n", "\r\n"), text.replace("(  # (", "(").replace("\n", "\r\n"))
    for written in variants:
        source = Source(written)
        names = (n for n in ast.walk(ast.parse(written)) if isinstance(n, ast.Name) and len(n.id) == 1)
        assert {n.id: source.line_of(n) for n in names} == expected


def test_a_module_names_scoped_session_only_when_its_text_spells_it():
    assert collect("app/db.py", "from sqlalchemy.orm import scoped_session\n").scoped
    assert not collect("app/db.py", "from sqlalchemy.orm import sessionmaker  # é\n").scoped
    # Python reads identifiers NFKC-normalised: a fullwidth letter spells the same name
    assert collect("app/db.py", "from sqlalchemy.orm import \uff53coped_session\n").scoped


def test_chained_reads_are_written_as_ast_unparse_writes_them():
    from async_migrate.codemods.astcollect.objects import _written

    for text in (
        "session.scalars(select(User).where(User.name == 'a', User.id != 1)).first",
        'db.execute(text("x"), {"n": 1}).mappings',
        "f(*args, key=None, **kw).g",
        "(1).real",
        "f(a + b, not c, lambda: 1, x if y else z, (yield_ := 2)).h",
        "f(b'x', 1.5, 'é\\n', ...).g",
        "select(B).where(B.stock > 0, B.name != 'it\\'s', B.x == None, B.y < -1, B.z >= 1.5, a > (b > 0)).c",
    ):
        node = ast.parse(text, mode="eval").body
        assert _written(node.value) == ast.unparse(node.value)  # type: ignore[attr-defined]


def test_names_bound_inside_the_function_shadow_module_level_functions_of_that_name():
    (h, f) = collect(
        "app/m.py",
        textwrap.dedent(
            """
            def h():
                pass


            def f(rows, HANDLERS):
                [h() for h in HANDLERS]
                {h(): 1 for h in HANDLERS}
                sum(h() for h in HANDLERS)
                (lambda h: h())(rows)
                def nested(h):
                    return h()
                try:
                    pass
                except ValueError as h:
                    h()
                match rows:
                    case [*h]:
                        h()
                with open(rows) as (h, g):
                    h()
                if (h := rows):
                    h()
            """
        ),
    ).functions
    called = [call.callee or call.func for call in f.calls if (call.callee or call.func or "").endswith("h")]
    assert called == ["$h"] * 9  # never the module's `app.m.h`
    assert "app.m.h" not in collect("app/m.py", "def h(): pass\n\ndef f(X):\n    return [h for h in X]\n").references


def test_near_miss_a_comprehension_s_variable_is_not_bound_outside_it():
    (_, f) = collect(
        "app/m.py",
        textwrap.dedent(
            """
            def h():
                pass


            def f(HANDLERS):
                found = [h() for h in HANDLERS]
                return found, h(), [x for x in h()]
            """
        ),
    ).functions
    # the second and third calls name the module's `h`; the outermost iterable is read outside the comprehension
    assert [call.callee for call in f.calls] == [None, "app.m.h", "app.m.h"]


GENERATED = '''
import attr
from dataclasses import InitVar, dataclass, field
from sqlalchemy.orm import Session


@dataclass(kw_only=True)
class Written:
    session: Session
    limit: int = 3


@attr.define
class Defined:
    session: Session


@dataclass(init=False)
class NoInit:
    session: Session


@dataclass
class Factory:
    session: Session = field(repr=False)


@dataclass
class Init:
    session: Session
    token: InitVar[str]


@attr.define
class Mixed:
    session: Session
    other = attr.ib()


@dataclass
class Child(Written):
    extra: int = 0
'''


def test_the_init_a_class_decorator_writes_is_read_from_its_fields():
    module = collect("s.py", textwrap.dedent(GENERATED), "s")
    inits = {f.qualname: f for f in module.functions if f.name == "__init__"}
    assert sorted(inits) == ["Defined.__init__", "Written.__init__"]
    written = inits["Written.__init__"]
    assert [(p.name, p.annotation, p.positional) for p in written.params] == [
        ("self", (), True), ("session", ("sqlalchemy.orm.Session",), False), ("limit", ("int",), False),
    ]
    assert written.assigns == [("session", "$session"), ("limit", "$limit")]
    assert written.line == 8  # the class statement, as reasons name it


def test_names_a_nested_scope_binds_are_held_in_the_order_written_whatever_the_string_hashing():
    # Read into a set, their order in `holds` followed the interpreter's string hashing: the same
    # file gave facts in another order from one run to the next (and the cache a new identity).
    source = """
        def f(db):
            def inner(alpha, beta, gamma, delta):
                epsilon = zeta = eta = theta = 1
            return inner
        """
    (function,) = [f for f in collect("app/m.py", textwrap.dedent(source)).functions if f.name == "f"]
    nested = [name for name in function.holds if name != "inner"]
    assert nested == ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def test_top_level_calls_and_a_body_ending_in_return_are_facts():
    # what `phase2.expired_helpers.hands_back_refreshed` reads, in phase one too, without the source
    function = _function(
        """
        def create(db, obj):
            db.add(obj)
            if obj.flag:
                db.refresh(obj)
            db.commit()
            return helper(db, obj)
        """
    )
    assert [(c.method or c.callee, c.top) for c in function.calls] == [
        ("add", True), ("refresh", False), ("commit", True), ("helper", True),
    ]
    assert function.ends_in_return
    assert not _function("def f(db):\n    if db:\n        return db\n").ends_in_return


def test_a_module_parsed_again_reads_newer_syntax_as_the_pre_pass_does():
    from async_migrate.codemods.astcollect import parse_read
    from async_migrate.codemods.sources import tree_of

    source = 'type Rows = list[int]\n\ndef names(db):\n    db.commit()\n    return f"{ {"a": 1}["a"]}"\n'
    text, tree = parse_read(source, "app/m.py")
    # Python 3.12 reads both statements itself
    assert text == (source if sys.version_info >= (3, 12) else readable(source))
    assert ast.dump(tree_of(lambda path: source, "app/m.py")) == ast.dump(tree)
    assert [(type(n).__name__, n.lineno) for n in tree.body] == [("Assign", 1), ("FunctionDef", 3)]
    try:
        parse_read("def (:\n", "app/broken.py")
    except SyntaxError:
        pass
    else:
        raise AssertionError("a module neither parser reads raises SyntaxError")


def test_a_module_level_class_s_type_parameters_read_as_the_typevars_they_stand_for():
    source = textwrap.dedent(
        """\
        from sqlalchemy.orm import Session

        # the repositories
        class Repository[S: (Session, AsyncSession)](Base, metaclass=Meta):
            def __init__(self, session: S) -> None:
                self.session = session


        class Plain[T: Base, *Ts]:
            pass
        class Tight[U]:
            pass


        class Twice[K: Session]:
            def get[K](self, key: K) -> K:
                return key
        """
    )
    older = readable(source, generics=True)
    assert len(older.splitlines()) == len(source.splitlines())
    lines = older.splitlines()
    assert lines[1] == 'import typing as _am_typing; S = _am_typing.TypeVar("S", Session, AsyncSession)', older
    assert lines[3] == "class Repository(Base, _am_typing.Generic[S], metaclass=Meta):", older
    # near misses, read as before without their parameters: a variadic one, no blank line above
    # to declare it on
    assert "class Plain:" in older and "class Tight:" in older, older
    # a name declared two ways: the class's own, where the method's own is not read
    assert '_am_Twice_K = _am_typing.TypeVar("_am_Twice_K", bound=Session)' in older, older
    assert "class Twice(_am_typing.Generic[_am_Twice_K]):" in older, older
    assert "def get(self, key: K) -> K:" in older, older
    assert older.count("TypeVar") == 2, older
    # a statement read alone keeps only its own statements
    assert "TypeVar" not in readable(source)


GENERIC_MODULE = textwrap.dedent(
    """\
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    # the repositories
    class Repository[S: (Session, AsyncSession)](Base, metaclass=Meta):
        def __init__(self, session: S) -> None:
            self.session = session


    class Bounded[B: Session, U]:
        pass


    class Plain[T: Base, *Ts]:
        pass


    class Twice[K: Session]:
        def get[K](self, key: K) -> K:
            return key


    class Shadowed[Session]:
        def held(self, value: Session, other: Twice[Session]) -> None:
            value.session.commit(Session=other)


    class Books(Repository[AsyncSession]):
        pass
    """
)


def _generic_facts(module):  # type: ignore[no-untyped-def]
    values = {
        name: (value.ref, [(a.keyword, a.ref) for a in value.args])
        for name, value in module.values.items() if value.kind == "call"
    }
    classes = {c.name: (c.bases, c.base_args) for c in module.classes if c.qualname == c.name}
    return values, classes


def test_type_parameters_read_alike_through_libcst_and_python_3_12_s_own_ast():
    # Which classes are declared, and how, is one decision (`type_params.declared`), whichever parser
    # read the parameters: libcst on Python 3.11, `ast` on 3.12 and later.
    older = collect("app/m.py", readable(GENERIC_MODULE, generics=True))
    values, classes = _generic_facts(older)
    assert values == {
        "S": ("typing.TypeVar", [(None, None), (None, "sqlalchemy.orm.Session"), (None, "sqlalchemy.ext.asyncio.AsyncSession")]),
        "B": ("typing.TypeVar", [(None, None), ("bound", "sqlalchemy.orm.Session")]),
        "U": ("typing.TypeVar", [(None, None)]),
        # a name declared two ways, a name the module binds otherwise: the class's own
        "_am_Twice_K": ("typing.TypeVar", [(None, None), ("bound", "sqlalchemy.orm.Session")]),
        "_am_Shadowed_Session": ("typing.TypeVar", [(None, None)]),
    }, values
    assert classes["Repository"][0][-1] == "typing.Generic"
    assert classes["Repository"][1]["typing.Generic"] == ("app.m.S",)
    assert classes["Bounded"][1]["typing.Generic"] == ("app.m.B", "app.m.U")
    assert classes["Twice"][1]["typing.Generic"] == ("app.m._am_Twice_K",)
    # a variadic parameter: dropped
    assert "typing.Generic" not in classes["Plain"][0], classes["Plain"]
    functions = {f.qualname: f for f in older.functions}
    # the method's own `K` is not the class's
    assert functions["Twice.get"].params[1].annotation == ("K",)
    held = functions["Shadowed.held"].params
    assert held[1].annotation == ("app.m._am_Shadowed_Session",), held
    assert held[2].annotation == ("app.m.Twice", "app.m._am_Shadowed_Session"), held
    if sys.version_info >= (3, 12):
        native = collect("app/m.py", GENERIC_MODULE)
        assert _generic_facts(native) == (values, classes)
        assert [
            (f.qualname, [p.annotation for p in f.params], [(c.callee, c.method, [a.keyword for a in c.args]) for c in f.calls])
            for f in native.functions
        ] == [
            (f.qualname, [p.annotation for p in f.params], [(c.callee, c.method, [a.keyword for a in c.args]) for c in f.calls])
            for f in older.functions
        ]


def test_which_classes_are_declared_as_generic_over_typevars_and_under_which_names():
    plain = type_params.Parameter("S", plain=True, constraints=("Session", "AsyncSession"))
    other = type_params.Parameter("S", plain=True, bound="Session")
    star = type_params.Parameter("Ts", plain=False)
    classes = [("one", "One", [plain]), ("variadic", "Variadic", [plain, star]), ("none", "None_", [])]
    assert type_params.declared(classes, [plain, star], set()) == {"one": {"S": "S"}}
    # declared otherwise elsewhere, or bound at module level: a name of the class's own
    assert type_params.declared(classes, [plain, star, other], set()) == {"one": {"S": "_am_One_S"}}
    assert type_params.declared(classes, [plain], {"S"}) == {"one": {"S": "_am_One_S"}}
    assert type_params.declared(classes, [plain], {"S", "_am_One_S"}) == {}
    assert type_params.normal("Session |None") == type_params.normal("Session | None") == "Session | None"


@pytest.mark.skipif(sys.version_info < (3, 12), reason="Python 3.12's ast reads type parameters")
def test_python_3_12_s_own_type_parameters_are_declared_at_their_positions():
    from async_migrate.codemods.astcollect import parse

    tree = parse(GENERIC_MODULE, "app/m.py", generics=True)
    found = [(type(s).__name__, s.lineno) for s in tree.body]
    assert found[2:6] == [("Import", 5), ("Assign", 5), ("ClassDef", 5), ("Import", 10)], found
    assign = tree.body[3]
    assert ast.get_source_segment(GENERIC_MODULE, assign.value.args[1]) == "Session"
    assert ast.unparse(tree.body[4].bases[-1]) == "_am_typing.Generic[S]"
    # without `generics` (a statement read alone, a rewrite's own check) the tree is as written
    assert [type(s).__name__ for s in parse(GENERIC_MODULE, "app/m.py").body].count("Assign") == 0


@pytest.mark.skipif(sys.version_info < (3, 12), reason="Python 3.12's ast reads the type statement")
def test_every_type_statement_reads_as_the_assignment_it_binds_like():
    from async_migrate.codemods.astcollect import parse

    for source in ("import x; type A = int\n", "if x: type A = int\n", "class C:\n    type A = int\n"):
        tree = parse(source)
        assert not [n for n in ast.walk(tree) if type(n).__name__ == "TypeAlias"], source
        assert [n.id for n in ast.walk(tree) if type(n) is ast.Name and type(n.ctx) is ast.Store] == ["A"], source


def test_a_parameter_rebound_by_chains_on_itself_is_read_without_error():
    """`text = text.replace(...).replace(...)` twice (difflib's `_format_line`): the first value
    reads the parameter, which no assignment reaches; that read holds no query's result."""
    source = textwrap.dedent('''
        def markup(text):
            text = text.replace("&", "&amp;").replace(">", "&gt;")
            text = text.replace(" ", "&nbsp;").rstrip()
            return text


        async def latest(db, result):
            first = result.scalars().first()
            result = await db.execute(stmt)
            result = await db.execute(stmt)
            return first
    ''')
    module = collect("m.py", source)
    assert [f.qualname for f in module.functions] == ["markup", "latest"]


def test_collecting_leaves_no_reference_cycles_for_a_worker_without_the_cycle_collector():
    # Workers collect with the cycle collector off: a cycle built while reading one module (a
    # closure calling itself holds its cell) would keep that module's tree for the whole run.
    import gc

    source = textwrap.dedent(
        """
        import asyncio

        HANDLERS = {}

        def register(kind):
            def wrap(fn):
                HANDLERS[kind] = fn
                return fn
            return wrap

        @register("count")
        async def route(db, ids):
            tasks = []
            for i in ids:
                tasks.append(asyncio.create_task(count(db, i)))
            done = [await t for t in tasks]
            while done:
                done.pop()
            return await asyncio.gather(*[count(db, i) for i in ids])
        """
    )
    collect("app/m.py", source)  # imports and caches filled once, outside the count
    enabled = gc.isenabled()
    while gc.collect():  # what freeing earlier tests' cycles leaves (weakref callbacks) too
        pass
    gc.disable()
    try:
        for _ in range(3):
            collect("app/m.py", source)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def test_the_ifs_a_parameter_alone_decides_and_the_constants_a_call_hands():
    function = _function(
        """
        def f(scoped=True, mode="plain", kept=None, *, rebound=False, inner=1, other=None):
            if scoped:
                a = 1
            else:
                a = 2
            if mode == "x":
                b = 1
            if kept is not None:
                c = 1
            if rebound:
                d = 1
            rebound = True
            if not inner:
                e = 1
            if other is 3 or other:
                g = 1
            def nested():
                nonlocal inner
                inner = 2
            make(False, "x", n=1e999, **extra)
            make(False, *more)
            make(None, key="x", size=1.5)
        """
    )
    assert function.param_tests == (
        ("scoped", "True", "truth", "", 4, 4, 6, 6),
        ("mode", "'plain'", "==", "'x'", 8, 8, 0, 0),
        ("kept", "None", "is not", "None", 10, 10, 0, 0),
    )
    assert [call.literals for call in function.calls] == [None, None, ((0, "None"), ("key", "'x'"), ("size", "1.5"))]


@pytest.mark.parametrize(
    "spelled",
    ['sys.modules["app.crud"]', 'sys.modules ["app.crud"]', '(sys.modules  # the loaded ones\n    )["app.crud"]'],
)
def test_a_module_taken_out_of_sys_modules_is_read_however_its_subscript_is_spaced(spelled):
    # the text test skipping the walk looks for the subscript, not the word alone
    source = f"import sys\n\nhelpers = {spelled}\n\ndef run(db):\n    return helpers.add(db)\n"
    assert collect("app/m.py", source).by_name == [("app.crud", 'helpers = import_module("app.crud")')]


def test_the_word_modules_alone_is_no_lookup():
    source = 'import sys\n\n# the loaded modules\nloaded = sorted(sys.modules)\nmodules = {"app.crud": 1}\n'
    assert collect("app/m.py", source).by_name == []
