"""Project functions named in files the pre-pass never read.

The pre-pass reads a file for facts only when its bytes hold a marker (`run.MARKERS`: a
Session, a router, `async def`, ...) or a file it read imports it. A maintenance script, a
cron job or a test of the services that only imports a helper and calls it
(`from services.audit import audit_now` ... `audit_now("nightly")`) holds none and imports
nothing the others need: it is never read, so its calls are in no call graph. Phase two
made such a helper `async def` in place, and the script's call built a coroutine nobody
awaited: its write was lost without an error. `named_in_unread` finds those names in the
text of the unread files (and a function's full dotted path in a one-line string: a scheduler's
table, `"app.services.stock:adjust_stock"`, names what it runs), so the helper keeps its synchronous original (a twin). `check`, scan and phase one read
such files instead, those naming a word of `caller_words`, for AM330.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, cast

from async_migrate.codemods.astcollect.by_name import DOTTED
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary.python import METHOD_DECORATORS

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.project import Project

_DEFINITION = re.compile(r"^\s*(?:async\s+)?def\s")
_COMMENT = re.compile(r"#.*$")
_STRING = re.compile(r"([\"'])(?:\\.|(?!\1).)*\1")  # a one-line string literal: a URL, a message
_WORD = re.compile(r"[A-Za-z_]\w*")


def named_in_unread(
    unread: Iterable[str], names: Iterable[str], read: Callable[[str], str] | None
) -> dict[str, list[str]]:
    """name -> the places (`path:line`) where an unread file names it as a word outside a
    comment, a one-line string (`"/books/3/restock"`) and a `def` line. Without `read`, every
    name counts as named (`(source not read)`): nothing shows the unread files leave it alone."""
    wanted = {name for name in names if name.isidentifier()}
    paths = list(unread)
    if not wanted or not paths:
        return {}
    if read is None:
        return {name: ["(source not read)"] for name in sorted(wanted)}
    found: dict[str, list[str]] = {}
    for path in paths:
        try:
            text = read(path)
        except OSError:
            for name in sorted(wanted):
                found.setdefault(name, []).append(f"{path} (could not be read)")
            continue
        test = is_test_path(path)  # a test's `patch("pkg.mod.f", ...)` calls nothing
        for number, line in enumerate(text.splitlines(), 1):
            if _DEFINITION.match(line):
                continue
            words = _WORD.findall(_COMMENT.sub("", _STRING.sub('""', line)))
            # The last name of a dotted path a string spells whole: what a scheduler runs.
            words += [
                m.group(0)[1:-1].replace(":", ".").rpartition(".")[2] for m in _STRING.finditer(line)
                if DOTTED.fullmatch(m.group(0)[1:-1])
            ] if not test else []
            for name in dict.fromkeys(words):
                if name in wanted:
                    found.setdefault(name, []).append(f"{path}:{number}")
    return found


def project_names_in_unread(project: Project, read: Callable[[str], str] | None) -> dict[str, list[str]]:
    """`named_in_unread` for the name of every project function, read once per project: each
    round of phase two's closure, and scan's preview of each subsystem, asks again."""
    key = "unread_names" if read is not None else "unread_names.unread"
    cached = project.derived.get(key)
    if cached is None:
        names = {function.name for _, function in project.functions.values()}
        cached = project.derived[key] = named_in_unread(project.unread, names, read)
    return cast("dict[str, list[str]]", cached)


def caller_words(modules: Iterable[facts.Module]) -> tuple[str, ...]:
    """The words a file the markers skipped must hold to call a project function whose call only
    makes a coroutine (an undecorated `async def` that is no generator: check's AM330 reports one
    called without `await`), or to read a global name such a call's coroutine is kept in at a
    module's top level (`pending = purge_all()`: lost unless another module reads it). A script
    calling one (`purge_all()`, `service.purge()`) names it as a word: `check`, scan and phase one (AM130) read the files
    skipped that hold one (`run.collect_project`). Dunder methods are left out: Python calls them
    (`async with`, `await x`), a caller does not name them."""
    names: set[str] = set()
    for module in modules:
        for function in module.functions:
            name = function.name
            if not function.is_async or function.is_generator or (name.startswith("__") and name.endswith("__")):
                continue
            if all(decorator.callee in METHOD_DECORATORS for decorator in function.decorators):
                names.add(name)
    names.update(callable_words(modules, coroutines=True))
    # a global is asked for only when what it keeps may be one of those (the callee's last name)
    names.update(
        held for module in modules for callee, _, held, _ in module.kept_called if callee.rpartition(".")[2] in names
    )
    return tuple(sorted(names))


def callable_words(modules: Iterable[facts.Module], coroutines: bool = False) -> set[str]:
    """The names of the classes defining `__call__` (with `coroutines`, as a coroutine function),
    their subclasses', and the module-level names bound to an instance of one (`load_answer =
    AnswerLoader()`): a test or a script calls the instance by that name (`asyncio.run(load_answer(0,
    db))`), or builds one by the class's (`Access(write=True)(1, db)`), never by `__call__`.
    Classes match by their last name: a word to look for, not a resolution."""
    modules = list(modules)
    classes = {
        function.qualname.rpartition(".")[0].rpartition(".")[2]
        for module in modules for function in module.functions
        if function.name == "__call__" and (function.is_async and not function.is_generator or not coroutines)
        and "." in function.qualname
    }
    bases = [(c.name, {base.rpartition(".")[2] for base in c.bases}) for module in modules for c in module.classes]
    grown = True
    while grown:  # a subclass inherits the coroutine `__call__`
        grown = False
        for name, above in bases:
            if name not in classes and above & classes:
                classes.add(name)
                grown = True
    return classes | {
        name for module in modules for name, value in module.values.items()
        if value.kind == "call" and value.ref is not None and value.ref.rpartition(".")[2] in classes
    }
