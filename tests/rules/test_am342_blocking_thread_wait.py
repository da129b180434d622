"""AM342 blocking-thread-wait: an `async def` handler waiting on another thread or process
(`pool.submit(job).result()`, `thread.join()`, a `threading` lock, a bounded `queue.Queue`'s
`put()`) holds the event loop, which `check` judged all-clear while it read Session work only."""

from __future__ import annotations

import pytest

# Module-level objects the routes below wait on, and a class keeping one on its instances.
OBJECTS = """
import asyncio
import concurrent.futures
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

from starlette.concurrency import run_in_threadpool

pool = ThreadPoolExecutor(max_workers=2)
LOCK = threading.Lock()
AUDIT: "queue.Queue[int]" = queue.Queue(maxsize=100)
UNBOUNDED: "queue.Queue[int]" = queue.Queue()
EVENTS: asyncio.Queue = asyncio.Queue()


def job(n: int) -> int:
    return n + 1


class Gate:
    def __init__(self) -> None:
        self.opened = threading.Event()

    def pass_through(self) -> None:
        self.opened.wait(5)


GATE = Gate()


def drain(n: int) -> None:
    worker = threading.Thread(target=job, args=(n,))
    worker.start()
    worker.join()
"""

WAITS = {
    "pool.submit(job, n).result(timeout=30)": "`pool.submit(...).result()` at line",
    "fut = pool.submit(job, n)\n    fut.exception()": "`fut.exception()` at line",
    "concurrent.futures.wait([pool.submit(job, n)])": "`concurrent.futures.wait(...)` at line",
    "AUDIT.put(n)": "`AUDIT.put()` at line",
    "UNBOUNDED.get()": "`UNBOUNDED.get()` at line",
    "with LOCK:\n        n += 1": "`with LOCK:` at line",
    "LOCK.acquire()": "`LOCK.acquire()` at line",
    "drain(n)": "`api.items.drain()` (line",
    "GATE.pass_through()": "runs `self.opened.wait()` at api/items.py:",
    "with ThreadPoolExecutor() as local:\n        local.submit(job, n)": "`with concurrent.futures.ThreadPoolExecutor(...):`",
}


@pytest.mark.parametrize("body", list(WAITS))
def test_an_async_route_waiting_on_a_thread_is_am342(app, findings, body):
    root = app(OBJECTS + f"""

@router.post("/jobs/{{n}}")
async def run_job(n: int):
    {body}
    return {{"n": n}}
""")
    found = findings(root, "run_job")
    assert [f["code"] for f in found] == ["AM342"], found
    assert WAITS[body] in found[0]["message"], found[0]["message"]
    assert "waits on another thread or process on the event loop" in found[0]["message"]


def test_the_future_advice_is_wrap_future(app, findings):
    root = app(OBJECTS + """

@router.post("/jobs/{n}")
async def run_job(n: int):
    return pool.submit(job, n).result(timeout=30)
""")
    (found,) = findings(root, "run_job")
    assert "`await asyncio.wrap_future(future)`" in found["message"], found["message"]
    assert "(a concurrent.futures.Future)" in found["message"], found["message"]


NEAR_MISSES = [
    "n = await asyncio.wrap_future(pool.submit(job, n))",
    "fut = pool.submit(job, n)\n    n = await run_in_threadpool(fut.result)",
    "await EVENTS.put(n)",
    "EVENTS.put_nowait(n)",
    "AUDIT.put_nowait(n)",
    "AUDIT.get(block=False)",
    "UNBOUNDED.put(n)",
    "LOCK.acquire(blocking=False)",
    "pool.submit(job, n)",
    "fut = asyncio.get_running_loop().create_future()\n    fut.set_result(n)\n    n = await fut",
    "await run_in_threadpool(drain, n)",
]


@pytest.mark.parametrize("body", NEAR_MISSES)
def test_near_miss_an_awaited_offloaded_or_untyped_wait_is_no_am342(app, findings, body):
    root = app(OBJECTS + f"""

def take(source) -> int:
    return source.get()


@router.post("/jobs/{{n}}")
async def run_job(n: int):
    {body}
    take(object())
    return {{"n": n}}
""")
    assert [f["code"] for f in findings(root, "run_job")] == [], findings(root, "run_job")


def test_near_miss_a_def_route_waiting_is_no_am342(app, findings):
    root = app(OBJECTS + """

@router.post("/jobs/{n}")
def run_job(n: int):
    return pool.submit(job, n).result(timeout=30)
""")
    assert findings(root, "run_job") == []
