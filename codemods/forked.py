"""One judgement per handler, shared out to forked copies of the process.

The per-handler half of an analysis (`check`'s findings, phase one's decisions) reads the
project index and writes nothing to it but its own memos, so copies of the process made once
the index is built can each judge a share of the handlers. Only results cross back, pickled,
with the objects both sides already hold (handlers, rules) sent as references. Results come
back in the order of the items, whatever the scheduling; a copy that fails (raises, is killed,
sends what cannot be read) has its share judged again here, so the outcome never depends on it.

Only where `os.fork` exists and no other thread runs (a fork copies one thread, and a lock
another thread held would stay held); elsewhere, and for few items, the judging is in place.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from async_migrate.codemods.project import Project

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this many items the copies cost more than they save (a fork of a large index is
# about 10 ms, and each copy recomputes what the parent had not memoised before it).
MIN_ITEMS = 400
# Each copy ends up holding most of the index as its own memory (every object it reads has its
# reference count written), so their number is bounded, not the cores'.
MAX_COPIES = 3
# Items judged here before the copies are made: the project-wide analyses they start (the call
# graph's fixpoints, which every handler reads) are then computed once, not once per copy.
WARM_ITEMS = 8
# Items judged here after those, timed: the copies are made only where the items left would take
# MIN_SECONDS of CPU here or more. A copy costs about a quarter of a second of CPU on a large index
# (the fork, the pages of the index it writes to, its exit), which cheap items never pay back.
SAMPLE_ITEMS = 16
MIN_SECONDS = 1.0
# In a copy: what it is asked to share out again is judged in place (its copies would only
# compete with its siblings for the cores).
_in_copy = False


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: dict[int, Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared

    def persistent_id(self, obj: Any) -> Any:  # noqa: D102 - pickle's hook
        return self.shared.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, shared: dict[Any, Any]) -> None:
        super().__init__(file)
        self.shared = shared

    def persistent_load(self, pid: Any) -> Any:  # noqa: D102 - pickle's hook
        return self.shared[pid]


def judge_all(
    items: Sequence[Item],
    judge: Callable[[Item], Result],
    jobs: int | None,
    shared: Iterable[tuple[Any, Any]] = (),
    done: Callable[[int], None] | None = None,
    least: int | None = None,
    learnt: tuple[Callable[[], Any], Callable[[Any], None]] | None = None,
) -> list[Result]:
    """[judge(item) for item in items], shared out to `jobs` processes (None: all cores, at most
    MAX_COPIES + 1), when there are `least` items or more (None: MIN_ITEMS).

    `shared`: (key, object) pairs both sides hold (handlers by id, rules by code); a result
    referring to one is sent as its key. `done(n)` is called here as items are judged here, and
    once with len(items) at the end. `learnt`: (take, merge): what a copy learnt beside its
    results (the files it read) is `take()` there, after its share, and `merge(...)` here. An
    exception raised by `judge` is raised here, as in the plain loop.
    """
    count = min(jobs if jobs is not None else (os.cpu_count() or 1), MAX_COPIES + 1)
    if _in_copy or count <= 1 or len(items) < (MIN_ITEMS if least is None else least) or not hasattr(os, "fork") \
            or threading.active_count() > 1:
        return _in_place(items, judge, done)
    warm = [judge(item) for item in items[:WARM_ITEMS]]
    started = time.process_time()
    warm.extend(judge(item) for item in items[WARM_ITEMS:WARM_ITEMS + SAMPLE_ITEMS])
    sampled = len(warm) - WARM_ITEMS
    rest = items[len(warm):]
    if (time.process_time() - started) / max(1, sampled) * len(rest) < MIN_SECONDS:
        for item in rest:
            warm.append(judge(item))
            if done is not None:
                done(len(warm))
        if done is not None:
            done(len(items))
        return warm
    shares = [list(range(start, len(rest), count)) for start in range(count)]
    by_id = {id(obj): key for key, obj in shared}
    by_key = {key: obj for key, obj in shared}
    children: list[tuple[int, int, list[int]]] = []  # pid, read end, share
    try:
        for share in shares[1:]:
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the copy, which never returns
                os.close(read_end)
                _serve(rest, share, judge, write_end, by_id, learnt[0] if learnt is not None else None)
            os.close(write_end)
            children.append((pid, read_end, share))
        results: list[Any] = [None] * len(rest)
        for position, index in enumerate(shares[0]):
            results[index] = judge(rest[index])
            if done is not None:
                done(len(warm) + position + 1)
        while children:
            pid, read_end, share = children[0]
            received = _receive(read_end, pid, by_key)
            children.pop(0)
            answer, taken = received if received is not None else (None, None)
            if answer is None or len(answer) != len(share):
                answer = [judge(rest[index]) for index in share]
            elif learnt is not None:
                learnt[1](taken)
            for index, result in zip(share, answer):
                results[index] = result
    finally:
        for pid, read_end, _share in children:  # interrupted: the copies go with this process
            _end(pid, read_end)
    if done is not None:
        done(len(items))
    return [*warm, *results]


def held_alike(project: Project) -> list[tuple[Any, Any]]:
    """`judge_all`'s `shared` for an analysis of project: its handlers by id, the rules by code."""
    from async_migrate.codemods.rules import all_rules

    return [*((handler.id, handler) for handler in project.handlers), *((rule.code, rule) for rule in all_rules())]


def _in_place(items: Sequence[Item], judge: Callable[[Item], Result], done: Callable[[int], None] | None) -> list[Result]:
    results = []
    for item in items:
        results.append(judge(item))
        if done is not None:
            done(len(results))
    return results


def _serve(
    items: Sequence[Any], share: list[int], judge: Callable[[Any], Any], write_end: int, by_id: dict[int, Any],
    take: Callable[[], Any] | None,
) -> None:
    """The copy's whole life: judge its share, send the results (and what it learnt), end
    without running the parent's exit handlers or flushing its buffered output a second time."""
    global _in_copy
    _in_copy = True
    status = 1
    try:
        # A Ctrl-C reaches the whole process group: the copy just ends, the parent reports it.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        results = [judge(items[index]) for index in share]
        buffer = io.BytesIO()
        _Pickler(buffer, by_id).dump((results, take() if take is not None else None))
        data = memoryview(buffer.getvalue())
        while data:
            data = data[os.write(write_end, data):]
        status = 0
    except BaseException:  # noqa: BLE001 - the parent judges this share again
        pass
    finally:
        os._exit(status)


def _receive(read_end: int, pid: int, by_key: dict[Any, Any]) -> tuple[list[Any], Any] | None:
    """A copy's results and what it learnt, or None when it failed."""
    chunks = []
    with os.fdopen(read_end, "rb") as stream:
        while chunk := stream.read(1 << 20):
            chunks.append(chunk)
    _pid, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    try:
        return _Unpickler(io.BytesIO(b"".join(chunks)), by_key).load()
    except Exception:  # noqa: BLE001 - judged again in place
        return None


def _end(pid: int, read_end: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    try:
        os.close(read_end)
    except OSError:
        pass
