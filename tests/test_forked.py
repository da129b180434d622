"""codemods/forked.py: shards judged in forked processes come back whole, in order, and a
shard whose child fails is judged again in this process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import BOOKSHOP, TASKBOARD

from async_migrate.codemods import forked
from async_migrate.codemods.check import check
from async_migrate.codemods.config import load as load_config
from async_migrate.codemods.run import Options, scan

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")


@pytest.fixture(autouse=True)
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "MIN_PER_PROCESS", 2)
    monkeypatch.setattr(forked, "MIN_SUBSYSTEMS_PER_PROCESS", 2)


def _dump(value: list[int]) -> bytes:
    return json.dumps(value).encode()


def _load(data: bytes) -> list[int] | None:
    value = json.loads(data)
    return value if isinstance(value, list) else None


def test_shards_come_back_in_order_and_worked_elsewhere() -> None:
    parent = os.getpid()

    def work(shard: list[int]) -> list[int]:
        # Each value tagged with whether this process is the caller's.
        return [item * 10 + (os.getpid() == parent) for item in shard]

    shards = forked.shard_map(work, list(range(9)), 3, _dump, _load)
    assert [value // 10 for shard in shards for value in shard] == list(range(9))
    assert len(shards) == 3
    assert all(value % 10 == 1 for value in shards[0])  # the first shard here
    assert all(value % 10 == 0 for shard in shards[1:] for value in shard)  # the others forked


def test_failed_child_is_worked_here() -> None:
    parent = os.getpid()

    def work(shard: list[int]) -> list[int]:
        if os.getpid() != parent and 5 in shard:
            raise RuntimeError("only in the child")
        return [item + 100 for item in shard]

    shards = forked.shard_map(work, list(range(9)), 3, _dump, _load)
    assert [value for shard in shards for value in shard] == [item + 100 for item in range(9)]


def test_value_the_dump_cannot_write_is_worked_here() -> None:
    def dump(value: list[int]) -> bytes:
        if os.getpid() != parent:
            raise TypeError("cannot write")
        return _dump(value)

    parent = os.getpid()
    shards = forked.shard_map(lambda shard: list(shard), list(range(6)), 2, dump, _load)
    assert shards == [[0, 1, 2], [3, 4, 5]]


def test_data_the_load_rejects_is_worked_here() -> None:
    calls: list[list[int]] = []

    def work(shard: list[int]) -> list[int]:
        calls.append(shard)  # only this process's list sees the calls made here
        return shard

    shards = forked.shard_map(work, list(range(6)), 2, _dump, lambda data: None)
    assert shards == [[0, 1, 2], [3, 4, 5]]
    assert calls == [[0, 1, 2], [3, 4, 5]]


def test_few_items_one_shard_here_without_prepare() -> None:
    prepared: list[bool] = []
    shards = forked.shard_map(lambda shard: shard, [1, 2, 3], 4, _dump, _load, lambda: prepared.append(True))
    assert shards == [[1, 2, 3]]
    assert prepared == []


def test_prepare_runs_once_before_the_children_and_they_inherit_it() -> None:
    state: dict[str, int] = {}

    def work(shard: list[int]) -> list[int]:
        return [item + state["offset"] for item in shard]

    shards = forked.shard_map(work, list(range(4)), 2, _dump, _load, lambda: state.setdefault("offset", 7))
    assert shards == [[7, 8], [9, 10]]


@pytest.mark.parametrize("service", [BOOKSHOP, TASKBOARD], ids=["bookshop", "taskboard"])
def test_check_and_decisions_forked_as_in_one_process(service: Path) -> None:
    """Every handler of the samples judged in its own forked process (one a shard) reads the
    same findings and phase-one decisions as all judged here."""
    config = load_config(service)

    def judged(jobs: int) -> tuple[object, object]:
        options = Options(jobs=jobs, cache=False)
        found = check(service, config, options).to_json()
        found.pop("root", None)
        decided = scan(service, config, options)
        return found, [outcome.to_json() for outcome in decided.outcomes]

    alone = judged(1)
    forks: list[int] = []
    real_fork = os.fork

    def counted() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forked, "MIN_PER_PROCESS", 1)
        patch.setattr(forked, "MIN_SUBSYSTEMS_PER_PROCESS", 1)
        patch.setattr(forked.os, "fork", counted)
        sharded = judged(8)
    assert sharded == alone
    assert len(forks) > 8  # handlers judged elsewhere (not the collection's workers alone)
