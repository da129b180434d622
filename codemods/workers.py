"""Per-file work on a pool of processes, each file parsed once.

Over 500 lines: the parent's side and the worker's side of one message protocol (collect,
rewrite, recover from a crashed worker), kept together so both change at once.

Files are dealt out to worker processes once, balanced by size, and stay with
their worker: the worker parses a file in the collect round, keeps the tree if
it may be rewritten, and rewrites that same tree in the rewrite round. Only
facts and results cross process boundaries, never trees. Results are returned
sorted by path, so the output does not depend on scheduling.

With a cache (`codemods.cache`), a file whose bytes are unchanged is not handed
out at all: its facts, and its rewrite under an unchanged plan, come from the
cache, and a file that must be rewritten without a kept tree is parsed on demand
in the rewrite round. libcst is imported only when a file is parsed.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from async_migrate.codemods import cache as caching
from async_migrate.codemods import facts, sources
from async_migrate.codemods.diff import unified_diff
from async_migrate.codemods.roots import Roots

if TYPE_CHECKING:
    import libcst as cst

# A rewrite function takes the parsed module, the file's facts and its plan, and
# returns the new module. It must be a module-level function so it can be sent
# to worker processes by reference.
Rewrite = Callable[["cst.Module", facts.Module, Any], "cst.Module"]

# The longest line handed to libcst's parser (a 10,000-operand `and` chain, 60,000
# characters, crashes it; 5,000 operands parse). Python's `ast` reads longer ones for the
# analysis; such a file is never rewritten.
MAX_LINE = 20_000


@dataclass(slots=True)
class Collected:
    path: str
    facts: facts.Module | None = None
    error: str | None = None
    skipped: bool = False  # its text showed nothing the analysis looks for
    digest: str | None = None  # of the bytes read (codemods.cache.digest)
    # How the file was read (codemods.cache.SKIPPED or PARSED): the cache keeps each apart.
    variant: str = ""
    blob: bytes | None = None  # the facts pickled, as they crossed from a worker process


@dataclass(slots=True)
class Rewritten:
    path: str
    before: bytes = b""
    after: bytes = b""
    error: str | None = None
    diff: str = ""  # computed in the worker, where it runs in parallel
    facts: facts.Module | None = None  # of the rewritten module, when the caller re-checks the output
    parsed: bool = False  # no tree was kept from the collect round: parsed for the rewrite

    @property
    def changed(self) -> bool:
        return self.error is None and self.before != self.after


@dataclass(slots=True)
class _Parsed:
    facts: facts.Module | None  # None while `blob` holds them
    data: bytes
    encoding: str
    text: str
    module: cst.Module | None = None  # parsed by libcst when the file is rewritten
    longest: int = 0  # its longest line's length, when over MAX_LINE (else 0)
    # The facts pickled, in a pool worker: a tenth of their memory while they wait for the
    # rewrite round, which unpickles them only for the files it rewrites.
    blob: bytes | None = None


def _astcollect() -> ModuleType:
    """The collectors, imported on first use: a warm run opens a pool and reads no file."""
    from async_migrate.codemods import astcollect

    return astcollect


def _top_bound(tree: Any, text: str) -> tuple[str, ...]:
    """`facts.Module.top_bound` of a module read as UTF-8, which the analyses' own reading of its
    text (`run._text`, `sources.TreeReader`) parses alike: the newlines it translates bind nothing."""
    from async_migrate.codemods.phase2.shadowed_imports import bindings

    return tuple(sorted({binding.name for binding in bindings(tree.body, walrus=":=" in text)}))


def _facts_of(parsed: _Parsed) -> facts.Module:
    """parsed's facts, unpickled on first use where only their bytes were kept."""
    if parsed.facts is None:
        assert parsed.blob is not None
        parsed.facts = pickle.loads(parsed.blob)
        parsed.blob = None
    return parsed.facts


class Worker:
    """The state of one worker: the facts and text of its own files, for their rewrite."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.trees: dict[str, _Parsed] = {}
        # path -> digest of the bytes `_check_skipped` passed: a later round skipping the same
        # bytes again (each round looks for other markers) does not compile them again
        self.checked: dict[str, str] = {}
        self.roots = Roots()  # where module names start; set by each collect round
        self.first_party: frozenset[str] | None = None  # the top-level modules `roots` finds

    def parse(self, path: str, data: bytes | None = None) -> _Parsed:
        """Read and collect one file with Python's `ast`; libcst reads only what `ast` cannot."""
        if data is None:
            data = sources.read(self.root / path)
        text = sources.decode(data)
        # No line of a text that short can be too long: most files are not split to know it.
        longest = max(map(len, text.text.split("\n")), default=0) if len(text.text) > MAX_LINE else 0
        name = None if self.roots.default else self.roots.name(path)
        try:
            tree = _astcollect().parse(text.text, path, generics=True)
        except (SyntaxError, ValueError):
            if longest > MAX_LINE:
                raise sources.SourceError(_too_long(longest)) from None
            found = _newer_syntax(path, text.text, name)
        else:
            # Python's parser raises on what it cannot nest (RecursionError, "too many nested
            # parentheses"): a machine-made module (protobuf's `_pb2.py`) is read for the analysis
            bound = _top_bound(tree, text.text) if text.encoding == "utf-8" else None
            found = _astcollect().collect(path, text.text, name, tree)
            found.top_bound = bound
        return _Parsed(found, data, text.encoding, text.text, longest=longest if longest > MAX_LINE else 0)

    def collect(
        self,
        path: str,
        keep: tuple[bytes, ...] | None,
        markers: sources.Markers | None,
        roots: Roots | None = None,
    ) -> Collected:
        if roots is not None and roots != self.roots:
            self.roots = roots
            self.first_party = None
        try:
            data = sources.read(self.root / path)
            if markers is not None and not sources.marked(data, markers):
                digest = caching.digest(data)
                if self.checked.get(path) != digest:
                    _check_skipped(path, data)
                    self.checked[path] = digest
                return Collected(path, skipped=True, digest=digest, variant=caching.SKIPPED)
            parsed = self.parse(path, data)
        except sources.SourceError as error:
            return Collected(path, error=str(error))
        except RecursionError:
            return Collected(path, error="too deeply nested to parse")
        except Exception as error:  # one broken file must not stop the others
            return Collected(path, error=f"internal error while reading: {error!r}")
        if keep is None or any(marker in parsed.data for marker in keep):
            self.trees[path] = parsed
        return Collected(path, facts=parsed.facts, digest=caching.digest(parsed.data), variant=caching.PARSED)

    def rewrite(
        self,
        path: str,
        rewrite: Rewrite,
        plan: Any,
        recheck: bool = False,
        expected: str | None = None,
        roots: Roots | None = None,
    ) -> Rewritten:
        """Rewrite one file, from the tree of the collect round or parsed now when none was kept
        (`expected`: the digest of the bytes the plan was made from). With `recheck`, the
        original tree is kept (the plan may change and run again) and the facts of the
        rewritten module come back for re-analysis."""
        if roots is not None and roots != self.roots:
            self.roots = roots
            self.first_party = None
        parsed_now = False
        try:
            parsed = self.trees.get(path) if recheck else self.trees.pop(path, None)
            if parsed is None:
                parsed_now = True
                parsed = self.parse(path)
                if expected is not None and caching.digest(parsed.data) != expected:
                    raise sources.SourceError("changed on disk while async-migrate ran; left unchanged, run it again")
            if recheck:
                self.trees[path] = parsed
            if parsed.module is None and not recheck:
                # A plan that can be carried out on the text (phase one's dropped `async`) needs
                # no tree: libcst is neither imported nor run for it.
                on_text = getattr(plan, "rewrite_text", None)
                printed = on_text(parsed.text, _facts_of(parsed)) if on_text is not None else None
                if printed is not None:
                    after = sources.encode(printed, parsed.encoding)
                    diff = unified_diff(path, parsed.data, after)
                    return Rewritten(path, parsed.data, after, diff=diff, parsed=parsed_now)
            if parsed.module is None:
                if parsed.longest:
                    raise sources.SourceError(_too_long(parsed.longest))
                parsed.module = _parse_cst(parsed.text, path)
            if ("\x0c" in parsed.text or "\r" in parsed.text) and _printed(parsed.module, parsed.text) != parsed.text:
                # Form feeds and stray carriage returns are where libcst's round trip is
                # known to lose bytes: never write a file whose untouched parts would change.
                raise sources.SourceError(
                    "libcst does not reproduce this file exactly (form feeds or stray carriage "
                    "returns); left unchanged"
                )
            from async_migrate.codemods import imports

            if self.first_party is None:
                self.first_party = self.roots.top_level(self.root)
            with imports.project_modules(self.first_party):
                module = rewrite(parsed.module, _facts_of(parsed), plan)
            printed = parsed.text if module is parsed.module else _printed(module, parsed.text)
            after = sources.encode(printed, parsed.encoding)
            result = Rewritten(path, parsed.data, after, diff=unified_diff(path, parsed.data, after), parsed=parsed_now)
            if recheck and result.changed:
                # Named as the collect round named the original (a src layout's `shop.helpers`,
                # not `src.shop.helpers`): the re-analysis replaces that module by this one.
                result.facts = _collect_text(path, printed, None if self.roots.default else self.roots.name(path))
            return result
        except sources.SourceError as error:
            return Rewritten(path, error=str(error), parsed=parsed_now)
        except Exception as error:  # a failure in one file never stops the others
            return Rewritten(path, error=f"could not transform: {error!r}", parsed=parsed_now)


def _too_long(longest: int) -> str:
    # libcst's native parser recurses once per operand of a long expression and overflows the
    # stack (killing the process) on machine-made lines like these: never handed one to rewrite
    return f"a line of {longest:,} characters is too long to parse safely; left unchanged"


def _parse_cst(text: str, path: str) -> cst.Module:
    import libcst as cst

    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        # Python's compiler points at the real mistake; libcst at the token where it gave up.
        raise sources.SourceError(
            sources.compile_error(text, path)
            or f"syntax error at line {error.raw_line}, column {error.raw_column + 1}: {error.message}"
        ) from None


def _collect_text(path: str, text: str, name: str | None = None) -> facts.Module:
    try:
        return _astcollect().collect(path, text, name)
    except (SyntaxError, ValueError):
        return _newer_syntax(path, text, name)


def _newer_syntax(path: str, text: str, name: str | None) -> facts.Module:
    """The facts of a file the running Python's `ast` refuses: libcst parses syntax newer
    than the interpreter's, and prints it back in syntax `ast` reads, line for line
    (`codemods.astcollect.newer`). A file neither reads is a named error, with the
    compiler's position."""
    import libcst as cst

    from async_migrate.codemods.astcollect.newer import readable

    try:
        older = readable(text, generics=True)
    except cst.ParserSyntaxError as error:
        raise sources.SourceError(
            sources.compile_error(text, path)
            or f"syntax error at line {error.raw_line}, column {error.raw_column + 1}: {error.message}"
        ) from None
    try:
        return _astcollect().collect(path, older, name)
    except (SyntaxError, ValueError):
        raise sources.SourceError(
            (sources.compile_error(text, path) or "cannot parse")
            + f" (Python {sys.version_info.major}.{sys.version_info.minor} cannot read this syntax; run "
            "async-migrate under the Python the project targets)"
        ) from None


def _check_skipped(path: str, data: bytes) -> None:
    """A file the text pre-filter skips is still named when it cannot be decoded or parsed.

    Python's compiler is the cheap check; only when it refuses is libcst asked, since
    libcst also parses syntax newer than the running Python.
    """
    text = sources.decode(data)
    error = sources.compile_error(text.text, path)
    if error is None or max(map(len, text.text.split("\n")), default=0) > MAX_LINE:
        return
    if "too many" in error:  # a limit of Python's own parser; libcst's would crash on it
        raise sources.SourceError(error)
    import libcst as cst  # only now: importing it costs more than reading most projects

    try:
        cst.parse_module(text.text)
    except cst.ParserSyntaxError:
        raise sources.SourceError(error) from None


def _printed(module: cst.Module, original: str) -> str:
    code = module.code
    newline = module.default_newline
    if newline == "\r" and original.endswith(newline) and not code.endswith(newline):
        code += newline  # libcst drops the final newline of a file that uses lone CRs
    return code


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Pool:
    """Runs collect and rewrite rounds over a project's files.

    With one job (or few files) everything runs in this process; otherwise the
    files are sharded over `jobs` processes that live for the whole run. A
    `cache` answers for the files it holds, and is saved when the pool closes.
    """

    # Starting processes costs more than parsing a handful of files.
    MIN_FILES_PER_PROCESS = 24

    def __init__(self, root: Path, jobs: int | None = None, cache: caching.Cache | None = None) -> None:
        self.root = root
        self.jobs = jobs or default_jobs()
        self.cache = cache
        self._roots = Roots()  # of the last collect round: names the modules parsed for a rewrite
        self._local: Worker | None = None
        self._connections: list[Connection] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._owner: dict[str, int] = {}
        self._collecting = False

    def __enter__(self) -> Pool:
        # Trees and facts hold no reference cycles, and a run holds hundreds of
        # thousands of them: the cycle collector would rescan them over and over.
        self._collecting = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.abort()  # Ctrl-C or a failure: the workers' work is no longer wanted
        self.close()
        if self.cache is not None and (kind is None or issubclass(kind, Exception)):
            self.cache.save()  # not on an interrupt: leaving promptly matters more
        facts.forget_shared()
        if self._collecting:
            # Everything made while collection was off sits in the youngest generation:
            # the first collection after enabling would walk all of it (most of a second
            # on a large project). Moving it to the oldest generation through the frozen
            # one skips that walk and still lets a later full collection free it, unless
            # the embedding program keeps frozen objects of its own.
            already_frozen = gc.get_freeze_count()
            gc.freeze()
            if not already_frozen:
                gc.unfreeze()
            gc.enable()

    def _start(self, count: int) -> None:
        # Forked workers share the collector the parent imported instead of each importing it.
        import async_migrate.codemods.astcollect.body  # noqa: F401

        for _ in range(count):
            connection, process = self._spawn()
            self._connections.append(connection)
            self._processes.append(process)

    def _spawn(self) -> tuple[Connection, multiprocessing.process.BaseProcess]:
        linux = sys.platform.startswith("linux")
        context = multiprocessing.get_context("fork") if linux else multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        # A forked worker holds copies of the parent's ends of its own pipe and of every earlier
        # worker's: while any copy is open, a worker whose parent was killed never reads EOF (nor
        # fails a send) and waits for ever. Each closes them first (`_serve`); spawned ones inherit none.
        inherited = (parent, *self._connections) if linux else ()
        process = context.Process(target=_serve, args=(self.root, child, inherited), daemon=True)
        process.start()
        child.close()
        return parent, process

    def name_modules(self, roots: Roots) -> None:
        """Name the modules parsed for a rewrite from `roots`, as a collect round would (a run
        taking the last one's analysis whole collects little or nothing)."""
        self._roots = roots

    def collect(
        self,
        paths: list[str],
        keep: tuple[bytes, ...] | None = None,
        markers: sources.Markers | None = None,
        roots: Roots | None = None,
    ) -> Iterator[Collected]:
        """Parse and collect facts.

        Files whose text contains none of `markers` (none of its names, for `sources.Words`)
        are skipped unparsed (None: parse all); trees whose text contains a `keep` marker stay for the rewrite (None: all).
        Modules are named from `roots` (default: PATH is the import root).
        """
        roots = roots or Roots()
        self._roots = roots
        if self.cache is None:
            yield from self._collect(paths, keep, markers, roots)
            return
        missed = []
        for path in paths:
            hit = self._cached(path, markers, roots)
            if hit is None:
                missed.append(path)
            else:
                yield hit
        for collected in self._collect(missed, keep, markers, roots):
            self._remember(collected)
            yield collected

    def _collect(
        self,
        paths: list[str],
        keep: tuple[bytes, ...] | None,
        markers: sources.Markers | None,
        roots: Roots,
    ) -> Iterator[Collected]:
        jobs = min(self.jobs, max(1, len(paths) // self.MIN_FILES_PER_PROCESS))
        if jobs <= 1 and not self._connections:
            self._local = self._local or Worker(self.root)
            for path in paths:
                yield self._local.collect(path, keep, markers, roots)
            return
        if not self._connections:
            self._start(jobs)
        shards = self._deal(paths)
        blobs = self.cache is not None
        for collected in self._round([("collect", shard, keep, markers, roots, blobs) for shard in shards]):
            if collected.blob is not None and collected.facts is None:
                collected.facts = pickle.loads(collected.blob)
            yield collected

    def _cached(
        self, path: str, markers: sources.Markers | None, roots: Roots
    ) -> Collected | None:
        assert self.cache is not None
        try:
            data = sources.read(self.root / path)
        except sources.SourceError:
            return None  # the worker names the error
        if markers is not None and not sources.marked(data, markers):
            variant = caching.SKIPPED
        else:
            variant = caching.PARSED
        found = self.cache.facts_for(path, data, variant, roots.name(path))
        if found is None:
            return None
        file_digest, module = found
        if module is None:
            return Collected(path, skipped=True, digest=file_digest)
        return Collected(path, facts=module, digest=file_digest)

    def _remember(self, collected: Collected) -> None:
        assert self.cache is not None
        if collected.error is None and collected.digest is not None:
            if collected.skipped:
                self.cache.remember_facts(collected.path, collected.digest, collected.variant, b"")
            elif collected.facts is not None:
                blob = collected.blob or pickle.dumps(collected.facts, protocol=pickle.HIGHEST_PROTOCOL)
                self.cache.remember_facts(
                    collected.path, collected.digest, collected.variant, blob, collected.facts
                )
        collected.blob = None
        if not collected.skipped:
            self.cache.parsed.append(collected.path)

    def rewrite(self, plans: dict[str, Any], rewrite: Rewrite, recheck: bool = False) -> list[Rewritten]:
        """Rewrite each planned file; results sorted by path. With `recheck`, see Worker.rewrite
        (such a rewrite is not cached: its result carries the new module's facts)."""
        if self.cache is None:
            return self._rewrite(plans, rewrite, {}, recheck)
        results: list[Rewritten] = []
        missed: dict[str, Any] = {}
        for path in sorted(plans):
            hit = self._cached_rewrite(path, rewrite, plans[path], recheck)
            if hit is None:
                missed[path] = plans[path]
            else:
                results.append(hit)
        for result in self._rewrite(missed, rewrite, self.cache.seen, recheck):
            if result.parsed:
                self.cache.parsed.append(result.path)
            if result.error is None:
                self.cache.remember_rewrite(
                    result.path, rewrite, missed[result.path], caching.digest(result.before),
                    result.after if result.changed else None, result.diff, result.facts,
                )
            results.append(result)
        return sorted(results, key=lambda result: result.path)

    def _cached_rewrite(self, path: str, rewrite: Rewrite, plan: Any, recheck: bool) -> Rewritten | None:
        assert self.cache is not None
        found = self.cache.rewritten(path, rewrite, plan, with_facts=recheck)
        if found is None:
            return None
        try:
            data = sources.read(self.root / path)
        except sources.SourceError:
            return None
        if caching.digest(data) != self.cache.seen.get(path):
            return None  # changed since the collect round: the worker reports it
        after, diff, new_facts = found
        return Rewritten(path, data, data if after is None else after, diff=diff, facts=new_facts)

    def _rewrite(
        self, plans: dict[str, Any], rewrite: Rewrite, digests: dict[str, str], recheck: bool
    ) -> list[Rewritten]:
        items = [(path, plans[path], digests.get(path)) for path in sorted(plans)]
        if not self._connections:
            local = self._local = self._local or Worker(self.root)
            # Files whose tree this process did not keep (cache hits) are parsed now: on
            # the pool when they are many.
            away = [item for item in items if item[0] not in local.trees]
            jobs = min(self.jobs, len(away) // self.MIN_FILES_PER_PROCESS)
            if jobs < 2:
                return [local.rewrite(path, rewrite, plan, recheck, expected, self._roots) for path, plan, expected in items]
            kept = set(local.trees)
            results = [local.rewrite(path, rewrite, plan, recheck, expected, self._roots) for path, plan, expected in items
                       if path in kept]
            self._start(jobs)
            by_path = {item[0]: item for item in away}
            dealt = [[by_path[path] for path in shard] for shard in self._deal(list(by_path))]
            results.extend(self._round([("rewrite", shard, rewrite, recheck, self._roots) for shard in dealt]))
            return sorted(results, key=lambda result: result.path)
        kept = set(self._local.trees) if self._local is not None else set()
        results = [self._local.rewrite(path, rewrite, plan, recheck, expected, self._roots)  # type: ignore[union-attr]
                   for path, plan, expected in items if path in kept]
        shards: list[list[tuple[str, Any, str | None]]] = [[] for _ in self._connections]
        for item in items:
            if item[0] not in kept:
                shards[self._owner.get(item[0], hash(item[0]) % len(shards))].append(item)
        results.extend(self._round([("rewrite", shard, rewrite, recheck, self._roots) for shard in shards]))
        return sorted(results, key=lambda result: result.path)

    def _deal(self, paths: list[str]) -> list[list[str]]:
        """Largest files first, each to the least loaded worker: a deterministic balance."""
        sizes = {}
        for path in paths:
            try:
                sizes[path] = (self.root / path).stat().st_size
            except OSError:
                sizes[path] = 0
        loads = [0] * len(self._connections)
        shards: list[list[str]] = [[] for _ in self._connections]
        for path in sorted(paths, key=lambda p: (-sizes[p], p)):
            index = min(range(len(loads)), key=loads.__getitem__)
            loads[index] += sizes[path] + 1
            shards[index].append(path)
            self._owner[path] = index
        return shards

    def _round(self, messages: list[tuple[Any, ...]]) -> Iterator[Any]:
        # connection -> [worker index, message, items answered so far]
        pending: dict[Connection, list[Any]] = {}
        for index, (connection, message) in enumerate(zip(self._connections, messages)):
            connection.send(message)
            pending[connection] = [index, message, 0]
        while pending:
            for ready in wait(list(pending)):
                connection = cast(Connection, ready)  # one of `pending`, which `wait` returns as given
                try:
                    kind, payload = connection.recv()
                except EOFError:
                    yield from self._recover(pending, connection)
                    continue
                if kind == "item":
                    pending[connection][2] += 1
                    yield payload
                elif kind == "done":
                    del pending[connection]
                else:
                    raise RuntimeError(payload)

    def _recover(self, pending: dict[Connection, list[Any]], dead: Connection) -> Iterator[Any]:
        """A worker died (the parser crashed the process): name its file, go on without it."""
        index, message, answered = pending.pop(dead)
        kind, items, *rest = message
        culprit = items[answered]
        path = culprit if isinstance(culprit, str) else culprit[0]
        error = "the parser crashed the worker process on this file; left unchanged"
        yield Collected(path, error=error) if kind == "collect" else Rewritten(path, error=error)
        self._processes[index].join(timeout=5)
        connection, process = self._spawn()
        self._connections[index], self._processes[index] = connection, process
        remaining = items[answered + 1 :]
        if remaining:
            resumed = (kind, remaining, *rest)
            connection.send(resumed)
            pending[connection] = [index, resumed, 0]

    def abort(self) -> None:
        """Stop every worker now, mid-file: nothing they hold is written anywhere."""
        for process in self._processes:
            if process.is_alive():
                process.kill()
        for process in self._processes:
            process.join(timeout=5)
        for connection in self._connections:
            connection.close()
        self._connections.clear()
        self._processes.clear()

    def close(self) -> None:
        for connection in self._connections:
            try:
                connection.send(("stop",))
            except (BrokenPipeError, OSError):
                pass
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
        self._connections.clear()
        self._processes.clear()


def _serve(root: Path, connection: Connection, inherited: tuple[Connection, ...] = ()) -> None:
    for end in inherited:
        end.close()
    # Ctrl-C reaches the whole process group: only the main process handles it (and
    # stops the workers), so no worker prints a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _answer(root, connection)
    except OSError:
        # The parent is gone (killed mid-round): nobody reads what this worker has left to say.
        os._exit(1)


def _answer(root: Path, connection: Connection) -> None:
    # libcst trees hold no reference cycles, and a worker keeps thousands of them
    # for the rewrite: the cycle collector would rescan them all, again and again.
    gc.disable()
    worker = Worker(root)
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message[0] == "stop":
            # Everything this process made went back through the pipe; freeing its
            # trees one object at a time would only delay the parent's join.
            connection.close()
            os._exit(0)
        try:
            if message[0] == "collect":
                _, paths, keep, markers, roots, blobs = message
                for path in paths:
                    collected = worker.collect(path, keep, markers, roots)
                    kept = worker.trees.get(path)
                    if collected.facts is not None and (blobs or kept is not None):
                        # Pickled here once: the parent unpickles it and keeps the bytes for the
                        # cache; a tree kept for the rewrite keeps the bytes, not the facts.
                        blob = pickle.dumps(collected.facts, protocol=pickle.HIGHEST_PROTOCOL)
                        if kept is not None and kept.facts is collected.facts:
                            kept.facts, kept.blob = None, blob
                        if blobs:
                            collected.blob, collected.facts = blob, None
                    connection.send(("item", collected))
            elif message[0] == "rewrite":
                _, items, rewrite, recheck, roots = message
                for path, plan, expected in items:
                    connection.send(("item", worker.rewrite(path, rewrite, plan, recheck, expected, roots)))
            connection.send(("done", None))
        except Exception as error:  # report instead of hanging the parent
            connection.send(("error", f"worker failed: {error!r}"))
