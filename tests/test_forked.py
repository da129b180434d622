"""Handlers judged by forked copies of the process (codemods/forked.py): the same results, in
the items' order, whatever a copy does; and `check` and phase one alike either way."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from async_migrate.codemods import forked
from async_migrate.codemods.check import analyse
from async_migrate.codemods.config import load
from async_migrate.codemods.run import Options, collect_project, decide_all, open_pool

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only"),
    # Copies are made only where no other thread runs (see tests/conftest.py).
    pytest.mark.single_thread,
]

SAMPLE = Path(__file__).resolve().parents[1] / "testdata" / "bookshop"


@pytest.fixture
def always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies for any number of items (the real threshold keeps small projects in place)."""
    monkeypatch.setattr(forked, "MIN_ITEMS", 1)
    monkeypatch.setattr(forked, "WARM_ITEMS", 1)
    monkeypatch.setattr(forked, "SAMPLE_ITEMS", 0)
    monkeypatch.setattr(forked, "MIN_SECONDS", 0.0)


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the copies made (other tests of this worker may leave children of their own)."""
    made: list[int] = []
    fork = os.fork

    def recorded() -> int:
        pid = fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded)
    return made


def _reaped(pids: list[int]) -> bool:
    """Whether each copy is gone and waited for: no longer a child of this process."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return bool(pids)


def test_results_come_back_in_order_with_shared_objects_by_identity(always: None, forks: list[int]) -> None:
    parent = os.getpid()
    marker = object()
    items = list(range(50))
    results = forked.judge_all(items, lambda n: (n * n, os.getpid(), marker), 3, shared=[("marker", marker)])
    assert [square for square, _pid, _obj in results] == [n * n for n in items]
    assert {pid for _square, pid, _obj in results} - {parent}, "no item was judged by a copy"
    assert all(obj is marker for _square, _pid, obj in results)
    assert _reaped(forks)


@pytest.mark.parametrize("failure", ["raises", "killed", "unpicklable"])
def test_a_failing_copy_has_its_share_judged_again_here(always: None, forks: list[int], failure: str) -> None:
    parent = os.getpid()

    def judge(n: int) -> object:
        if os.getpid() != parent:
            if failure == "raises":
                raise RuntimeError("only in the copy")
            if failure == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            return lambda: n  # cannot be pickled
        return n + 1

    assert forked.judge_all(list(range(20)), judge, 2) == list(range(1, 21))
    assert _reaped(forks)


def test_an_exception_in_this_process_ends_the_copies(always: None, forks: list[int]) -> None:
    parent = os.getpid()

    def judge(n: int) -> int:
        if os.getpid() == parent and n >= 10:
            raise ValueError("judged here")
        return n

    with pytest.raises(ValueError, match="judged here"):
        forked.judge_all(list(range(40)), judge, 2)
    assert _reaped(forks)


def test_no_copy_while_another_thread_runs(always: None, forks: list[int]) -> None:
    parent = os.getpid()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        pids = forked.judge_all(list(range(30)), lambda n: os.getpid(), 2)
    finally:
        stop.set()
        other.join()
    assert set(pids) == {parent} and not forks


def test_copies_only_for_items_costly_enough_to_pay_for_them(monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> None:
    monkeypatch.setattr(forked, "MIN_ITEMS", 1)
    seen: list[int] = []
    pids = forked.judge_all(list(range(500)), lambda n: os.getpid(), 2, done=seen.append)
    assert set(pids) == {os.getpid()} and not forks
    assert seen == sorted(seen) and seen[-1] == 500

    def costly(n: int) -> int:
        sum(range(20_000))  # CPU time the sample measures
        return os.getpid()

    monkeypatch.setattr(forked, "MIN_SECONDS", 0.01)
    pids = forked.judge_all(list(range(200)), costly, 2)
    assert set(pids) - {os.getpid()}, "no item was judged by a copy"
    assert _reaped(forks)


def test_progress_counts_every_item(always: None) -> None:
    seen: list[int] = []
    forked.judge_all(list(range(30)), lambda n: n, 2, done=seen.append)
    assert seen == sorted(seen) and seen[-1] == 30


def _project(tmp_path: Path):
    options = Options(jobs=1, cache=False)
    config = load(SAMPLE)
    with open_pool(SAMPLE, config, options) as pool:
        project, _errors, _count = collect_project(SAMPLE, config, options, pool, keep=(), callers=True)
    return project


def test_check_finds_the_same_either_way(always: None, tmp_path: Path) -> None:
    alone = analyse(_project(tmp_path), 1)
    shared = analyse(_project(tmp_path), 2)
    assert alone.findings, "the sample has findings to compare"
    assert json.dumps(alone.to_json(), sort_keys=True) == json.dumps(shared.to_json(), sort_keys=True)


def _decided(outcome) -> tuple:
    return (
        outcome.handler.id, outcome.before, outcome.after, outcome.action,
        [(r.code, r.text) for r in outcome.reasons], [(b.line, b.call, b.offloaded) for b in outcome.blocking],
        outcome.offload, repr(outcome.extra),
    )


def test_phase_one_decides_the_same_either_way(always: None, tmp_path: Path) -> None:
    alone = decide_all(_project(tmp_path), Options(jobs=1))
    project = _project(tmp_path)
    shared = decide_all(project, Options(jobs=2))
    assert any(o.action == "convert" for o in alone) and any(o.action == "keep" for o in alone)
    assert [_decided(o) for o in shared] == [_decided(o) for o in alone]
    handlers = {id(handler) for handler in project.handlers}
    assert all(id(o.handler) in handlers for o in shared), "handlers come back as this process's own"


def test_scan_previews_the_same_and_keeps_every_file_it_read(always: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The copies' reads come back: the warm cache takes a kept scan only while every file
    the preview read reads the same, whichever process read it."""
    from async_migrate.codemods import run

    monkeypatch.setattr(run, "PREVIEWED", 1)
    seen = []
    for jobs in (1, 2):
        project = _project(tmp_path)
        outcomes = decide_all(project, Options(jobs=1))
        reads = run._Reads(SAMPLE)
        reads.keep_trees = True
        run._preview(project, outcomes, reads, jobs)
        previews = [(o.handler.id, repr(sorted(o.extra.items()))) for o in outcomes]
        seen.append((previews, reads.digests, reads.lacking, reads.tree_digests()))
    (previews, digests, lacking, trees), forked_run = seen
    assert any("phase2" in text for _id, text in previews)
    assert digests and trees, "the preview reads files beside the facts"
    assert forked_run == (previews, digests, lacking, trees)


def test_a_copy_judges_what_it_shares_out_again_in_place(always: None) -> None:
    """A project-wide table first asked for inside a copy is worked out there, not by copies of the copy."""
    def judge(n: int) -> tuple[int, set[int]]:
        return os.getpid(), set(forked.judge_all(list(range(10)), lambda m: os.getpid(), 2))

    results = forked.judge_all(list(range(20)), judge, 2)
    assert {pid for pid, _inner in results} - {os.getpid()}, "no item was judged by a copy"
    assert all(inner == {pid} for pid, inner in results if pid != os.getpid())


def _unverified(project) -> tuple:
    return (
        list(project._own_unverified.items()), project._state_calls, list(project._untyped_calls.items()),
        list(project._held_work_calls.items()), list(project._unverified_through.items()),
    )


@pytest.mark.parametrize("sample", ["bookshop", "taskboard"])
def test_unverified_calls_the_same_either_way(always: None, forks: list[int], sample: str) -> None:
    """The table of unverified calls, worked out by copies function by function, comes back whole and
    in the functions' order."""
    root = SAMPLE.parent / sample
    tables = []
    for jobs in (1, 2):
        options = Options(jobs=jobs, cache=False)
        config = load(root)
        with open_pool(root, config, options) as pool:
            project, _errors, _count = collect_project(root, config, options, pool, keep=(), callers=True)
        forks.clear()
        tables.append(_unverified(project))
        assert bool(forks) == (jobs > 1)
    alone, shared = tables
    assert alone[0], "the sample has unverified calls"
    assert shared == alone
