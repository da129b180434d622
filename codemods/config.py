"""`[tool.async-migrate]` configuration: read, validated, with documented defaults."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """Bad configuration; the message names the key."""


@dataclass(frozen=True)
class Config:
    # Extra names that mean "a synchronous Session", as absolute references.
    session_types: frozenset[str] = frozenset()
    # Annotated aliases (`core.dependencies.session_dependency`) that inject a Session.
    session_aliases: frozenset[str] = frozenset()
    # Dependency functions that yield a synchronous Session.
    session_dependencies: frozenset[str] = frozenset()
    # Callables returning a new synchronous Session (`db.engine.SessionLocal`).
    sessionmakers: frozenset[str] = frozenset()
    # Classes whose instances register routes, besides APIRouter and FastAPI.
    router_types: frozenset[str] = frozenset()
    # Decorators known to pass the function through unchanged (or to work with `def`).
    safe_decorators: frozenset[str] = frozenset()
    # Globs of files never read or written.
    exclude: tuple[str, ...] = ()
    # Subsystem name -> globs of router modules.
    subsystems: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Names phase two gives to the async stack it generates.
    async_engine: str = "async_engine"
    async_sessionmaker: str = "async_database_sessionmaker"
    async_dependency: str = "get_async_db_session"
    async_alias: str = "async_session_dependency"
    async_engine_factory: str | None = None
    twin_suffix: str = "_async"
    # Third-party synchronous call -> its async counterpart.
    call_mappings: dict[str, str] = field(default_factory=dict)


_SETS = {"session_types", "session_aliases", "session_dependencies", "sessionmakers", "router_types", "safe_decorators"}
_STRINGS = {"async_engine", "async_sessionmaker", "async_dependency", "async_alias", "twin_suffix"}


def load(root: Path, explicit: Path | None = None) -> Config:
    """The target's configuration: `--config FILE`, else `PATH/pyproject.toml`, else defaults."""
    path = explicit if explicit is not None else root / "pyproject.toml"
    if explicit is None and not path.is_file():
        return Config()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    section = document.get("tool", {}).get("async-migrate")
    if explicit is not None and section is None:
        section = document  # a dedicated file may hold the keys at top level
    return parse(section or {}, str(path))


def parse(section: dict[str, Any], origin: str = "configuration") -> Config:
    known = {f.name.replace("_", "-"): f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    for key, value in section.items():
        name = known.get(key) or (key if key in known.values() else None)
        if name is None:
            raise ConfigError(f"{origin}: unknown key [tool.async-migrate] {key!r}")
        where = f"{origin}: [tool.async-migrate] {key}"
        if name in _SETS:
            values[name] = frozenset(_strings(value, where))
        elif name == "exclude":
            values[name] = tuple(_strings(value, where))
        elif name in _STRINGS or name == "async_engine_factory":
            if not isinstance(value, str) or not value.isidentifier() and name != "async_engine_factory":
                raise ConfigError(f"{where}: expected an identifier, got {value!r}")
            values[name] = value
        elif name == "subsystems":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table of name = [globs]")
            values[name] = {
                str(sub): tuple(_strings(globs, f"{where}.{sub}")) for sub, globs in value.items()
            }
        elif name == "call_mappings":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ConfigError(f"{where}: expected a table of \"sync.ref\" = \"async.ref\"")
            values[name] = dict(value)
    return Config(**values)


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return value
