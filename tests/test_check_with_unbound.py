"""A `with` item bound to no name (`with UnitOfWork():`, `with scope(commit=True):` on a project
instance whose `__call__` makes a configured copy) runs its class's `__enter__` and `__exit__`:
Session work there (a commit as the block ends) blocks an `async def` task or route."""

from __future__ import annotations

import textwrap

MAIN = textwrap.dedent(
    """\
    import time
    from contextvars import ContextVar

    from fastapi import BackgroundTasks, FastAPI
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session, sessionmaker

    engine = create_engine("sqlite://")
    SessionLocal = sessionmaker(engine)
    _current: ContextVar[Session | None] = ContextVar("_current", default=None)


    class Scope:
        def __init__(self, commit: bool = False):
            self.commit = commit
            self.token = None

        def __call__(self, commit: bool = False) -> "Scope":
            return Scope(commit=commit)

        def __enter__(self) -> "Scope":
            self.token = _current.set(SessionLocal())
            return self

        def __exit__(self, *exc):
            session = _current.get()
            if self.commit:
                session.commit()
            session.close()
            _current.reset(self.token)


    class Timer:
        def __enter__(self):
            self.start = time.monotonic()
            return self

        def __exit__(self, *exc):
            self.spent = time.monotonic() - self.start


    scope = Scope()
    app = FastAPI()


    async def audit() -> None:
        with scope(commit=True):
            _current.get().add(object())


    async def audit_direct() -> None:
        with Scope(commit=True):
            _current.get().add(object())


    async def timed() -> None:
        with Timer():
            pass


    @app.post("/a")
    def later(tasks: BackgroundTasks):
        tasks.add_task(audit)
        return {}


    @app.post("/b")
    def later_direct(tasks: BackgroundTasks):
        tasks.add_task(audit_direct)
        return {}


    @app.post("/c")
    def later_timed(tasks: BackgroundTasks):
        tasks.add_task(timed)
        return {}
    """
)


def test_an_unbound_with_item_runs_its_exit_on_the_loop(cli, tmp_path):
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.py").write_text(MAIN, encoding="utf-8")
    findings = {f["function"]: f for f in cli.json("check", root)["findings"]}
    # near miss: `with Timer():` runs an `__exit__` doing no Session work
    assert {name: f["code"] for name, f in findings.items()} == {"later": "AM306", "later_direct": "AM306"}
    assert "main.Scope.__exit__" in findings["later"]["message"]
    assert "main.Scope.__exit__" in findings["later_direct"]["message"]
