"""A whole run: discover, collect on the pool, decide, rewrite, diff.

Presentation-free: the CLI renders what these functions return.

Phase two's loop (plan, rewrite, self-check, plan again) is `codemods/phase2/driver.py`.

Over 500 lines: the steps every command shares (discover, collect, the result, the warm
cache's keys) with scan's and phase one's drivers, which are those steps and little else.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from async_migrate.codemods import facts, sources, unread_names
from async_migrate.codemods import roots as import_roots
from async_migrate.codemods.astcollect import parse_any
from async_migrate.codemods.config import Config
from async_migrate.codemods.diff import as_bytes, readable
from async_migrate.codemods.options import CURRENT as CURRENT
from async_migrate.codemods.options import MARKERS as MARKERS
from async_migrate.codemods.options import Options as Options
from async_migrate.codemods.options import Progress as Progress
from async_migrate.codemods.options import open_pool as open_pool
from async_migrate.codemods.outcome import TASK_KIND, Blocking, Outcome, shown_path
from async_migrate.codemods.phase1.rule import decide
from async_migrate.codemods.project import Handler, HandlerKind, Project
from async_migrate.codemods.routes import Routes
from async_migrate.codemods.rules import Reason, codes, texts
from async_migrate.codemods.sources import discover, matches, nothing_selected, selected
from async_migrate.codemods.vocabulary.fastapi import THREADPOOL
from async_migrate.codemods.vocabulary.python import SYNC_ITERATORS
from async_migrate.codemods.workers import Collected, Pool, Rewritten

if TYPE_CHECKING:
    from async_migrate.codemods.phase1 import rewrite as phase1_rewrite

# How a pre-pass round picked its files (`Trace`, replayed by `codemods.warm_run`): True, those
# holding a marker; False, all it was given (the modules references lead into); names, those
# naming one as a word (the project's coroutine functions, for `check`).
Round = bool | tuple[str, ...]
# Phase one only ever rewrites files with an `async def` in them.
PHASE1_KEEP = (b"async def",)



@dataclass
class Result:
    command: str
    root: Path
    project: Project
    outcomes: list[Outcome] = field(default_factory=list)
    changes: list[Rewritten] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    files: int = 0
    subsystem: dict[str, Any] | None = None  # phase two: the subsystem's helpers and blockers
    offload_mixed: bool = False  # phase one was asked to offload the blocking calls of mixed handlers

    @property
    def changed(self) -> list[Rewritten]:
        return [change for change in self.changes if change.changed]

    @property
    def diff(self) -> str:
        return "".join(change.diff for change in self.changed)

    @property
    def warnings(self) -> list[str]:
        """Why the result proves nothing (no file selected): the command exits 2, as `check` does."""
        return nothing_selected(self.files)

    def to_json(self) -> dict[str, Any]:
        # `diff` is text to read; a patch for `git apply` must be the files' own bytes, which
        # JSON text cannot hold for a file that is not UTF-8: then `diff_base64` carries them.
        diff = "".join(readable(change.diff, change.before) for change in self.changed)
        exact = as_bytes(self.diff)
        other_bytes = diff.encode("utf-8") != exact
        warnings = [*self.warnings, *self.project.notices]
        if other_bytes:
            warnings.append(
                "the diff touches a file that is not UTF-8: `diff` shows its characters, and the exact"
                " patch `git apply` takes is in `diff_base64` (what --diff-file writes)"
            )
        return {
            "command": self.command,
            "root": str(self.root),
            "handlers": [outcome.to_json() for outcome in self.outcomes],
            "files_changed": [change.path for change in self.changed],
            "errors": self.errors,
            **({"warnings": warnings} if warnings else {}),
            "diff": diff,
            **({"diff_base64": base64.b64encode(exact).decode("ascii")} if other_bytes else {}),
            **({"subsystem": self.subsystem} if self.subsystem is not None else {}),
        }


def collect_project(
    root: Path,
    config: Config,
    options: Options,
    pool: Pool,
    keep: tuple[bytes, ...] | None,
    progress: Progress | None = None,
    trace: Trace | None = None,
    callers: bool = False,
    route_callers: bool = False,
) -> tuple[Project, list[dict[str, str]], int]:
    """The pre-pass: facts of every interesting module, then of every module they lead into;
    with `callers`, also of every file naming a project coroutine function (see `gather`); with
    `route_callers`, of every file naming a route function (a unit test calling it directly).

    Every file under root is read; `--only`, `--exclude` and the configured exclude
    only narrow `project.scope`, the files reported and written, and the count returned.
    `trace` notes what was read, round by round, for `codemods.warm_run`.
    """
    paths = discover(root)
    exclude = (*options.exclude, *config.exclude)
    scope = [path for path in paths if selected(path, options.only, exclude)]

    def gather(roots: import_roots.Roots) -> tuple[list[facts.Module], list[dict[str, str]]]:
        done = total = 0  # a second gathering (other import roots) starts the count again
        modules: list[facts.Module] = []
        errors: list[dict[str, str]] = []
        markers: sources.Markers | None = MARKERS
        kind: Round = True
        pending = paths
        known = {roots.name(path): path for path in reversed(paths)}  # pkg.py before pkg/__init__.py
        followed: set[str] = set()
        read: set[str] = set()
        asked: set[str] = set()  # the words a round read the skipped files for (`callers`)
        rounds: list[tuple[Round, list[tuple[str, bool, str | None]]]] = []
        if trace is not None:
            trace.gathers.append((roots, rounds))
        while pending:
            total += len(pending)  # a later round reads the modules references lead into
            read_now: list[tuple[str, bool, str | None]] = []
            rounds.append((kind, read_now))
            arrived: list[Collected] = []
            for collected in pool.collect(pending, keep=keep, markers=markers, roots=roots):
                CURRENT.file = collected.path
                done += 1
                if progress is not None:
                    progress("read", done, total)
                arrived.append(collected)
            # In the order asked, not the order the workers (or the cache) answered: what is read
            # first wins where names tie (the blind spots' examples), and must not vary by run.
            order = {path: index for index, path in enumerate(pending)}
            for collected in sorted(arrived, key=lambda c: order.get(c.path, len(order))):
                if collected.error is not None:
                    errors.append({"file": collected.path, "message": collected.error})
                elif collected.facts is not None:
                    modules.append(collected.facts)
                read_now.append((collected.path, collected.facts is not None, collected.digest))
            failed = {error["file"] for error in errors}
            if callers or route_callers:
                # A script, a worker or a command calling a project coroutine function needs no
                # marker and nothing read imports it: read the files skipped that name one, or a
                # global its coroutine is kept in (AM330). Every `async def` is in a file the
                # markers read; a file read later may keep one in a global: asked in a new round.
                # A unit test calling a route function with objects of its own (phase two: AM265)
                # names it, and may hold no marker either.
                named = unread_names.caller_words(modules) if callers else ()
                if route_callers:
                    # and a script, a test or a fixture calling an instance of a class whose
                    # `__call__` may move (`checker(1, db)`, `Access(write=True)(1, db)`): AM268
                    named = (*named, *_route_names(modules, config), *sorted(unread_names.callable_words(modules)))
                words = tuple(word for word in dict.fromkeys(named) if word not in asked)
                asked.update(words)
                parsed = {module.path for module in modules}
                skipped = [path for path in paths if path not in parsed and path not in failed] if words else []
                if skipped:
                    pending, markers, kind = skipped, sources.Words(words), words
                    continue
            project = Project(modules, config)
            pending = sorted(project.missing_modules(known, followed, read) - failed)
            markers, kind = None, False
        if trace is not None and errors:
            trace.failed = True  # a file that cannot be read is read again every run
        return modules, errors

    notices = []
    roots = import_roots.Roots()
    if config.src:
        roots = import_roots.configured(config.src, config.source.parent if config.source else root, root)
    modules, errors = gather(roots)
    if not config.src:
        found = import_roots.detect(root, paths, modules)
        if not found.default:
            roots = found
            notices.append(
                f"read {found.describe()} (from the imports); "
                "set src in [tool.async-migrate] to say so explicitly"
            )
            modules, errors = gather(roots)
    outside_tests = import_roots.tests_outside(root, roots)
    if outside_tests is not None:
        notices.append(outside_tests)
    known = {module.name for module in modules} | {roots.name(path) for path in paths}
    blind, unseen = import_roots.blind_spots(root, modules, modules, known)
    if roots.clash is not None:
        blind.insert(0, roots.clash)
    read_as = list(notices)  # the import roots detected, said before the blind spots
    notices.extend(blind)
    unplaced = import_roots.unresolved(paths, modules, known, roots, root)
    if unplaced.count:
        notices.append(unplaced.message())
    unreadable = frozenset(roots.name(e["file"]) for e in errors if e["file"].endswith(".py"))
    errors = sorted((e for e in errors if selected(e["file"], options.only, exclude)), key=lambda e: e["file"])
    if pool.cache is not None:
        pool.cache.complete = True  # every file was looked up: what is gone is dropped from the cache
        pool.cache.release_facts()  # written now: the analysis needs none of it in memory
    CURRENT.file = None
    project = Project(modules, config)
    project.jobs = options.jobs
    project.notices = notices
    project.roots = roots
    project.blind = blind
    project.unseen = frozenset(unseen)
    project.unreadable = unreadable
    parsed = {module.path for module in modules}
    project.unread = tuple(path for path in paths if path not in parsed)
    if len(scope) != len(paths):
        project.scope = frozenset(scope)
    filled = _fill_missing_lines(root, project)
    if trace is not None:
        trace.paths = paths
        trace.modules = modules
        trace.known = known
        trace.roots = roots
        trace.notices = (read_as, notices[len(read_as) + len(blind) :])
        trace.filled = filled
    return project, errors, len(scope)


@dataclass
class Trace:
    """What `collect_project` read, for `codemods.warm_run` to tell whether a later run reads the same:
    each gathering's import roots and rounds ((how its files were picked: `Round`, [(path, parsed,
    digest)])), the paths
    found, the modules kept, the module names known, the files `_fill_missing_lines` read."""

    gathers: list[tuple[import_roots.Roots, list[tuple[Round, list[tuple[str, bool, str | None]]]]]] = field(
        default_factory=list
    )
    paths: list[str] = field(default_factory=list)
    modules: list[facts.Module] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    roots: import_roots.Roots | None = None
    notices: tuple[list[str], list[str]] = ([], [])  # said before and after the blind spots
    filled: list[str] = field(default_factory=list)
    failed: bool = False


def _route_names(modules: list[facts.Module], config: Config) -> tuple[str, ...]:
    """The names of the route functions among `modules`."""
    return tuple(sorted({h.function.name for h in Project(modules, config).handlers if h.kind == HandlerKind.ROUTE}))


def _fill_missing_lines(root: Path, project: Project) -> list[str]:
    """Lines of the handlers the pre-pass read no lines for, from their text; the files read."""
    missing = [h for h in project.handlers if h.function.line == 0]
    for handler in missing:
        try:
            text = (root / handler.module.path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        function = handler.function
        function.line = _definition_line(text, function.qualname, function.key)
    if missing:
        project.handlers.sort(key=lambda h: (h.module.path, h.function.line, h.function.key))
    return sorted({handler.module.path for handler in missing})


def _definition_line(text: str, qualname: str, key: str) -> int:
    """The `def` line of a definition in a module whose lines were not computed, or 0.

    A fallback for the rare handler defined in a module the pre-pass judged
    line-free (a dependency in a plain helper module): the n-th `def name` at
    the indentation a module- or class-level definition has.
    """
    name = qualname.rsplit(".", 1)[-1]
    nested = "." in qualname
    occurrence = int(key.rsplit("#", 1)[1]) if "#" in key else 1
    pattern = re.compile(rf"^([ \t]*)(?:async[ \t]+)?def[ \t]+{re.escape(name)}\b", re.MULTILINE)
    seen = 0
    for match in pattern.finditer(text):
        if bool(match.group(1)) != nested:
            continue
        seen += 1
        if seen == occurrence:
            return text.count("\n", 0, match.start()) + 1
    return 0


def scan(
    root: Path, config: Config, options: Options, progress: Progress | None = None, project_needed: bool = True
) -> Result:
    """Scan: phase one's decisions and phase two's preview. Without `project_needed` (the command
    line's run without --report), the last run's result is taken whole when this run would read
    exactly what it read (`codemods.warm_run`): `result.project` then holds the notices alone."""
    from async_migrate.codemods import warm_run

    with open_pool(root, config, options) as pool:
        exclude = (*options.exclude, *config.exclude)
        run_key = (
            warm_run.run_key("scan", root, config, options, options.offload_mixed) if pool.cache is not None else None
        )
        if not project_needed:
            reused = warm_run.reuse(pool, "scan", run_key, MARKERS, _PHASE1_KINDS, options.only, exclude, progress)
            outcomes = _scan_memo(pool, reused.analysis) if reused is not None else None
            if reused is not None and outcomes is not None:
                project = Project([], config)
                project.notices = reused.notices
                project.blind = reused.blind
                if progress is not None:
                    progress("analyse", len(outcomes), len(outcomes))
                return Result("scan", root, project, outcomes, files=reused.files)
        trace = Trace() if run_key is not None else None
        # a test or script calling an `async def` (or a callable instance) without await keeps it
        # async (AM130), and may name nothing the markers look for
        project, errors, count = collect_project(
            root, config, options, pool, keep=(), progress=progress, trace=trace, callers=True
        )
        pool.close()  # the workers are done; the analysis still runs without cycle collection (Pool)
        result = Result("scan", root, project, errors=errors, files=count)
        project.notices.extend(empty_subsystems(project))
        project.notices.extend(unverified_routes(project))
        key = analysis_key(pool, project, "scan", options.offload_mixed)
        kept = _scan_memo(pool, remembered(pool, "scan", key, project, _PHASE1_KINDS))
        if kept is not None:
            result.outcomes = kept
            if progress is not None:
                progress("analyse", len(kept), len(kept))
        else:
            result.outcomes = decide_all(project, options, progress)
            reads = _Reads(root)
            reads.keep_trees = key is not None
            if config.source is not None:
                reads.note(str(config.source))  # the lines of its blockers (engine_options.config_location)
            _preview(project, result.outcomes, reads, options.jobs)
            compose_paths(project, result.outcomes)
            if key is not None:
                kept_reads = _Scanned(result.outcomes, reads.digests, reads.lacking, reads.tree_digests())
                remember(pool, "scan", key, ("outcomes", "read", "lacking", "trees"), kept_reads, _PHASE1_KINDS)
        if trace is not None:
            trace.notices = _notices_after(trace, project)
            warm_run.remember(pool, "scan", run_key, key, trace, project.unseen, [o.handler for o in result.outcomes])
    return result


class _Reads:
    """The text of files an analysis reads beside the facts (scan's preview of phase two), each
    read as `Path.read_text` reads it, with the digest of its bytes: a kept analysis is taken
    only while each of them reads the same. A file only searched for words it lacks
    (`stack_extras.Texts.get`) need only lack them still: `lacking`, with its digest then."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.digests: dict[str, str] = {}
        self.lacking: dict[str, tuple[str, list[str]]] = {}
        # path -> (file digest, its tree's digest), taken only for a run that keeps them
        # (`keep_trees`), since dumping every tree parsed costs more than parsing it; once per
        # file, as it is parsed (its text is read once).
        self.trees: dict[str, tuple[str, str]] = {}
        # path -> its tree: each analysis asking (twin names, expiry's models) shares one parse
        self._parsed: dict[str, Any] = {}
        self._texts: dict[str, tuple[str, str]] = {}  # path -> (digest, text) read for `lacks`, `tree`
        self.keep_trees = False  # the run keeps `tree_digests` (a copy computes those of its trees)
        self._copies_trees: dict[str, tuple[str, str]] = {}  # `tree_digests` of the copies' trees
        # What an analysis derives from one file's tree alone (`twins.module_names`), asked again
        # by each subsystem: the texts read never change during a run.
        self.memo: dict[tuple[str, str], Any] = {}

    def __call__(self, path: str) -> str:
        self.lacking.pop(path, None)
        found = self._texts.get(path)
        if found is not None:
            self.digests[path] = found[0]
            return found[1]
        data = self.note(path)
        return _text(data)

    def note(self, path: str) -> bytes:
        from async_migrate.codemods import cache as caching

        data = (self.root / path).read_bytes()
        self.digests[path] = caching.digest(data)
        return data

    def tree(self, path: str) -> Any:
        """path's syntax tree (`sources.tree_of`): the analysis depends on the tree alone, kept as
        the digest of its dump with positions (`trees`), with the file's digest."""
        from async_migrate.codemods import cache as caching

        tree = self._parsed.get(path)
        if tree is not None:
            return tree
        if path not in self._texts:
            data = (self.root / path).read_bytes()
            self._texts[path] = (caching.digest(data), _text(data))
        file_digest, text = self._texts[path]
        try:
            tree = self._parsed[path] = parse_any(text, path)
        except (SyntaxError, ValueError):
            self.digests[path] = file_digest  # the error is the file's whole text's
            raise
        if self.keep_trees:
            self.trees[path] = (file_digest, _tree_digest(tree))
        return tree

    def tree_digests(self) -> dict[str, tuple[str, str]]:
        """Each file only parsed: (its digest, its tree's), as `_Scanned.trees` keeps them."""
        found = dict(self._copies_trees)
        found.update(self.trees)
        return found

    def taken(self) -> tuple[dict[str, str], dict[str, tuple[str, list[str]]], dict[str, tuple[str, str]]]:
        """What this process read (in a copy judging a share of the preview, `codemods.forked`):
        `merge`'s argument; the trees by their digests, and those only for a run that keeps them."""
        return self.digests, self.lacking, self.tree_digests() if self.keep_trees else {}

    def merge(self, taken: tuple[dict[str, str], dict[str, tuple[str, list[str]]], dict[str, tuple[str, str]]]) -> None:
        """Add what a copy read (`taken`) to what this process read, as if it had read it here: a
        file read whole by either is no longer only searched for the words it lacks."""
        digests, lacking, trees = taken
        self.digests.update(digests)
        for path, (file_digest, needles) in lacking.items():
            kept = self.lacking.setdefault(path, (file_digest, []))[1]
            kept.extend(needle for needle in needles if needle not in kept)
        for path in [path for path in self.lacking if path in self.digests]:
            del self.lacking[path]
        self._copies_trees.update(trees)

    def lacks_names(self, path: str, names: tuple[str, ...]) -> bool:
        """Whether path's code names none of `names`: its text lacks each and is ASCII (the parser
        normalises other identifiers, NFKC, which may spell one); if so, what the analysis took."""
        return all(self.lacks(path, name) for name in names) and self._texts[path][1].isascii()

    def lacks(self, path: str, needle: str) -> bool:
        """Whether path's text lacks `needle`; if so, what the analysis took from the file."""
        from async_migrate.codemods import cache as caching

        if path in self.digests:
            return False  # read whole already: the caller reads it again
        if path not in self._texts:
            data = (self.root / path).read_bytes()
            self._texts[path] = (caching.digest(data), _text(data))
        file_digest, text = self._texts[path]
        if needle in text:
            return False
        needles = self.lacking.setdefault(path, (file_digest, []))[1]
        if needle not in needles:  # asked again by another analysis: kept once
            needles.append(needle)
        return True


def _tree_digest(tree: Any) -> str:
    """The digest of a syntax tree with its positions: its pickle, every node written out in
    full (no memo, so it depends on the nodes alone, not on which of them share an object),
    about twice as fast as `ast.dump`, which a tree nested deeper than the pickler goes still
    takes (equal trees take the same way). Only compared with another of its own."""
    import ast
    import io
    import pickle

    from async_migrate.codemods import cache as caching

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True  # no memo: an equal tree gives equal bytes
    try:
        pickler.dump(tree)
    except RecursionError:
        return caching.digest(ast.dump(tree, include_attributes=True).encode("utf-8", "surrogatepass"))
    return caching.digest(buffer.getvalue())


def _text(data: bytes) -> str:
    """data as `Path.read_text(encoding="utf-8", errors="replace")` gives it, newlines translated."""
    import io

    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace").read()


@dataclass
class _Scanned:
    """What `remember` keeps of scan: the decisions with their preview, and the files read for it
    (`_Reads`: the digest of each file read; of each only searched, with the words it lacks; of
    each only parsed, with its tree's)."""

    outcomes: list[Outcome]
    read: dict[str, str]
    lacking: dict[str, tuple[str, list[str]]]
    trees: dict[str, tuple[str, str]]


def _scan_memo(pool: Pool, document: object) -> list[Outcome] | None:
    """Scan's kept outcomes (`_Scanned`), while every file read for them reads the same, every
    file only searched lacks the same words, and every file only parsed gives the same tree."""
    from async_migrate.codemods import cache as caching

    if not isinstance(document, dict) or set(document) != {"outcomes", "read", "lacking", "trees"}:
        return None
    outcomes, read, lacking, trees = document["outcomes"], document["read"], document["lacking"], document["trees"]
    if not all(isinstance(kept, dict) for kept in (read, lacking, trees)) or not isinstance(outcomes, list):
        return None
    if pool.cache is None:
        return None

    def data(path: str) -> bytes | None:
        try:
            return (pool.root / path).read_bytes()
        except OSError:
            return None

    def now(path: str) -> str | None:
        seen = pool.cache.seen.get(path) if pool.cache is not None else None
        if seen is not None:
            return seen
        found = data(path)
        return caching.digest(found) if found is not None else None

    if any(now(path) != file_digest for path, file_digest in read.items()):
        return None
    for path, (file_digest, needles) in lacking.items():
        if now(path) == file_digest:
            continue
        found = data(path)
        if found is None:
            return None
        text = _text(found)
        if any(needle in text for needle in needles):
            return None
    for path, (file_digest, tree_digest) in trees.items():
        if now(path) == file_digest:
            continue
        found = data(path)
        if found is None:
            return None
        try:
            if _tree_digest(parse_any(_text(found), path)) != tree_digest:
                return None
        except (SyntaxError, ValueError):
            return None
    return outcomes


def empty_subsystems(project: Project) -> list[str]:
    """Configured subsystems whose globs match no module (a misspelt or missing file): said, not
    left out of the plan in silence (`phase2 --subsystem` refuses them)."""
    paths = [module.path for module in project.modules.values()]
    return [
        f"subsystem {name!r} in [tool.async-migrate.subsystems]: no module matches {', '.join(globs)}"
        for name, globs in sorted(project.config.subsystems.items())
        if not any(matches(path, globs) for path in paths)
    ]


def served_path(added: facts.Registration) -> str:
    """The path a registration serves, as its warning says it (` for `/books``), an empty one
    being its router's prefix; "" when the path is unknown or bound in a loop."""
    if added.path is None or added.sources:
        return ""
    return f" for `{added.path}`" if added.path else " for its router's prefix"


def unverified_subsystem_routes(project: Project, modules: list[str]) -> list[str]:
    """Routes the subsystem's modules register with an endpoint the analysis cannot resolve
    (AM310): phase two neither reads nor moves them, and a report listing only the routes it
    could read would pass for the whole module."""
    return _unresolved_routes(
        project,
        "not analysed, not migrated, and it may still block the event loop (AM310); register a function or a "
        "method of a project class",
        modules,
    )


def unverified_routes(project: Project) -> list[str]:
    """Routes registered with an endpoint the analysis cannot resolve: neither analysed nor
    converted, and said so rather than left out of the inventory (`check` fails on them, AM310)."""
    return _unresolved_routes(project, "not analysed, not converted (AM310)", None)


def _unresolved_routes(project: Project, consequence: str, modules: list[str] | None) -> list[str]:
    """One warning per registration with an unresolved endpoint in the selected files (and in
    `modules`, unless None), ending with what that means for the command (`consequence`)."""
    return [
        f"{module.path}:{added.line}: `{added.shown()}` registers `{added.written or 'an endpoint'}`"
        + served_path(added)
        + ", which the analysis cannot resolve to a project function"
        + project.endpoint_overrides(added.endpoint)
        + f": {consequence}"
        for module, added in project.unresolved_endpoints
        if (modules is None or module.path in modules) and project.in_scope(module.path)
    ]


def decide_all(project: Project, options: Options, progress: Progress | None = None) -> list[Outcome]:
    """Phase one's decision for every handler --only/--exclude report, in the project's order."""
    from async_migrate.codemods.forked import held_alike, judge_all

    handlers = project.reported_handlers

    def judge(handler: Handler) -> Outcome:
        CURRENT.file = handler.module.path
        return decide(project, handler, options.offload_mixed)

    def done(count: int) -> None:
        if progress is not None:
            progress("analyse", count, len(handlers))

    shared = held_alike(project)
    outcomes = judge_all(handlers, judge, options.jobs, shared, done)
    CURRENT.file = None
    from async_migrate.codemods.phase1.tasks import converted_tasks

    return outcomes + converted_tasks(project, outcomes)


def analysis_key(pool: Pool, project: Project, command: str, *options: Any) -> str | None:
    """The key the warm cache keeps a command's analysis under, or None without a cache.

    The cross-module analysis reads nothing but the facts of the project's modules, the
    configuration (the cache's namespace), the files `--only`/`--exclude` select and the
    options given: the key names each of those, every module by the identity of its
    facts, which survives an edit that leaves them exactly as they were. Handlers' lines
    are named too, since a few are read from the text (`_fill_missing_lines`).
    """
    from async_migrate.codemods import cache as caching

    cache = pool.cache
    if cache is None or cache.folder is None:
        return None
    modules = []
    for module in project.modules.values():
        identity = cache.facts_ids.get(module.path)
        if identity is None:
            return None
        modules.append((module.path, module.name, identity))
    lines = [(h.module.path, h.function.key, h.function.line) for h in project.handlers]
    scope = sorted(project.scope) if project.scope is not None else None
    try:
        return caching.key_of((command, options, scope, modules, lines, sorted(project.unseen)))
    except caching.Uncacheable:
        return None


def remembered(pool: Pool, kind: str, key: str | None, project: Project, kinds: tuple[type, ...]) -> Any:
    """What `remember` kept for `kind` under key, rebuilt on this run's handlers; None when
    nothing (or nothing that fits) is kept."""
    from async_migrate.codemods import memo

    if key is None or pool.cache is None:
        return None
    data = pool.cache.analysis(kind, key)
    if data is None:
        return None
    from async_migrate.codemods.phase1.tasks import task_handlers

    return memo.loads(data, kinds, {**task_handlers(project), **{handler.id: handler for handler in project.handlers}})


def remember(pool: Pool, kind: str, key: str | None, fields: tuple[str, ...], value: Any, kinds: tuple[type, ...]) -> None:
    """Keep `fields` of value (a command's analysis) in the warm cache under key; records of
    `kinds` (dataclasses) are kept field by field (codemods/memo.py)."""
    from async_migrate.codemods import memo

    if key is None or pool.cache is None:
        return
    try:
        data = memo.dumps({name: getattr(value, name) for name in fields}, kinds)
    except memo.Unstorable:
        return
    pool.cache.remember_analysis(kind, key, data)


def compose_paths(project: Project, outcomes: list[Outcome]) -> None:
    """Each outcome's full path: router and include_router prefixes in front, where resolvable."""
    routes = Routes(project)
    for outcome in outcomes:
        if outcome.handler.kind != HandlerKind.DEPENDENCY:
            path, complete = routes.served(outcome.handler)
            outcome.full_path = path if complete else None
            outcome.path_tail = None if complete else path
            outcome.path_incomplete = not complete
            if len(outcome.handler.registrations) > 1:
                outcome.served_paths = _served_paths(routes, outcome.handler)
            elif outcome.handler.registrations:
                # a router factory called more than once: a path for each call
                several = routes.factory_paths(outcome.handler) or []
                outcome.served_paths = several if len(several) > 1 else []


def _served_paths(routes: Routes, handler: Handler) -> list[str]:
    """Each registration's path as served, prefixes composed, `[unknown prefix]` in front where they are not
    known: a function registered on two routers (v1's and a mounted v2 application's) is served
    under both."""
    found: set[str] = set()
    for registration in handler.registrations:
        if registration.path is None:
            continue
        path, complete = routes.served(Handler(handler.module, handler.function, handler.kind, [registration]))
        found.add(shown_path(path or registration.path, not complete) or "")
    return sorted(found)


# Subsystems scan previews in forked copies from this many on (each costs far more than one
# handler's decision: `forked.MIN_ITEMS`).
PREVIEWED = 40


def _preview(project: Project, outcomes: list[Outcome], read: _Reads, jobs: int | None = 1) -> None:
    """What scan adds to phase one's decision: Session use, awaits, and what phase two would do;
    `read` gives a module's text; `jobs`: processes previewing the subsystems (`codemods.forked`).

    Each router module is its own subsystem unless a configured subsystem claims it.
    """
    from async_migrate.codemods.forked import held_alike, judge_all
    from async_migrate.codemods.phase2 import async_stack, expired_reads, inline_sessions, scope_openers
    from async_migrate.codemods.phase2 import closure as closures
    from async_migrate.codemods.phase2.driver import async_provider, phase2_outcomes
    from async_migrate.codemods.session_work import session_work_view
    from async_migrate.codemods.sources import matches

    if not outcomes:
        # No handler to preview (a library, a folder of scripts): phase two's analyses of the
        # stack, the openers and the objects handed around would answer nobody.
        return
    # As phase two does: the routes entering a `@contextmanager` opener it twins are not blocked
    # by it. Phase one's decisions are made already, on the project as written.
    openers = scope_openers.twinnable(project)
    if openers:
        project.take_opener_twins(openers)
    project.handed_twins = scope_openers.handed_twinnable(project)
    stack = async_stack.analyse(project, read=read)
    expiry = expired_reads.Expiry(
        stack.expire_on_commit, stack.expiring, expired_reads.Models(project, read), stack.reloaded_on_commit
    )
    groups: dict[str, list[str]] = {}
    routed = sorted({o.handler.module.path for o in outcomes if o.handler.kind not in (HandlerKind.DEPENDENCY, TASK_KIND)})
    for path in routed:
        name = next(
            (n for n, globs in sorted(project.config.subsystems.items()) if matches(path, globs)), path
        )
        groups.setdefault(name, []).append(path)

    def judge(group: tuple[str, list[str]]) -> list[Outcome]:
        name, modules = group
        own = async_stack.analyse_for(project, modules, project_wide=stack, read=read)
        own_expiry = expiry if own is stack else expired_reads.Expiry(
            own.expire_on_commit, own.expiring, expiry.models, own.reloaded_on_commit
        )
        closure = closures.compute(
            project, name, modules, read=read, expiry=own_expiry,
            forced={route: [blocker.reason()] for route, blocker in own.kept_routes.items()},
            engine=inline_sessions.stack_engine(own), provider=async_provider(project, own),
        )
        if own.blockers:
            closure.block_all([b.reason() for b in own.blockers])
        return phase2_outcomes(project, closure)

    previews: dict[tuple[str, str], tuple[str, Outcome]] = {}
    shared = held_alike(project)
    subsystems = list(groups.items())
    planned_all = judge_all(subsystems, judge, jobs, shared, least=PREVIEWED, learnt=(read.taken, read.merge))
    for (name, _modules), planned_outcomes in zip(subsystems, planned_all):
        for planned in planned_outcomes:
            previews[planned.handler.id] = (name, planned)
    for outcome in outcomes:
        work = session_work_view(project, outcome.handler.id)
        outcome.extra["session"] = bool(work.params) or work.any
        outcome.extra["awaits"] = bool(outcome.handler.function.awaits)
        outcome.extra["subsystem"] = outcome.handler.module.path
        preview = previews.get(outcome.handler.id)
        if preview is not None:
            name, planned = preview
            outcome.extra["subsystem"] = name
            outcome.extra["phase2"] = {
                "action": planned.action, "reasons": texts(planned.reasons), "codes": codes(planned.reasons),
                # planned, not rewritten: phase two's self-check of its own output has not run
                "self_checked": False,
            }


def phase1(
    root: Path, config: Config, options: Options, progress: Progress | None = None, project_needed: bool = True
) -> Result:
    """Phase one. Without `project_needed` (the command line's run without --report), the last
    run's decisions and plans are taken whole when this run would read exactly what it read
    (`codemods.warm_run`), the rewrites of unchanged files from the cache: `result.project`
    then holds the notices alone."""
    from async_migrate.codemods import warm_run
    from async_migrate.codemods.phase1 import rewrite as phase1_rewrite

    with open_pool(root, config, options) as pool:
        exclude = (*options.exclude, *config.exclude)
        run_key = (
            warm_run.run_key("phase1", root, config, options, options.offload_mixed) if pool.cache is not None else None
        )
        kept = None
        if not project_needed:
            reused = warm_run.reuse(
                pool, "phase1", run_key, MARKERS, _PHASE1_KINDS, options.only, exclude, progress, keep=PHASE1_KEEP
            )
            kept = _phase1_memo(reused.analysis) if reused is not None else None
            if reused is not None and kept is not None:
                project = Project([], config)
                project.notices = reused.notices
                project.blind = reused.blind
                result = Result("phase1", root, project, files=reused.files)
        if kept is None:
            trace = Trace() if run_key is not None else None
            # as scan: the callers AM130 names may hold no marker
            project, errors, count = collect_project(
                root, config, options, pool, keep=PHASE1_KEEP, progress=progress, trace=trace, callers=True
            )
            result = Result("phase1", root, project, errors=errors, files=count)
            project.notices.extend(empty_subsystems(project))
            project.notices.extend(unverified_routes(project))
            key = analysis_key(pool, project, "phase1", options.offload_mixed)
            kept = _phase1_memo(remembered(pool, "phase1", key, project, _PHASE1_KINDS))
            if kept is None:
                outcomes = decide_all(project, options, progress)
                compose_paths(project, outcomes)
                kept = (outcomes, phase1_plans(project, outcomes))
                plain = {path: _plan_json(plan) for path, plan in kept[1].items()}
                remember(pool, "phase1", key, ("outcomes", "plans"), _Kept(outcomes, plain), _PHASE1_KINDS)
            if trace is not None:
                trace.notices = _notices_after(trace, project)
                warm_run.remember(pool, "phase1", run_key, key, trace, project.unseen, [o.handler for o in kept[0]])
        result.outcomes, plans = kept
        result.offload_mixed = options.offload_mixed
        if progress is not None:
            progress("analyse", len(result.outcomes), len(result.outcomes))
            progress("rewrite", 0, len(plans))
        result.changes = pool.rewrite(plans, phase1_rewrite.apply)
        if progress is not None:
            progress("rewrite", len(plans), len(plans))
    for change in result.changes:
        if change.error is not None:
            result.errors.append({"file": change.path, "message": change.error})
    result.errors.sort(key=lambda error: error["file"])
    return result


# What the warm cache keeps of phase one's analysis (see `remember`).
_PHASE1_KINDS = (Outcome, Reason, Blocking)


@dataclass
class _Kept:
    """What `remember` keeps of phase one: the decisions and each file's plan (`_plan_json`)."""

    outcomes: list[Outcome]
    plans: dict[str, dict[str, Any]]


def _plan_json(plan: phase1_rewrite.Plan) -> dict[str, Any]:
    """A phase one plan as the warm cache keeps it (plain data: the keys to convert sorted)."""
    return {"convert": sorted(plan.convert), "offload": plan.offload, "threadpool_name": plan.threadpool_name,
            "retype": plan.retype, "factories": plan.factories}


def _phase1_memo(document: object) -> tuple[list[Outcome], dict[str, phase1_rewrite.Plan]] | None:
    """Phase one's kept decisions and plans (`remember`'s dict), or None when they do not fit."""
    from async_migrate.codemods.phase1 import rewrite as phase1_rewrite

    if not isinstance(document, dict) or set(document) != {"outcomes", "plans"}:
        return None
    outcomes, plans = document["outcomes"], document["plans"]
    if not isinstance(outcomes, list) or not isinstance(plans, dict):
        return None
    try:
        return outcomes, {
            path: phase1_rewrite.Plan(
                convert=frozenset(plan["convert"]), offload={k: list(v) for k, v in plan["offload"].items()},
                threadpool_name=plan["threadpool_name"], retype=dict(plan["retype"]),
                factories={key: dict(table) for key, table in plan["factories"].items()},
            )
            for path, plan in plans.items()
        }
    except (KeyError, TypeError, AttributeError):
        return None


def _notices_after(trace: Trace, project: Project) -> tuple[list[str], list[str]]:
    """The notices a record keeps (`Trace.notices`) with what the command added to the project's
    since collecting: the import roots read, and everything after the blind spots."""
    before = trace.notices[0]
    return before, project.notices[len(before) + len(project.blind):]


def phase1_plans(project: Project, outcomes: list[Outcome]) -> dict[str, phase1_rewrite.Plan]:
    """Each file's rewrite: the `convert` outcomes (a blocking background task phase one makes a
    plain def has its own, `phase1/tasks.py`) lose `async`, the offloads are wrapped."""
    from async_migrate.codemods.phase1 import rewrite as phase1_rewrite
    from async_migrate.codemods.phase1.factory_returns import factory_retypes, imported_alias

    convert: dict[str, set[str]] = {}
    offload: dict[str, dict[str, list[int]]] = {}
    converted: dict[str, dict[str, Outcome]] = {}
    for outcome in outcomes:
        path = outcome.handler.module.path
        if outcome.action == "convert":
            convert.setdefault(path, set()).add(outcome.handler.function.key)
            converted.setdefault(path, {})[outcome.handler.function.key] = outcome
        if outcome.offload:
            offload.setdefault(path, {})[outcome.handler.function.key] = sorted(outcome.offload)
    plans = {}
    modules = {module.path: module for module in project.modules.values()}
    for path in sorted(set(convert) | set(offload)):
        module = modules[path]
        threadpool = next((local for local, ref in module.imports.items() if ref in THREADPOOL), None)
        plans[path] = phase1_rewrite.Plan(
            convert=frozenset(convert.get(path, ())),
            offload=offload.get(path, {}),
            threadpool_name=threadpool,
            retype=_async_iterator_returns(project, module, convert.get(path, set())),
            factories=factory_retypes(
                module, convert.get(path, set()), converted.get(path, {}), lambda ref: imported_alias(project, ref)
            ),
        )
    return plans


def _async_iterator_returns(project: Project, module: facts.Module, keys: set[str]) -> dict[str, str]:
    """Converted generators annotated `AsyncIterator[...]` (and kin): key -> the module their
    synchronous counterpart is imported from."""
    found: dict[str, str] = {}
    for function in module.functions:
        if function.key not in keys or not function.is_generator or not function.returns:
            continue
        canonical = project.canonical(function.returns[0]) or ""
        home, _, name = canonical.rpartition(".")
        if home in ("typing", "collections.abc", "typing_extensions") and name in SYNC_ITERATORS:
            found[function.key] = "typing" if home == "typing_extensions" else home
    return found
