"""One step of the cross-module analysis spread over forked processes.

Collecting facts runs in the worker pool (`codemods/workers.py`); what follows, judging each
handler on the joined index, ran in one process and, on a large service, took as long as the
collection on all cores. The judgements of two handlers are independent (each reads the index
and fills caches of its own), so consecutive shards of the handlers are judged in processes
forked from this one once the index is built: each child starts with the index as it stands,
judges its shard and writes its result back as JSON (`codemods/memo.py`, the warm cache's
format, which rebuilds handlers by id); this process judges the first shard meanwhile.

A shard whose child fails in any way (an exception, a value the JSON cannot hold, a signal) is
judged again here, so the result is the one-process result or the error that one gives.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

Item = TypeVar("Item")
Value = TypeVar("Value")

# Forking copies nothing up front, but every child refills the caches its shard reads (the
# Session work of shared helpers): below this many handlers a shard costs more than it saves.
MIN_PER_PROCESS = 150
# A subsystem's phase-two preview (scan) costs as much as a hundred handlers' judgements.
MIN_SUBSYSTEMS_PER_PROCESS = 8


def shard_map(
    work: Callable[[list[Item]], Value],
    items: list[Item],
    jobs: int,
    dump: Callable[[Value], bytes],
    load: Callable[[bytes], Value | None],
    prepare: Callable[[], object] | None = None,
    minimum: int | None = None,
) -> list[Value]:
    """`work` applied to consecutive shards of `items`, at most `jobs` of them, in order.

    The first shard is worked in this process, the others in forked children whose results
    come back through `dump`/`load` (`load` returns None for data it cannot read back, and
    `dump` may raise for a value it cannot write): a child that fails has its shard worked
    here. One shard, run here, without `os.fork` (not on Windows) or with too few items (fewer
    than `minimum`, default `MIN_PER_PROCESS`, a process).
    `prepare` runs first when there are several shards: what every shard would compute, the
    children inherit instead.
    """
    count = min(jobs, len(items) // (MIN_PER_PROCESS if minimum is None else minimum))
    if count <= 1 or not hasattr(os, "fork"):
        return [work(items)]
    if prepare is not None:
        prepare()
    size = -(-len(items) // count)
    shards = [items[start : start + size] for start in range(0, len(items), size)]
    children = [_fork(work, shard, dump) for shard in shards[1:]]
    results = [work(shards[0])]
    for shard, child in zip(shards[1:], children):
        value = _collect(child, load)
        results.append(work(shard) if value is None else value)
    return results


def _fork(work: Callable[[list[Item]], Value], shard: list[Item], dump: Callable[[Value], bytes]) -> tuple[int, int] | None:
    """(pid, read end of its pipe) of a child working shard, or None when none could start."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    # Whatever sits in this process's output buffers would be written twice, once by each.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # pragma: no cover - the child leaves through os._exit, which coverage never sees end
        status = 1
        try:
            os.close(read)
            data = dump(work(shard))
            view = memoryview(data)
            while view:
                view = view[os.write(write, view) :]
            status = 0
        except BaseException:  # noqa: BLE001 - any failure: this process judges the shard itself
            pass
        finally:
            # No exit handlers, no buffers flushed, no `finally` of the caller run twice.
            os._exit(status)
    os.close(write)
    return pid, read


def _collect(child: tuple[int, int] | None, load: Callable[[bytes], Value | None]) -> Value | None:
    """The child's value, or None when it failed (after reaping it)."""
    if child is None:
        return None
    pid, read = child
    chunks = []
    try:
        while chunk := os.read(read, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    return load(b"".join(chunks))
