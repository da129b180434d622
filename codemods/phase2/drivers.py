"""Synchronous SQLAlchemy drivers and the asyncio driver that reaches the same database.

The connection URL of a service is usually computed at runtime (environment
variables, settings objects, a normalising helper), so the tool cannot rewrite
it statically. The async engine it generates derives its URL from the
synchronous engine's own `engine.url` instead, through a small generated
function whose table is `ASYNC_DRIVERS` below (see `url_helper_source`).

Why a named function rather than the mapping inlined into the
`create_async_engine(...)` call: the URL is needed three times in the expression
(`url.set(drivername=table.get(url.drivername, url.drivername))`), the table has
twenty-odd entries, and a reviewer reads `create_async_engine(_async_url(engine.url), ...)`
as what it means. The function is pure, runs once at import, and keeps the
table in one visible place next to the engine it serves.
"""

from __future__ import annotations

import re

# Sync drivername -> asyncio drivername (checked against SQLAlchemy 2.1's dialects).
# Bare backend names stand for the backend's default driver: mysqldb for `mysql` and `mariadb`,
# pyodbc for `mssql`, oracledb for `oracle` (psycopg for `postgresql` in 2.1, psycopg2 in 2.0:
# both map to psycopg 3, which serves sync and async). Every sync driver whose URL the asyncio
# one reads the same way is here: one left out keeps the async engine on a sync driver, and the
# migrated application fails at import ("The asyncio extension requires an async driver").
# Not mapped: mysql+pyodbc, mssql+pymssql and mssql+mssqlpython (their URLs say what an ODBC
# connection needs otherwise) and sqlite+pysqlcipher (no asyncio driver encrypts).
ASYNC_DRIVERS: dict[str, str] = {
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
    "postgresql+psycopg2cffi": "postgresql+psycopg",
    "postgresql+pg8000": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "mysql": "mysql+aiomysql",
    "mysql+mysqldb": "mysql+aiomysql",
    "mysql+pymysql": "mysql+aiomysql",
    "mysql+mysqlconnector": "mysql+aiomysql",
    "mysql+mariadbconnector": "mysql+aiomysql",
    "mysql+cymysql": "mysql+aiomysql",
    "mariadb": "mariadb+aiomysql",
    "mariadb+mysqldb": "mariadb+aiomysql",
    "mariadb+pymysql": "mariadb+aiomysql",
    "mariadb+mysqlconnector": "mariadb+aiomysql",
    "mariadb+mariadbconnector": "mariadb+aiomysql",
    "mariadb+cymysql": "mariadb+aiomysql",
    "mssql": "mssql+aioodbc",
    "mssql+pyodbc": "mssql+aioodbc",
    "oracle": "oracle+oracledb",
    "oracle+cx_oracle": "oracle+oracledb",
    "oracle+oracledb": "oracle+oracledb",
}

# Drivernames that already are asyncio drivers: an engine URL using one is kept as is.
ASYNC_ONLY: frozenset[str] = frozenset(
    {
        "postgresql+asyncpg",
        "postgresql+psycopg_async",
        "sqlite+aiosqlite",
        "mysql+aiomysql",
        "mysql+asyncmy",
        "mariadb+aiomysql",
        "mariadb+asyncmy",
        "mssql+aioodbc",
        "oracle+oracledb_async",
    }
)

# Asyncio drivername -> the package that provides it (for the report's follow-ups).
PACKAGES: dict[str, str] = {
    "postgresql+psycopg": "psycopg",
    "postgresql+psycopg_async": "psycopg",
    "postgresql+asyncpg": "asyncpg",
    "sqlite+aiosqlite": "aiosqlite",
    "mysql+aiomysql": "aiomysql",
    "mysql+asyncmy": "asyncmy",
    "mariadb+aiomysql": "aiomysql",
    "mariadb+asyncmy": "asyncmy",
    "mssql+aioodbc": "aioodbc",
    "oracle+oracledb": "oracledb",
    "oracle+oracledb_async": "oracledb",
}


def async_driver(drivername: str) -> str | None:
    """The asyncio drivername for a sync (or already async) one; None when there is none."""
    if drivername in ASYNC_ONLY:
        return drivername
    return ASYNC_DRIVERS.get(drivername)


def package(async_drivername: str) -> str | None:
    return PACKAGES.get(async_drivername)


_URL = re.compile(r"^([A-Za-z][A-Za-z0-9_]*(?:\+[A-Za-z0-9_]+)?)://")


def drivername_of(url: str) -> str | None:
    """`postgresql+psycopg2` for `postgresql+psycopg2://u@h/db`; None when it is not a URL."""
    found = _URL.match(url)
    return found.group(1).lower() if found else None


def is_memory_sqlite(url: str) -> bool:
    """An in-memory SQLite URL: every engine opened on it gets a database of its own."""
    drivername = drivername_of(url)
    if drivername is None or not drivername.startswith("sqlite"):
        return False
    database = url.split("://", 1)[1].lstrip("/").split("?", 1)[0]
    return database in ("", ":memory:")


_QUOTED = re.compile(r"""["']([a-z][a-z0-9_]*(?:\+[a-z0-9_]+)?)(?::/|["'])""")


def drivers_named_in(source: str) -> list[str]:
    """Known drivernames a module spells out in string literals (`"sqlite:///..."`,
    `drivername="postgresql+psycopg"`), in order of first appearance."""
    found: list[str] = []
    for match in _QUOTED.finditer(source):
        name = match.group(1)
        if (name in ASYNC_DRIVERS or name in ASYNC_ONLY) and name not in found:
            found.append(name)
    return found


# The mapping in a driver-swapping function phase two generated before (`url_helper_source`),
# which spells out every driver it knows: none of them is a driver the project uses.
_URL_HELPER_MAPPING = re.compile(r"^([ \t]*)async_drivers = \{\n.*?^\1\}", re.MULTILINE | re.DOTALL)


def without_url_helpers(source: str) -> str:
    """`source` without the driver tables of the URL helpers generated in it."""
    return _URL_HELPER_MAPPING.sub("", source)


# The generated driver-swapping function's name, unless the module binds it already.
URL_HELPER = "_async_url"


def url_helper_source(name: str = URL_HELPER, url_type: str = "URL") -> str:
    """The generated function that derives the async URL from the sync engine's URL at runtime."""
    entries = "".join(
        f'        "{sync}": "{target}",\n' for sync, target in ASYNC_DRIVERS.items() if sync != target
    )
    return (
        f"def {name}(url: {url_type}) -> {url_type}:\n"
        f'    """`url` with its driver swapped for the asyncio driver of the same database."""\n'
        f"    # psycopg (3) and oracledb serve both; drivers that are async already stay as they are.\n"
        f"    async_drivers = {{\n"
        f"{entries}"
        f"    }}\n"
        f"    return url.set(drivername=async_drivers.get(url.drivername, url.drivername))\n"
    )


# aiomysql (0.3.2, its latest) escapes a bytes parameter with PyMySQL's `escape_bytes_prefixed`,
# which PyMySQL 1.2 turned into a string: on the async engine every bytes value (a LargeBinary
# column's) raises "TypeError: 'str' object is not callable" where the synchronous one wrote it.
# aiomysql depends on any PyMySQL from 1.0, so a fresh install gets the pair.
MYSQL_BYTES_FOLLOW_UP = (
    "if the database is MySQL or MariaDB: the async engine's driver, aiomysql, cannot send bytes with "
    "PyMySQL 1.2 or newer (writing a LargeBinary value raises \"TypeError: 'str' object is not callable\", "
    "where the synchronous engine wrote it): pin `PyMySQL<1.2` beside aiomysql, or install asyncmy and "
    "map the MySQL drivers to `mysql+asyncmy` (`mariadb+asyncmy`) in the async engine's URL"
)
# A column type that holds bytes, as model code spells it (`LargeBinary`, `sa.BLOB`,
# `mysql.LONGBLOB`, `PickleType`, `Mapped[bytes]`).
_BINARY_COLUMN = re.compile(
    r"\b(?:LargeBinary|PickleType|(?:LONG|MEDIUM|TINY)?BLOB|(?:VAR)?BINARY)\b|\bMapped\[[^\]\n]*\bbytes\b"
)

# A word each match of `_BINARY_COLUMN` holds: a text lacking them all stores no bytes.
BINARY_WORDS = ("LargeBinary", "PickleType", "BLOB", "BINARY", "bytes")


def stores_bytes(source: str) -> bool:
    """Whether SQLAlchemy model code in `source` declares a column that holds bytes."""
    return "sqlalchemy" in source and _BINARY_COLUMN.search(source) is not None


# SQLAlchemy's asyncio extension runs on greenlet, which SQLAlchemy 2.1 no longer installs by itself
# (only its `asyncio` extra does, and the async drivers' extras through it): without it the
# migrated application fails at import ("The SQLAlchemy asyncio module requires ... greenlet").
GREENLET_FOLLOW_UP = (
    "add `sqlalchemy[asyncio]` to the dependencies (or `greenlet`): SQLAlchemy's asyncio extension needs "
    "greenlet, which SQLAlchemy 2.1 no longer installs by itself; without it, importing the migrated "
    "application fails"
)
_ASYNCIO_EXTRAS = "asyncio|aiosqlite|aiomysql|asyncmy|aioodbc|postgresql[-_]asyncpg"
_DECLARES_GREENLET = re.compile(
    rf"\bgreenlet\b|sqlalchemy\s*\[[^\]]*\b(?:{_ASYNCIO_EXTRAS})\b[^\]]*\]", re.IGNORECASE
)
# Where a project declares what it installs (read at its root).
DEPENDENCY_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "requirements*.txt", "requirements/*.txt")


def declares_greenlet(texts: list[str]) -> bool:
    """Whether dependency declarations name greenlet, or SQLAlchemy with an extra that brings it."""
    return any(_DECLARES_GREENLET.search(text) for text in texts)
