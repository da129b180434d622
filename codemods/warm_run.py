"""A command's whole result from the warm cache, when every input of the last run is as it was.

The cross-module analysis a command keeps (`run.remember`) is keyed by the identity of every
module's facts, and finding those facts loads each module's from the cache: most of a warm run.
This module keeps, beside that analysis, what the run read to make it (`run.Trace`): each
gathering's import roots and rounds, every file read with whether it was parsed and its facts'
identity, the files a handler's line was read from, and the imports that `roots.outside` and
`roots.beside` look at. A later run reads every file again and looks each one's identity up in
the cache's identity table, nothing unpickled; a file whose bytes are new is parsed (its facts
may keep their identity: a comment). When the same files are read the same way in every round
with facts of the same identities, every later round reads the same files (a round's files
follow from the facts before it), so the project, its notices and the analysis are the ones
kept. What lies outside PATH is looked at again each run (`run.blind_spots` over the imports
kept), and its modules must be those the analysis was made with.

Anything else (a file that cannot be read, a new file, a parse, an identity unknown, other
options, another working directory) and the caller runs the command in full, which keeps a
new record. The record names the analysis by its key, so it is never used without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from async_migrate.codemods import cache as caching
from async_migrate.codemods import facts, sources
from async_migrate.codemods.project import Handler
from async_migrate.codemods.roots import Roots, surface

if TYPE_CHECKING:
    from async_migrate.codemods.config import Config
    from async_migrate.codemods.run import Options, Progress, Trace
    from async_migrate.codemods.workers import Pool

_KIND = "{}:run"  # the analysis table's entry for a command's record


def run_key(command: str, root: Path, config: Config, options: Options) -> str | None:
    """What, beyond the files, a run's record stands for: the command and the options that select
    files, PATH, the working directory (notices show folders relative to it) and where the
    configuration was read (the import roots it names start there)."""
    try:
        return caching.key_of((
            command, tuple(options.only), tuple(options.exclude), str(root.resolve()), os.getcwd(),
            str(config.source) if config.source is not None else None,
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
    """Keep the record of this run (see the module docstring), unless something in it cannot be
    told apart on the next run: a file that failed, facts without a known identity."""
    cache = pool.cache
    if cache is None or cache.folder is None or key is None or analysis_key is None or trace.failed:
        return
    gathers = []
    for roots, rounds in trace.gathers:
        kept_rounds = []
        for with_markers, read in rounds:
            files = []
            for path, parsed, file_digest in read:
                variant = caching.PARSED if parsed else caching.SKIPPED
                identity = cache.identity(path, file_digest, variant) if file_digest is not None else None
                if identity is None:
                    return
                files.append([path, parsed, identity])
            kept_rounds.append([with_markers, files])
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
        "unseen": sorted(unseen),
        "analysis": analysis_key,
        "handlers": [
            [h.module.path, h.module.name, h.function.key, h.kind, h.methods, bool(h.registrations), h.path]
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
) -> Reused | None:
    """The last run's result when this run would read exactly what it read (module docstring);
    None otherwise."""
    from async_migrate.codemods import memo
    from async_migrate.codemods.run import blind_spots
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
        for entries, rounds in record["gathers"]:
            roots = Roots(tuple((str(folder), str(prefix)) for folder, prefix in entries))
            done = 0
            total = sum(len(files) for _, files in rounds)
            for with_markers, files in rounds:
                if not _same_round(pool, roots, markers if with_markers else None, files):
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
        handlers = {}
        for path, name, function_key, kind, methods, registered, route_path in record["handlers"]:
            handlers[(name, function_key)] = _handler(path, name, function_key, kind, methods, registered, route_path)
        stored = cache.analysis(command, record["analysis"])
        if stored is None:
            return None
        analysis = memo.loads(stored, kinds, handlers)
        if analysis is None:
            return None
        before, after = record["notices"]
        files = sum(1 for path in paths if selected(path, only, exclude))
        return Reused(analysis, [*before, *blind, *after], blind, files)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _same_round(pool: Pool, roots: Roots, markers: tuple[bytes, ...] | None, files: list[Any]) -> bool:
    """Whether each file of a kept round reads the same way now, with facts of the same identity;
    files whose bytes changed are collected now (and so kept in the cache)."""
    cache = pool.cache
    assert cache is not None
    changed: dict[str, tuple[str, str]] = {}
    for path, parsed, identity in files:
        try:
            data = sources.read(Path(pool.root) / path)
        except sources.SourceError:
            return False
        found = markers is None or any(marker in data for marker in markers)
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
    if changed:
        for collected in pool.collect(sorted(changed), keep=(), markers=markers, roots=roots):
            if collected.error is not None or collected.facts is None:
                return False
            file_digest, identity = changed[collected.path]
            if collected.digest != file_digest or cache.identity(collected.path, file_digest, caching.PARSED) != identity:
                return False
    return True


class _Shown:
    """A handler as far as a kept finding shows it (`check.Finding.to_json`): its id, kind, methods
    and path; a taken run's result has no project to hold more."""

    __slots__ = ("id", "kind", "methods", "path")

    def __init__(self, fid: tuple[str, str], kind: str, methods: list[str], path: str | None) -> None:
        self.id = fid
        self.kind = kind
        self.methods = methods
        self.path = path


def _handler(
    path: str, name: str, key: str, kind: str, methods: list[str], registered: bool, route_path: str | None
) -> Handler:
    """A kept finding's handler (`_Shown`): what `Handler` gives for a handler without registrations
    too (no methods, no path)."""
    return cast(Handler, _Shown((name, key), kind, list(methods) if registered else [], route_path if registered else None))
