"""AM140 updates-module-global, for a generator every request shares: a handler resuming it
(`next(IDS)`, `IDS.send(x)`, also through a helper or a method of a shared instance) stays async.
As `def`, two threadpool threads could resume it at once: `ValueError: generator already executing`."""

from __future__ import annotations

import threading
import time

import pytest

ROUTE = """
import itertools
import threading

LOCK = threading.Lock()


def _ids():
    n = 0
    while True:
        n += 1
        yield n


IDS = _ids()
COUNT = itertools.count()


class Ticker:
    def __init__(self):
        self._ids = _ids()

    def take(self):
        return next(self._ids)


ticker = Ticker()


def new_id():
    return next(IDS)


@router.get("/items")
async def list_items(session: session_dependency):
    {body}
    return session.execute("select 1").all()
"""


def _line(root, text: str) -> int:
    lines = (root / "api" / "items.py").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


@pytest.mark.parametrize("body, subject, written", [
    ("x = next(IDS)", "IDS", "x = next(IDS)"),
    ("x = next(IDS, 0)", "IDS", "x = next(IDS, 0)"),
    ("x = IDS.send(None)", "IDS", "x = IDS.send(None)"),
    ("x = IDS.__next__()", "IDS", "x = IDS.__next__()"),
])
def test_a_route_resuming_a_module_level_generator_is_kept_with_am140(app, reported, body, subject, written):
    root = app(ROUTE.format(body=body))
    entry = reported(root, "list_items", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    line = _line(root, written)
    assert entry["reasons"][0].startswith(f"resumes the generator `{subject}` (line {line}), which every request shares"), entry
    assert "generator already executing" in entry["reasons"][0]


@pytest.mark.parametrize("body, where, subject, written", [
    ("x = new_id()", "`api.items.new_id`", "IDS", "return next(IDS)"),
    ("x = ticker.take()", "`api.items.Ticker.take`", "self._ids", "return next(self._ids)"),
])
def test_a_helper_or_a_shared_instance_resuming_one_keeps_the_route(app, reported, body, where, subject, written):
    root = app(ROUTE.format(body=body))
    entry = reported(root, "list_items", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    at = f"api/items.py:{_line(root, written)}"
    assert entry["reasons"][0].startswith(f"calls {where} (line {_line(root, body)}), which resumes the generator `{subject}` ({at})"), entry


@pytest.mark.parametrize("body", [
    "x = next(COUNT)",  # itertools.count: a C iterator threads may share
    "x = next(_ids())",  # a generator of its own
    "x = Ticker().take()",  # an instance of its own
    "with LOCK:\n        x = next(IDS)",  # resumed under the module's lock
    "x = next(iter([1, 2]))",
])
def test_near_miss_a_c_iterator_an_own_generator_or_a_lock_converts(app, reported, body):
    assert reported(app(ROUTE.format(body=body)), "list_items", "phase1")["action"] == "convert"


def test_check_asks_for_a_lock_or_itertools_count(app, findings):
    (finding,) = findings(app(ROUTE.format(body="x = new_id()")), "list_items")
    assert "the generator `IDS`" in finding["message"] and "with LOCK:" in finding["message"], finding
    assert "itertools.count()" in finding["message"], finding


def test_two_threads_resuming_one_generator_fail_where_the_event_loop_never_does():
    """The hazard the rule keeps routes from: a generator resumed by a second thread while the
    first is inside it raises; `itertools.count` does not."""

    def slow():
        while True:
            time.sleep(0.05)  # the frame is running while another thread calls next()
            yield 1

    shared = slow()
    errors: list[BaseException] = []

    def take() -> None:
        try:
            next(shared)
        except ValueError as error:
            errors.append(error)

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [str(e) for e in errors] == ["generator already executing"]
