"""What a run is given before anything is read: its options, the markers that pick the files
the pre-pass parses, the progress callback, and its worker pool. Light to import, so a warm run
(`codemods.warm_run`) starts without the analysis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from async_migrate.codemods.config import Config
from async_migrate.codemods.workers import Pool

# A file whose text has none of these cannot define a route, a dependency, a
# session or a router, so the pre-pass does not parse it unless a reference
# leads into it.
# `listen` and `dependency_overrides`: phase two reads event listeners on the sync stack and
# overrides of its session dependency, which a module may register with none of the others;
# `TestClient`: a test client not entered with `with` gets a follow-up from phase two;
# `configure(`: a module binding a sessionmaker to its engine later (`maker.configure(bind=engine)`);
# the GraphQL libraries: a module of resolvers, which run on the event loop, may name nothing else.
MARKERS = (
    b"async def", b"ession", b"Depends", b"Router", b"FastAPI", b"route", b"listen", b"dependency_overrides",
    b"TestClient", b"configure(", b"strawberry", b"graphene", b"ariadne",
)
# (stage, items done in that stage, items the stage has): stages are "read" (files),
# "analyse" (handlers), "rewrite" and "write" (files); done never exceeds total.
Progress = Callable[[str, int, int], None]


@dataclass
class Activity:
    """What the run is working on: the file an internal error names."""

    file: str | None = None


CURRENT = Activity()


@dataclass
class Options:
    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    jobs: int | None = None
    offload_mixed: bool = False
    subsystem: str | None = None
    shared: str = "twin"  # twin or block
    cache: bool = True  # read and write the warm cache (codemods/cache.py)


def open_pool(root: Path, config: Config, options: Options) -> Pool:
    """The run's worker pool, with the application's cache unless `--no-cache` (or
    ASYNC_MIGRATE_NO_CACHE) turns it off."""
    from async_migrate.codemods import cache as caching

    cache = caching.Cache.open(root, config) if options.cache and not caching.disabled_by_environment() else None
    return Pool(root, options.jobs, cache=cache)
