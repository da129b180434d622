"""The walk for updates of shared state a helper reaches follows each function once per walk.

Methods and the properties they read on `self` often call each other in cycles (a settings
object whose properties read one another, `p0` reading `p1` and `p3`, and so on). The walk keeps
only the answers no cycle cut short, so without remembering what one walk already followed it
followed every such function again on every path: exponential time (a real service's `check`
ran for more than half an hour). It now follows each once per walk, and still finds an update
reached only through the cycle.
"""

from __future__ import annotations

from async_migrate.codemods.astcollect import collect
from async_migrate.codemods.phase1 import shared_updates
from async_migrate.codemods.project import Project


def _graph(size: int, update: bool) -> str:
    lines = ["COUNTS = {}", "", "", "class Graph:"]
    for i in range(size):
        read = f"self.p{(i + 1) % size} + self.p{(i + 3) % size}"
        if update and i == size - 1:
            read += " + self.bump()"  # the last property also bumps a counter every request shares
        lines += ["    @property", f"    def p{i}(self):", f"        return {read}", ""]
    lines += ["    def bump(self):", "        COUNTS['n'] = COUNTS.get('n', 0) + 1", "        return 1", ""]
    lines += ["", "GRAPH = Graph()", "", "", "def total():", "    return GRAPH.p0", ""]
    return "\n".join(lines)


def _walk(monkeypatch, source: str) -> tuple[object, int]:
    project = Project([collect("app/graph.py", source)])
    calls = 0
    original = shared_updates.own_updates

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls  # each function the walk follows is asked for its own updates
        calls += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(shared_updates, "own_updates", counted)
    return shared_updates.reached_update(project, ("app.graph", "total"), False), calls


def test_a_cycle_of_properties_is_followed_once_per_walk(monkeypatch):
    found, calls = _walk(monkeypatch, _graph(30, update=False))
    assert found is None
    assert calls <= 3 * 30, calls  # was over half a million


def test_an_update_reached_only_through_the_cycle_is_found(monkeypatch):
    found, _calls = _walk(monkeypatch, _graph(30, update=True))
    assert found is not None
    assert found.subject.startswith("COUNTS"), found


def test_a_later_walk_finds_a_session_store_reached_through_a_cycle_an_earlier_walk_cut_short():
    # the walk for stores of a Session on an object every request shares (AM143): the first walk
    # (from `start`) reaches `p26` while `p0` is on its path, so what it finds below `p26` is cut
    # short there and must not be kept as `p26`'s answer: `later` reaches the store through `p0`
    from async_migrate.codemods.phase1 import shared_store

    lines = [
        "from sqlalchemy.orm import sessionmaker", "", "SessionLocal = sessionmaker()", "", "",
        "class Holder:", "    session = None", "", "", "HOLDER = Holder()", "", "", "class Graph:",
    ]
    for i in range(30):
        lines += ["    @property", f"    def p{i}(self):", f"        x = self.p{(i + 1) % 30} + self.p{(i + 3) % 30}"]
        lines += ["        self.bump()"] if i == 0 else []
        lines += ["        return x", ""]
    lines += ["    def bump(self):", "        HOLDER.session = SessionLocal()", ""]
    lines += ["", "GRAPH = Graph()", "", "", "def start():", "    return GRAPH.p0", "", "", "def later():",
              "    return GRAPH.p26", ""]
    project = Project([collect("app/graph.py", "\n".join(lines))])
    assert shared_store.reached_store(project, ("app.graph", "start")) is not None
    assert shared_store.reached_store(project, ("app.graph", "later")) is not None
