"""AM337 await-in-generator-expression-iterated: an `async def` handler awaits inside a generator expression

An `await` in a generator expression's element, a condition or an iterable after the first makes
it an async generator: `any()`, `all()`, `sum()`, `list()`, `sorted()`, `"".join()` and a plain
`for` raise TypeError ("'async_generator' object is not iterable") when the request runs. Code
moved to AsyncSession (by hand, or by a phase two before it blocked this shape) awaits a
repository's method where the synchronous version called it. Found in the handler and in the
project coroutines it awaits; a generator expression that an `async for` or an async
comprehension iterates itself is not reported. Silence one handler with
`# async-migrate: ignore[AM337] reason`.

Before:

    @router.get("/any-missing")
    async def any_missing(ids: str, repo: RepoDep):
        return {"missing": any(await repo.get(int(i)) is None for i in ids.split(","))}

After:

    @router.get("/any-missing")
    async def any_missing(ids: str, repo: RepoDep):
        return {"missing": any([await repo.get(int(i)) is None for i in ids.split(",")])}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM337",
    name="await-in-generator-expression-iterated",
    summary="an `await` inside a generator expression makes it an async generator, which `any()`, `sum()`, "
    "`list()` and a plain `for` cannot iterate: TypeError at request time",
    fix="use a list comprehension (inside `any()`/`all()` it awaits every item, not only up to the first that "
    "decides), or iterate it with `async for`",
    doc=__doc__,
)
