"""AM299 sessionmaker-keywords-unread: the sessionmaker's keywords cannot all be written to the async sessionmaker

`async_sessionmaker(...)` hands its keywords to the Session behind each AsyncSession, so phase
two gives it every keyword the synchronous sessionmaker is built with (`autoflush=False`,
`twophase=True`, `info=...`). Where it cannot read them (a `**options` mapping unpacked into
the call, a value local to the function building the sessionmaker), the async sessions would
flush, commit or route statements otherwise than the synchronous ones, without a word: phase two
blocks instead of dropping them.

Before:

    OPTIONS = {"autoflush": False}
    SessionLocal = sessionmaker(bind=engine, **OPTIONS)

After:

    SessionLocal = sessionmaker(bind=engine, autoflush=False)   # then run phase two again
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM299",
    name="sessionmaker-keywords-unread",
    summary="the sessionmaker's keywords cannot all be written to the async sessionmaker",
    fix="write the sessionmaker's keywords out in the call, or write the async sessionmaker by hand and name it in "
    "[tool.async-migrate] async-sessionmaker",
    doc=__doc__,
)
