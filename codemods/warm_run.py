"""A command's whole result from the warm cache, when every input of the last run is as it was.

The cross-module analysis a command keeps (`run.remember`) is keyed by the identity of every
module's facts, and finding those facts loads each module's from the cache: most of a warm run.
So beside that analysis this keeps what the run read to make it (`remember`), and a later run
that reads the same takes the result whole without unpickling any facts (`reuse`); anything else
runs the command in full.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from async_migrate.codemods import cache as caching
from async_migrate.codemods import facts, sources
from async_migrate.codemods.handlers import Handler, HandlerKind
from async_migrate.codemods.roots import Roots, blind_spots, surface

if TYPE_CHECKING:
    from async_migrate.codemods.config import Config
    from async_migrate.codemods.run import Options, Progress, Trace
    from async_migrate.codemods.workers import Pool

_KIND = "{}:run"  # the analysis table's entry for a command's record


def run_key(command: str, root: Path, config: Config, options: Options, *analysed: Any) -> str | None:
    """What, beyond the files, a run's record stands for: the command and the options that select
    files, PATH, the working directory (notices show folders relative to it) and where the
    configuration was read (the import roots it names start there); `analysed`: the options the
    command's analysis reads (a record names the analysis of the options it was made with)."""
    try:
        return caching.key_of((
            command, tuple(options.only), tuple(options.exclude), str(root.resolve()), os.getcwd(),
            str(config.source) if config.source is not None else None, analysed,
        ))
    except (caching.Uncacheable, OSError):
        return None


def remember(
    pool: Pool,
    command: str,
    key: str | None,
    analysis_key: str | None,
    trace: Trace,
    unseen: frozenset[str],
    handlers: list[Handler],
) -> None:
    """Keep the record of this run, unless something in it cannot be told apart on the next run: a
    file that failed, facts without a known identity.

    The record (`run.Trace`) holds each gathering's import roots and rounds, every file read with
    whether it was parsed and its facts' identity, the files a handler's line was read from, and
    the imports that `roots.outside` and `roots.beside` look at. It names the analysis by its key,
    so it is never used without it.

    What a command writes is not part of the analysis: phase one's analysis keeps each file's
    plan, and the rewrite of each planned file comes from the cache only while its bytes are those
    the rewrite was made from (`Pool.rewrite`), so a comment in a rewritten file is rewritten again.
    """
    cache = pool.cache
    if cache is None or cache.folder is None or key is None or analysis_key is None or trace.failed:
        return
    gathers = []
    for roots, rounds in trace.gathers:
        kept_rounds = []
        for how, read in rounds:
            files = []
            for path, parsed, file_digest in read:
                variant = caching.PARSED if parsed else caching.SKIPPED
                identity = cache.identity(path, file_digest, variant) if file_digest is not None else None
                if identity is None:
                    return
                files.append([path, parsed, identity])
            kept_rounds.append([how if type(how) is bool else list(how), files])
        gathers.append([[list(entry) for entry in roots.entries], kept_rounds])
    digests = {}
    for path in trace.filled:
        if path not in cache.seen:
            return
        digests[path] = cache.seen[path]
    above, unplaced = surface(Path(cache.root), trace.modules, trace.known)
    record = {
        "paths": trace.paths,
        "gathers": gathers,
        "filled": digests,
        "above": above,
        "unplaced": unplaced,
        "notices": list(trace.notices),
        "clash": trace.roots.clash if trace.roots is not None else None,
        "unseen": sorted(unseen),
        "analysis": analysis_key,
        "handlers": [
            [h.module.path, h.module.name, h.function.key, h.function.qualname, h.function.line, h.kind,
             [[r.methods, r.path] for r in h.registrations]]
            for h in {h.id: h for h in handlers}.values()
        ],
    }
    cache.remember_analysis(_KIND.format(command), key, json.dumps(record, separators=(",", ":")).encode())
    cache.analysed.pop(_KIND.format(command), None)  # last-run.json names the command's analysis only


class Reused:
    """What a run reused whole: the kept analysis (as `run.remembered` gives it), the notices
    and blind spots of this run, and the handlers the analysis names (as much of each as its
    findings show: kind, methods and path)."""

    def __init__(self, analysis: Any, notices: list[str], blind: list[str], files: int) -> None:
        self.analysis = analysis
        self.notices = notices
        self.blind = blind
        self.files = files


def reuse(
    pool: Pool,
    command: str,
    key: str | None,
    markers: tuple[bytes, ...],
    kinds: tuple[type, ...],
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    progress: Progress | None = None,
    keep: tuple[bytes, ...] = (),
) -> Reused | None:
    """The last run's result when this run would read exactly what it read; None otherwise.
    `keep`: the trees of changed files to keep for a rewrite (`Pool.collect`).

    This run reads every file again and looks each one's identity up in the cache's identity
    table, nothing unpickled; a file whose bytes are new is parsed (its facts may keep their
    identity: a comment). When the same files are read the same way in every round with facts of
    the same identities, every later round reads the same files (a round's files follow from the
    facts before it: the modules they lead into, or for `check` the files the markers skipped that
    name a project coroutine function, the names kept with the round), so the project, its notices
    and the analysis are the ones kept. What lies outside PATH is looked at again each run
    (`roots.blind_spots` over the imports kept), and its modules must be those the analysis was
    made with. Anything else (a file that cannot be read, a new file, a parse, an identity
    unknown, other options, another working directory) returns None: the caller runs the command
    in full, which keeps a new record.
    """
    from async_migrate.codemods import memo
    from async_migrate.codemods.sources import discover, selected

    cache = pool.cache
    if cache is None or cache.folder is None or key is None:
        return None
    data = cache.analysis(_KIND.format(command), key, note=False)
    if data is None:
        return None
    try:
        record = json.loads(data)
        root = Path(pool.root)
        paths = discover(root)
        if paths != record["paths"]:
            return None
        roots = Roots()
        taken: set[str] = set()  # files whose kept facts this run takes for a parse
        for number, (entries, rounds) in enumerate(record["gathers"]):
            roots = Roots(tuple((str(folder), str(prefix)) for folder, prefix in entries))
            # Trees named by the last gathering's roots only: those the rewrite names modules by.
            kept = keep if number == len(record["gathers"]) - 1 else ()
            done = 0
            total = sum(len(files) for _, files in rounds)
            for how, files in rounds:
                if not _same_round(pool, roots, _round_markers(how, markers), files, kept, taken):
                    return None
                done += len(files)
                if progress is not None:
                    progress("read", done, total)
        for path, file_digest in record["filled"].items():
            if cache.seen.get(path) != file_digest:
                return None
        above = [facts.Module(path, "", dict(map(tuple, pairs))) for path, pairs in record["above"]]
        unplaced = [facts.Module(path, "", dict(map(tuple, pairs))) for path, pairs in record["unplaced"]]
        blind, unseen = blind_spots(root, above, unplaced, set())
        if sorted(unseen) != record["unseen"]:
            return None
        if record["clash"] is not None:  # the paths and every file's facts are as then: so is the clash
            blind.insert(0, record["clash"])
        handlers = {}
        for path, name, function_key, qualname, line, kind, registrations in record["handlers"]:
            handlers[(name, function_key)] = _handler(path, name, function_key, qualname, line, kind, registrations)
        stored = cache.analysis(command, record["analysis"])
        if stored is None:
            return None
        analysis = memo.loads(stored, kinds, handlers)
        if analysis is None:
            return None
        before, after = record["notices"]
        files = sum(1 for path in paths if selected(path, only, exclude))
        pool.name_modules(roots)  # a file rewritten now is named as the last gathering named it
        # counted once the run is taken: one that is not runs in full, and counts what it loads
        cache.reused += len(taken.difference(cache.parsed))  # a file parsed in one round is not taken in a later
        return Reused(analysis, [*before, *blind, *after], blind, files)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _round_markers(how: Any, markers: tuple[bytes, ...]) -> sources.Markers | None:
    """What a kept round (`run.Round`) picked its files by: the markers, all it was given, or the
    names it kept (the same facts give the same names, and each file must name one as then)."""
    if how is True:
        return markers
    if how is False:
        return None
    if type(how) is list and how and all(type(name) is str for name in how):
        return sources.Words(how)
    raise ValueError(f"a round picked by {how!r}")  # a record this version did not write: run in full


def _same_round(
    pool: Pool, roots: Roots, markers: sources.Markers | None, files: list[Any], keep: tuple[bytes, ...],
    taken: set[str],
) -> bool:
    """Whether each file of a kept round reads the same way now, with facts of the same identity;
    files whose bytes changed are collected now (and so kept in the cache). `taken` gains the
    files parsed then and not now: their facts come from the cache, as `Cache.facts` counts them."""
    cache = pool.cache
    assert cache is not None
    changed: dict[str, tuple[str, str]] = {}
    for path, parsed, identity in files:
        try:
            data = sources.read(Path(pool.root) / path)
        except sources.SourceError:
            return False
        found = markers is None or sources.marked(data, markers)
        if found != parsed:
            return False
        variant = caching.PARSED if parsed else caching.SKIPPED
        file_digest = caching.digest(data)
        cache.seen[path] = file_digest
        now = cache.identity(path, file_digest, variant)
        if now is None:
            if not parsed:
                return False  # a file the pre-filter skips is checked for errors when its bytes change
            changed[path] = (file_digest, identity)
        elif now != identity:
            return False
        elif parsed:
            taken.add(path)
    if changed:
        for collected in pool.collect(sorted(changed), keep=keep, markers=markers, roots=roots):
            if collected.error is not None or collected.facts is None:
                return False
            file_digest, identity = changed[collected.path]
            if collected.digest != file_digest or cache.identity(collected.path, file_digest, caching.PARSED) != identity:
                return False
    return True


class _Shown:
    """A handler as far as a kept finding or decision shows it (`check_result.Finding.to_json`,
    `outcome.Outcome.to_json`): its module's path and name, its function's name, key and line,
    its kind and registrations; a taken run's result has no project to hold more."""

    __slots__ = ("module", "function", "kind", "registrations")

    def __init__(
        self, module: SimpleNamespace, function: SimpleNamespace, kind: HandlerKind, registrations: list[SimpleNamespace]
    ) -> None:
        self.module = module
        self.function = function
        self.kind = kind
        self.registrations = registrations

    @property
    def id(self) -> tuple[str, str]:
        return (self.module.name, self.function.key)

    # As `Handler` gives them.
    methods = Handler.methods
    path = Handler.path


def _handler(
    path: str, name: str, key: str, qualname: str, line: int, kind: str, registrations: list[list[Any]]
) -> Handler:
    """A kept handler (`_Shown`); ValueError for a kind no `HandlerKind` has (the run is not taken)."""
    return cast(Handler, _Shown(
        SimpleNamespace(path=path, name=name), SimpleNamespace(key=key, qualname=qualname, line=line), HandlerKind(kind),
        [SimpleNamespace(methods=list(methods), path=route_path) for methods, route_path in registrations],
    ))
