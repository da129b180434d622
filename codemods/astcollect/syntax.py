"""Reading Python's `ast` the way the facts are spelled: source order, names, source text.

`ast` keeps some children apart that the source interleaves (a call's positional and
keyword arguments, a dict's keys and values, a parameter's annotation and default,
decorators after the body), so "the n-th call" is counted over `children`, which
yields them in the order they are written, as the rewriters (libcst) see them.
`None`, `True` and `False` are constants in `ast` and names in the source: the facts
treat them as names (`x = None` binds `x` to the expression `None`).

Over 500 lines: the small readers every collector shares (order, names, text, literals), kept
together so that each is written once and the walks stay fast.
"""

from __future__ import annotations

import ast
import bisect
import io
import itertools
import keyword
import sys
import tokenize
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

PRAGMA = "async-migrate:"

# Constants written as names.
NAMED_CONSTANTS = {None: "None", True: "True", False: "False"}

# Fields that hold no code, only contexts and operators (shared singletons, never walked) or
# type-ignore comments; no other field holds those.
_NO_CODE_FIELDS = frozenset({"ctx", "op", "ops", "type_ignores"})
# Node type name -> its fields the grammar types as identifiers, strings or numbers, never nodes:
# every walk asking `code_fields` for each node would otherwise read them, only to drop them.
_SCALAR_FIELDS = {
    "FunctionDef": ("name", "type_comment"), "AsyncFunctionDef": ("name", "type_comment"), "ClassDef": ("name",),
    "Assign": ("type_comment",), "For": ("type_comment",), "AsyncFor": ("type_comment",),
    "With": ("type_comment",), "AsyncWith": ("type_comment",), "AnnAssign": ("simple",),
    "ImportFrom": ("module", "level"), "Global": ("names",), "Nonlocal": ("names",),
    "FormattedValue": ("conversion",), "Constant": ("value", "kind"), "Attribute": ("attr",), "Name": ("id",),
    "ExceptHandler": ("name",), "arg": ("arg", "type_comment"), "keyword": ("arg",), "alias": ("name", "asname"),
    "comprehension": ("is_async",), "MatchSingleton": ("value",), "MatchStar": ("name",), "MatchMapping": ("rest",),
    "MatchClass": ("kwd_attrs",), "MatchAs": ("name",),
}

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
COMPOUND = (ast.If, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.TryStar)


def after_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    """`body` (a new list) without its first statement when that is a constant expression: a
    docstring, or a bare `...`."""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return list(body)


def named_constant(node: ast.AST) -> str | None:
    """`None`/`True`/`False` written as a name."""
    if type(node) is ast.Constant:
        value = node.value
        if value is None or value is True or value is False:
            return NAMED_CONSTANTS[value]
    return None


def name_of(node: ast.AST | None) -> str | None:
    """The name a bare name expression spells (`None`, `True`, `False` included)."""
    if type(node) is ast.Name:
        return node.id
    return named_constant(node) if node is not None else None


def last_name(func: ast.expr) -> str | None:
    """The last name of a called expression: `gather` of `asyncio.gather`, `Load` of `Load`."""
    return func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else None


def dotted(node: ast.AST | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, None for anything else."""
    kind = type(node)
    if kind is ast.Name:  # the commonest shapes, without the loop
        return node.id  # type: ignore[union-attr]
    if kind is ast.Attribute and type(node.value) is ast.Name:  # type: ignore[union-attr]
        # Interned, as `Collector.resolve`: facts keep many of these, each as many times as written.
        return sys.intern(f"{node.value.id}.{node.attr}")  # type: ignore[union-attr]
    parts: list[str] = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    head = name_of(node)
    if head is None:
        return None
    parts.append(head)
    return sys.intern(".".join(reversed(parts)))


def name_chain(node: ast.AST | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain; None for anything else, a bare constant (`None`) too."""
    return None if type(node) is ast.Constant else dotted(node)


def is_flow(node: ast.AST | None) -> bool:
    """What the value notation can spell: names, attributes, calls."""
    kind = type(node)
    return kind is ast.Name or kind is ast.Attribute or kind is ast.Call or named_constant(node) is not None  # type: ignore[arg-type]


def by_position(nodes: list[ast.AST]) -> list[ast.AST]:
    return sorted(nodes, key=lambda node: (node.lineno, node.col_offset))  # type: ignore[attr-defined]


def call_arguments(call: ast.Call) -> list[ast.AST]:
    """Positional (`Starred` for `*x`) and keyword arguments, in the order written."""
    if not call.keywords:
        return list(call.args)
    if not call.args:
        return list(call.keywords)
    # Only a `*x` may follow a keyword (`f(k=1, *x)`): without one the positional arguments come
    # first, and the sort (asked for most calls with keywords) would change nothing.
    for item in call.args:
        if type(item) is ast.Starred:
            return by_position([*call.args, *call.keywords])
    return [*call.args, *call.keywords]


def argument_value(argument: ast.AST) -> ast.expr:
    """The expression of an argument from `call_arguments`, without its star or keyword."""
    if type(argument) is ast.Starred or type(argument) is ast.keyword:
        return argument.value
    return argument  # type: ignore[return-value]


def argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    """The `position`-th positional argument (stars not counted), else the one passed as `keyword=`."""
    positional = [a for a in call.args if type(a) is not ast.Starred]
    if position < len(positional):
        return positional[position]
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    return None


def parameters(args: ast.arguments) -> list[tuple[ast.arg, ast.expr | None]]:
    """Each parameter with its default, in the order written. A list, not a generator: it is
    asked several times of every function."""
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    found = list(zip(positional, defaults))
    if args.vararg is not None:
        found.append((args.vararg, None))
    if args.kwonlyargs:
        found += zip(args.kwonlyargs, args.kw_defaults)
    if args.kwarg is not None:
        found.append((args.kwarg, None))
    return found


def _arguments_children(node: ast.arguments) -> Iterator[ast.AST]:
    for param, default in parameters(node):
        yield param
        if default is not None:
            yield default


def _dict_children(node: ast.Dict) -> Iterator[ast.AST]:
    for key, value in zip(node.keys, node.values):
        if key is not None:
            yield key
        yield value


def _function_children(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
    yield from node.decorator_list
    yield node.args
    if node.returns is not None:
        yield node.returns
    yield from node.body


def _class_children(node: ast.ClassDef) -> Iterator[ast.AST]:
    yield from node.decorator_list
    yield from node.bases  # then the keywords, whatever their place (as libcst's walk has them)
    yield from node.keywords
    yield from node.body


def _call_children(node: ast.Call) -> list[ast.AST]:
    # A list, not a generator: calls are the commonest nodes with children of their own.
    if not node.keywords:
        return [node.func, *node.args]
    return [node.func, *call_arguments(node)]


def _if_exp_children(node: ast.IfExp) -> Iterator[ast.AST]:
    yield node.body
    yield node.test
    yield node.orelse


# Node type -> its children in the order written, where that is not `_fields` order.
IN_SOURCE_ORDER = {
    ast.Call: _call_children,
    ast.Dict: _dict_children,
    ast.FunctionDef: _function_children,
    ast.AsyncFunctionDef: _function_children,
    ast.ClassDef: _class_children,
    ast.arguments: _arguments_children,
    ast.IfExp: _if_exp_children,
}


def children(node: ast.AST) -> Iterable[ast.AST]:
    """The child nodes that can hold code, in the order written."""
    kind = type(node)
    if kind is ast.Name or kind is ast.Constant:  # the commonest nodes, leaves
        return []
    if kind is ast.Attribute:
        return [node.value]  # type: ignore[attr-defined]
    ordered = IN_SOURCE_ORDER.get(kind)
    if ordered is not None:
        return ordered(node)  # type: ignore[operator]
    return field_children(node)


# Node type -> its fields that may hold code, in `_fields` order: filled by `code_fields`, read
# first by the walks that ask it for every node.
CODE_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def code_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node type that may hold code, in `_fields` order: all but contexts,
    operators, type-ignore comments, and the names and numbers the grammar stores as such."""
    fields = CODE_FIELDS.get(kind)
    if fields is None:
        scalar = _SCALAR_FIELDS.get(kind.__name__, ()) if getattr(ast, kind.__name__, None) is kind else ()
        fields = CODE_FIELDS[kind] = tuple(
            name for name in kind._fields if name not in _NO_CODE_FIELDS and name not in scalar
        )
    return fields


def field_children(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes(node)` as a list, without the contexts and operators: the same
    nodes in the same (`_fields`) order, which a walk looking for code meets alike, at a third
    of the generator's cost."""
    kind = type(node)
    if kind is ast.Name or kind is ast.Constant:
        return []
    fields = CODE_FIELDS.get(kind)
    if fields is None:
        fields = code_fields(kind)
    found: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if type(value) is list:
            if value:  # most lists of a node are empty (`orelse`, `decorator_list`, `keywords`)
                found.extend([item for item in value if isinstance(item, ast.AST)])
        elif isinstance(value, ast.AST):
            found.append(value)
    return found


def walk_fields(node: ast.AST) -> list[ast.AST]:
    """`ast.walk(node)` as a list, without the contexts and operators: the same nodes in the
    same (breadth-first) order, for the readers looking for names, calls or scopes below a node,
    at half the cost of the generator."""
    found = [node]
    index = 0
    while index < len(found):
        found.extend(field_children(found[index]))
        index += 1
    return found


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below and including node, depth first, in the order written."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        found = children(current)
        stack.extend(reversed(found if type(found) is list else list(found)))


# Node type -> the fields `own_nodes` descends into, last first (none for nested scopes).
_OWN_FIELDS: dict[type, tuple[str, ...]] = {}


def own_nodes(
    body: list[ast.stmt],
    stored: set[str] | None = None,
    callees: set[int] | None = None,
    statements: dict[str, list[ast.expr]] | None = None,
    calls: list[Any] | None = None,
    kinds: dict[type, list[Any]] | None = None,
) -> list[Any]:
    """Every node of the body outside nested scopes (the scope nodes themselves included), in
    `ast.walk`'s depth-first field order; contexts and operators left out (no reader
    needs them).
    Noted on the way, into the collections given: the names stored (`stored`), the ids of the called expressions
    (`callees`), the values assigned to a bare name, in order (`statements`), the calls of an
    attribute (`calls`), and the nodes of each kind `kinds` holds a list for, which is neither a
    name, a constant, an attribute, a keyword, an expression statement, an await nor a call."""
    found: list[Any] = []  # Any: the callers narrow by `type(item) is ...`, which mypy does not follow
    stack: list[ast.AST] = list(reversed(body))
    fields_of = _OWN_FIELDS
    node_type = ast.AST
    stored = set() if stored is None else stored
    callees = set() if callees is None else callees
    statements = {} if statements is None else statements
    kinds = {} if kinds is None else kinds
    while stack:
        item = stack.pop()
        found.append(item)
        kind = type(item)
        if kind is ast.Name:  # the commonest nodes hold no code
            if type(item.ctx) is ast.Store:  # type: ignore[attr-defined]
                stored.add(item.id)  # type: ignore[attr-defined]
            continue
        if kind is ast.Constant:
            continue
        if kind is ast.Attribute or kind is ast.keyword or kind is ast.Expr or kind is ast.Await:
            stack.append(item.value)  # type: ignore[attr-defined]
            continue
        if kind is ast.Call:  # the generic loop below, unrolled for the commonest node with children
            callees.add(id(item.func))  # type: ignore[attr-defined]
            if calls is not None and type(item.func) is ast.Attribute:  # type: ignore[attr-defined]
                calls.append(item)
            if item.keywords:  # type: ignore[attr-defined]
                stack.extend(reversed(item.keywords))  # type: ignore[attr-defined]
            if item.args:  # type: ignore[attr-defined]
                stack.extend(reversed(item.args))  # type: ignore[attr-defined]
            stack.append(item.func)  # type: ignore[attr-defined]
            continue
        listed = kinds.get(kind)
        if listed is not None:
            listed.append(item)
        if kind is ast.Assign:
            if len(item.targets) == 1 and type(item.targets[0]) is ast.Name:  # type: ignore[attr-defined]
                statements.setdefault(item.targets[0].id, []).append(item.value)  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign and type(item.target) is ast.Name and item.value:  # type: ignore[attr-defined]
            statements.setdefault(item.target.id, []).append(item.value)  # type: ignore[attr-defined]
        fields = fields_of.get(kind)
        if fields is None:
            fields = fields_of[kind] = () if issubclass(kind, SCOPES) else tuple(reversed(code_fields(kind)))
        for name in fields:  # last field first: the stack pops the first one first
            value = getattr(item, name, None)
            if type(value) is list:
                if value:  # most lists of a node are empty (`orelse`, `decorator_list`, `keywords`)
                    stack.extend([element for element in reversed(value) if isinstance(element, node_type)])
            elif isinstance(value, node_type):
                stack.append(value)
    return found


def scope_nodes(node: ast.AST) -> list[ast.AST]:
    """The nodes below `node` in its own scope: not the functions, lambdas and classes nested in
    it, nor their nodes (which run, if ever, when called)."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        found.append(child)
        stack.extend(ast.iter_child_nodes(child))
    return found


def returned_values(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.expr]:
    """What the function's own `return` statements return (not those of functions, lambdas or
    classes nested in it)."""
    stack: list[ast.AST] = list(reversed(function.body))
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if type(current) is ast.Return:
            if current.value is not None:
                yield current.value
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(current))))


def calls_under(node: ast.AST) -> Iterator[ast.Call]:
    """The calls below and including node, in `walk`'s order (as written, outer first)."""
    kind = type(node)
    if kind is ast.Name or kind is ast.Constant:
        return iter(())  # most annotations and defaults: no call under them, no walk needed
    # `walk` unrolled into a list: asked for every annotation, default and decorator, whose few
    # nodes cost less than the generators walking them.
    found: list[ast.Call] = []
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is ast.Name or kind is ast.Constant:
            continue
        if kind is ast.Attribute:
            stack.append(current.value)  # type: ignore[attr-defined]
            continue
        if kind is ast.Call:
            found.append(current)  # type: ignore[arg-type]
        kids = children(current)
        stack.extend(reversed(kids if type(kids) is list else list(kids)))
    return iter(found)


def string(node: ast.AST | None) -> str | None:
    if type(node) is ast.Constant and type(node.value) is str:
        return node.value
    return None


def strings(node: ast.AST | None) -> list[str]:
    if type(node) in (ast.List, ast.Tuple, ast.Set):
        found = (string(element) for element in node.elts)  # type: ignore[union-attr]
        return [s for s in found if s is not None]
    return []


def elements(node: ast.expr, source: Source | None = None) -> list[ast.expr]:
    """The elements of a subscript: `X[a, b]` -> [a, b], `X[a]` -> [a]; with the source,
    `X[()]` and `X[(a, b)]` -> the tuple."""
    if type(node) is ast.Tuple:
        if source is not None and (not node.elts or source.raw(node)[:1] == "("):
            first = source.extent(node.elts[0])[0] if node.elts else None
            if first is None or first > source.offset(node.lineno, node.col_offset):
                return [node]
        return list(node.elts)
    return [node]


def text(source: Source, node: ast.AST) -> str:
    """Source-like text of a simple expression (annotations, decorators), for reasons:
    common shapes in one normalised spelling, anything else as written on one line."""
    kind = type(node)
    if kind is ast.Name:
        return node.id  # type: ignore[attr-defined]
    if kind is ast.Attribute:
        return f"{text(source, node.value)}.{node.attr}"  # type: ignore[attr-defined]
    if kind is ast.Subscript:
        parts = [source.code(e) if type(e) is ast.Slice else text(source, e) for e in elements(node.slice, source)]  # type: ignore[attr-defined]
        return f"{text(source, node.value)}[{', '.join(parts)}]"  # type: ignore[attr-defined]
    if kind is ast.BinOp and type(node.op) is ast.BitOr:  # type: ignore[attr-defined]
        return f"{text(source, node.left)} | {text(source, node.right)}"  # type: ignore[attr-defined]
    if kind is ast.Call:
        args = []
        for item in call_arguments(node):  # type: ignore[arg-type]
            if type(item) is ast.Starred:
                args.append("*" + text(source, item.value))
            elif type(item) is ast.keyword:
                written = text(source, item.value)
                args.append(f"{item.arg}={written}" if item.arg is not None else "**" + written)
            else:
                args.append(text(source, item))
        return f"{text(source, node.func)}({', '.join(args)})"  # type: ignore[attr-defined]
    if kind is ast.Constant:
        named = named_constant(node)
        if named is not None:
            return named
        if type(node.value) in (int, float):  # type: ignore[attr-defined]
            return source.raw(node)
        if type(node.value) in (str, bytes) and not _concatenated(source.raw(node)):  # type: ignore[attr-defined]
            return source.raw(node)
    if kind is ast.List or kind is ast.Tuple:
        inner = ", ".join(text(source, e) for e in node.elts)  # type: ignore[attr-defined]
        return f"[{inner}]" if kind is ast.List else f"({inner})"
    return " ".join(source.code(node).split())


def clipped(code: str, width: int = 60) -> str:
    """Code quoted in a reason or finding (an await, a check, a change): on one line, and cut to
    `width` characters so a long expression does not bury the message."""
    one_line = " ".join(code.split())
    return one_line if len(one_line) <= width else one_line[: width - 3] + "..."


def _concatenated(code: str) -> bool:
    """Whether a string constant is written as several literals (`"a" "b"`)."""
    if code[-1:] not in "\"'" or len(code) < 2:
        return True
    if code[0] == code[-1] and code.count(code[0]) == 2:
        return False  # one plain literal: two literals would need the quote at least four times
    try:
        tokens = tokenize.generate_tokens(io.StringIO(code).readline)
        return sum(token.type == tokenize.STRING for token in tokens) > 1
    except (tokenize.TokenError, SyntaxError):
        return True


def may_name(source: Source, word: str) -> bool:
    """Whether the module may spell the identifier `word` anywhere: Python reads identifiers
    NFKC-normalised (`ｓcoped_session` is `scoped_session`), so a text with other characters is
    searched normalised."""
    if source.mentions(word):
        return True
    text = source.text
    if text.isascii():
        return False
    if source.normalized is None:  # asked for several words of every function
        source.normalized = unicodedata.normalize("NFKC", text)
    return word in source.normalized


class Source:
    """The module's text, for source text of nodes and the comments on its lines.

    `ast` columns count UTF-8 bytes; lines with other characters are converted.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0, *itertools.accumulate(map(len, self.lines))]
        self.has_pragma = PRAGMA in text
        self._mentions: dict[str, bool] = {}
        self.normalized: str | None = None  # the text NFKC-normalised, once `may_name` needs it
        # Every line break a `\n` (no lone `\r`, form feed...): `lines` are the text between the
        # `\n`s `_skip_back` walks over, and a line's code can be read off it alone.
        self._plain = len(self.lines) == text.count("\n") + (1 if text and not text.endswith("\n") else 0)
        self._codes: dict[int, str] = {}

    def mentions(self, word: str) -> bool:
        """Whether `word` is written anywhere in the module: asked for each function or parameter,
        the text is searched once."""
        found = self._mentions.get(word)
        if found is None:
            found = self._mentions[word] = word in self.text
        return found

    def mentions_within(self, word: str, node: ast.AST) -> bool:
        """Whether `word` is written in the node's text (a function's: its calls and the defs
        nested in it); the module's answer where some line ends otherwise than with `\n`."""
        if not self.mentions(word):
            return False
        return not self._plain or word in self.raw(node)

    def offset(self, line: int, column: int) -> int:
        text = self.lines[line - 1] if line <= len(self.lines) else ""
        if not text.isascii():
            column = len(text.encode("utf-8")[:column].decode("utf-8", "replace"))
        return self.starts[line - 1] + column

    def raw(self, node: ast.AST) -> str:
        """The node's text as `ast` places it."""
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return self.text[start:end]

    def extent(self, node: ast.AST) -> tuple[int, int]:
        """Where the node's text starts and ends, with the parentheses that wrap it
        (`(a + b)`, not the parentheses of a call it is the only argument of)."""
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        text = self.text
        if type(node) is ast.GeneratorExp and text.startswith("(", start) and _calls_before(text, start):
            # `f(x for x in y)`: `ast` counts the call's parentheses in
            start, end = _skip_forward(text, start + 1), _skip_back(text, end - 1) + 1
        while True:
            before = _skip_back(text, start)
            if before < 0 or text[before] != "(" or _calls_before(text, before):
                return start, end
            after = _skip_forward(text, end)
            if after >= len(text) or text[after] != ")":
                return start, end
            start, end = before, after + 1

    def code(self, node: ast.AST) -> str:
        """The node's text as written, with the parentheses that wrap it."""
        start, end = self.extent(node)
        return self.text[start:end]

    def line_of(self, node: ast.AST) -> int:
        """The line where the node's text starts, at the first parenthesis that wraps it."""
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""  # type: ignore[attr-defined]
        if line.isascii():
            # Most nodes follow `=`, `.`, `,` or a keyword on their own line: no wrapping
            # parenthesis, and no walk back over whitespace and comments needed.
            written = line[: node.col_offset].rstrip()  # type: ignore[attr-defined]
            last = written[-1:]
            if last and last not in "(\\":
                return node.lineno  # type: ignore[attr-defined]
            if last == "(" and (type(node) is ast.GeneratorExp or _call_paren(written)):
                return node.lineno  # type: ignore[attr-defined]
            if not last and self._plain and node.lineno <= len(self.lines):  # type: ignore[attr-defined]
                # First on its line (an argument of a call wrapped one per line): what comes
                # before it is the code ending an earlier line, as `_skip_back` would find it.
                code = self._code_above(node.lineno)  # type: ignore[attr-defined]
                if code[-1:] != "(" or type(node) is ast.GeneratorExp:
                    return node.lineno  # type: ignore[attr-defined]
                if code.isascii() and _call_paren(code):
                    return node.lineno  # type: ignore[attr-defined]
        text = self.text
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        before = _skip_back(text, start)
        if before < 0 or text[before] != "(" or type(node) is ast.GeneratorExp:
            return node.lineno  # type: ignore[attr-defined]
        start = self.extent(node)[0]
        return bisect.bisect_right(self.starts, start)

    def _code_above(self, number: int) -> str:
        """The code of the nearest line above line `number` that has any, without its comment and
        the whitespace and backslashes ending it; "" when none has."""
        codes = self._codes
        for above in range(number - 1, 0, -1):
            code = codes.get(above)
            if code is None:
                text = self.lines[above - 1]
                text = text[:-1] if text.endswith("\n") else text
                comment = _comment(text) if "#" in text else None
                if comment is not None:
                    text = text[: len(text.rstrip("\r")) - len(comment)]
                while True:  # `_skip_back` steps over both, in any order
                    stripped = text.rstrip().rstrip("\\")
                    if stripped == text:
                        break
                    text = stripped
                code = codes[above] = text
            if code:
                return code
        return ""

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def one_line_suite(self, body: list[ast.stmt]) -> bool:
        """`if x: y` rather than an indented block: the first statement shares its header's line."""
        first = body[0]
        line = self.line(first.lineno)
        # `col_offset` counts UTF-8 bytes: on an ASCII line (most) they are its characters
        if line.isascii():
            return bool(line[: first.col_offset].strip(" \t\n\r\x0b\x0c"))  # what `bytes.strip` strips
        return bool(line.encode("utf-8")[: first.col_offset].strip())

    def pragma(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
        """The `# async-migrate: ...` comment on the lines that belong to a `def`.

        The comment lines directly above the definition (not indented deeper than it),
        those between its last decorator and `def`, and the comments on the lines of its
        signature, the `def` line through the colon (not a colon line shared with the body).
        """
        if not self.has_pragma:  # no comment of the module can hold one: most modules
            return None
        first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        comments: list[str] = []
        number = first - 1
        above: list[str] = []
        while number >= 1:
            text = self.line(number)
            stripped = text.strip()
            if stripped and not stripped.startswith("#"):
                break
            if stripped and len(text) - len(text.lstrip()) <= node.col_offset:
                above.append(stripped)
            number -= 1
        comments.extend(reversed(above))
        if node.decorator_list:
            for number in range(node.decorator_list[-1].end_lineno + 1, node.lineno):  # type: ignore[operator]
                stripped = self.line(number).strip()
                if stripped.startswith("#"):
                    comments.append(stripped)
        # The signature, `def` line through the colon: a pragma ending any of its lines (a
        # formatter moves a pragma from the `def` line to whichever line it wraps there).
        # Not the line a one-line suite shares with its body.
        last = node.body[0].lineno - 1
        if not self.one_line_suite(node.body):
            while last > node.lineno and self.line(last).strip()[:1] in ("", "#"):
                last -= 1
        for number in range(node.lineno, last + 1):
            comment = _comment(self.line(number))
            if comment is not None:
                comments.append(comment)
        return _first_pragma(comments)

    def statement_pragma(self, node: ast.expr) -> str | None:
        """The `# async-migrate: ...` comment of an expression statement (`router.add_api_route(...)`):
        on the comment line directly above it, or at the end of one of its lines."""
        comments: list[str] = []
        above = self.line(node.lineno - 1).strip() if node.lineno > 1 else ""
        if above.startswith("#"):
            comments.append(above)
        for number in range(node.lineno, (node.end_lineno or node.lineno) + 1):
            comment = _comment(self.line(number))
            if comment is not None:
                comments.append(comment)
        return _first_pragma(comments)


def _first_pragma(comments: list[str]) -> str | None:
    for comment in comments:
        text = comment.lstrip("#").strip()
        if text.startswith(PRAGMA):
            return text[len(PRAGMA) :].strip()
    return None


def _skip_back(text: str, index: int) -> int:
    """The index of the last character before `index` that is not whitespace or a comment."""
    index -= 1
    while index >= 0:
        char = text[index]
        if char == "\n":
            start = text.rfind("\n", 0, index) + 1
            line = text[start:index]
            comment = _comment(line) if "#" in line else None
            # `_comment` drops a CRLF's `\r`: the comment starts that far before the `\r`.
            index = start + len(line.rstrip("\r")) - len(comment) - 1 if comment is not None else index - 1
            continue
        if not char.isspace() and char != "\\":
            return index
        index -= 1
    return index


def _skip_forward(text: str, index: int) -> int:
    """The index of the first character from `index` that is not whitespace or a comment."""
    size = len(text)
    while index < size:
        char = text[index]
        if char == "#":
            index = text.find("\n", index)
            if index < 0:
                return size
        elif not char.isspace() and char != "\\":
            return index
        index += 1
    return index


def _calls_before(text: str, paren: int) -> bool:
    """Whether the `(` at `paren` opens a call's (or a definition's) arguments: it follows
    an expression, not an operator or a keyword."""
    before = _skip_back(text, paren)
    if before < 0:
        return False
    char = text[before]
    if char in ")]":
        return True
    if not (char.isalnum() or char == "_"):
        return False
    start = before
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    return not keyword.iskeyword(text[start : before + 1])


def _call_paren(code: str) -> bool:
    """Whether the `(` ending `code` (one line's text) opens a call's arguments, decided on that
    line alone: `_calls_before`, where the `(` follows a name, `)` or `]` on the same line."""
    code = code[:-1].rstrip()
    char = code[-1:]
    if char == ")" or char == "]":
        return True
    if not char or not (char.isalnum() or char == "_"):
        return False
    return not keyword.iskeyword(code[len(code.rstrip(_WORD)) :])


_WORD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"  # the line is ASCII


def _comment(line: str) -> str | None:
    """The comment at the end of a line of code, if any (quotes followed roughly)."""
    if "#" not in line:
        return None
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
            elif line.startswith(quote, index):
                index += len(quote) - 1
                quote = ""
        elif char in "\"'":
            quote = line[index : index + 3] if line[index : index + 3] in ('"""', "'''") else char
            index += len(quote) - 1
        elif char == "#":
            return line[index:].rstrip("\r\n")
        index += 1
    return None


def unpacked_pairs(target: ast.expr, value: ast.expr) -> list[tuple[str, ast.expr]]:
    """(name, value) for each place of a tuple or list of plain names unpacking a display of as
    many values (`a, b = f(), g()`), or nothing."""
    if not isinstance(target, (ast.Tuple, ast.List)) or not isinstance(value, (ast.Tuple, ast.List)):
        return []
    if len(target.elts) != len(value.elts) or not all(isinstance(t, ast.Name) for t in target.elts):
        return []
    if any(isinstance(v, ast.Starred) for v in value.elts):
        return []
    return [(t.id, v) for t, v in zip(target.elts, value.elts) if isinstance(t, ast.Name)]

def methods(
    statements: Iterable[ast.stmt],
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]:
    """Each method of a class body with its first parameter's name (`self`, `cls`)."""
    for method in statements:
        if isinstance(method, FUNCTIONS) and (method.args.posonlyargs or method.args.args):
            yield method, (method.args.posonlyargs or method.args.args)[0].arg
