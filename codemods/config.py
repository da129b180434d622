"""`[tool.async-migrate]` configuration: found, read and validated key by key, with documented defaults."""

from __future__ import annotations

import difflib
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomllib

TABLE = "[tool.async-migrate]"


class ConfigError(Exception):
    """Bad configuration; the message names the file, the key, the value and what it expects."""


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
    # Decorators known to await the coroutine function they wrap (tenacity's `retry`): phase two
    # may make what they decorate `async def`. Working with `def` says nothing of that.
    async_safe_decorators: frozenset[str] = frozenset()
    # Globs of files never reported or written (the analysis still reads them).
    exclude: tuple[str, ...] = ()
    # Import roots, relative to the configuration file's folder (as ruff's `src`): the
    # folders absolute imports start from.
    src: tuple[str, ...] = ()
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
    # The service's test command, run by `verify` from PATH (default `python -m pytest`).
    test_command: str | None = None
    # The keys the file sets (their attribute names), as against the defaults: a name the user
    # wrote says more than one phase two would generate; not a key.
    written: frozenset[str] = frozenset()
    # The file the values came from (None: defaults); not a key.
    source: Path | None = field(default=None, compare=False)


# ------------------------------------------------------------------ finding the file


def discover(root: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above root holding a `[tool.async-migrate]` table.

    Like ruff, a `pyproject.toml` without the table is passed over (a service's own
    packaging file); the search stops at the top of the repository (the folder holding
    `.git`) or of the file system. None: the defaults apply.
    """
    for folder in (root, *root.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                document = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                # The nearest file is broken: report it rather than silently skip to a parent.
                return candidate
            if isinstance(document.get("tool"), dict) and "async-migrate" in document["tool"]:
                return candidate
        if (folder / ".git").exists():
            return None
    return None


def load(root: Path, explicit: Path | None = None) -> Config:
    """The target's configuration: `--config FILE`, else the nearest `pyproject.toml` at or
    above root with a `[tool.async-migrate]` table (see `discover`), else the defaults.

    Raises ConfigError for a missing or unreadable file, invalid TOML, an unknown key or a
    value of the wrong type or form.
    """
    path = explicit if explicit is not None else discover(root)
    if path is None:
        return Config()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a configuration file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    tool = document.get("tool", {})
    section = tool.get("async-migrate") if isinstance(tool, dict) else None
    if explicit is not None and section is None:
        section = document  # a dedicated file may hold the keys at top level
    if section is not None and not isinstance(section, dict):
        raise ConfigError(f"{path}: {TABLE} must be a table, got {_show(section)}")
    config = replace(parse(section or {}, str(path)), source=path)
    # A src folder that is not there would be ignored in silence, and the import roots then
    # not found from the imports either: the run reads the project from the wrong place.
    missing = [folder for folder in config.src if not (path.parent / folder).is_dir()]
    if missing:
        raise ConfigError(
            f"{path}: {TABLE} src: expected folders relative to this file's folder {path.parent}, "
            f"got {_show(list(config.src))}: {', '.join(_show(f) for f in missing)} "
            f"{'is not one' if len(missing) == 1 else 'are not'}"
        )
    return config


# ------------------------------------------------------------------ validating the values

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def _show(value: Any) -> str:
    """A value as TOML writes it, for messages (`"migrations/**"`, `["a", 1]`, `true`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(_show, value)) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _is_dotted(value: Any) -> bool:
    return isinstance(value, str) and bool(_DOTTED.match(value)) and not any(
        keyword.iskeyword(part) for part in value.split(".")
    )


def _is_identifier(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value)


def _is_glob(value: Any) -> bool:
    return isinstance(value, str) and value.strip("/ ") != ""


def _list_of(check: Callable[[Any], bool], what: str, example: str) -> Callable[[Any, str], Any]:
    def validate(value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list of {what} (like [{example}]), got {_show(value)}")
        bad = [item for item in value if not check(item)]
        if bad:
            raise ConfigError(
                f"{where}: expected a list of {what} (like [{example}]), got {_show(value)}: "
                f"{_show(bad[0])} is not one"
            )
        return tuple(value)

    return validate


def _one(check: Callable[[Any], bool], what: str, example: str) -> Callable[[Any, str], Any]:
    def validate(value: Any, where: str) -> str:
        if not check(value):
            raise ConfigError(f"{where}: expected {what} (like {example}), got {_show(value)}")
        return value

    return validate


_dotted_names = _list_of(_is_dotted, "dotted names", '"app.db.TenantSession"')
_globs = _list_of(_is_glob, "glob strings", '"migrations/**"')
# a subsystem's globs name the router modules it moves, not what to leave out
_router_globs = _list_of(_is_glob, "glob strings of router modules", '"api/items.py"')
_identifier = _one(_is_identifier, "a Python identifier", '"async_engine"')


def _frozen(validate: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda value, where: frozenset(validate(value, where))


def _suffix(value: Any, where: str) -> str:
    if not (isinstance(value, str) and value and ("x" + value).isidentifier()):
        raise ConfigError(
            f"{where}: expected an identifier suffix (like \"_async\"; a name plus it must be an "
            f"identifier), got {_show(value)}"
        )
    return value


def _subsystems(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: expected a table of name = [globs] (like catalogue = [\"api/books.py\"]), "
            f"got {_show(value)}"
        )
    out = {}
    for name, globs in value.items():
        validated = _router_globs(globs, f"{where}.{name}")
        if not validated:
            raise ConfigError(f"{where}.{name}: expected at least one glob of router modules, got []")
        out[str(name)] = validated
    return out


def _call_mappings(value: Any, where: str) -> dict[str, str]:
    expected = 'expected a table of "sync.ref" = "async.ref" (like { "app.pagination.paginate" = ' \
        '"app.pagination.apaginate" })'
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {expected}, got {_show(value)}")
    for sync, target in value.items():
        if not _is_dotted(sync) or not _is_dotted(target):
            raise ConfigError(f"{where}: {expected}, got {_show(sync)} = {_show(target)}")
    return dict(value)


# One validator per key: the value as read from TOML -> the value the Config holds.
VALIDATORS: dict[str, Callable[[Any, str], Any]] = {
    "session_types": _frozen(_dotted_names),
    "session_aliases": _frozen(_dotted_names),
    "session_dependencies": _frozen(_dotted_names),
    "sessionmakers": _frozen(_dotted_names),
    "router_types": _frozen(_dotted_names),
    "safe_decorators": _frozen(_dotted_names),
    "async_safe_decorators": _frozen(_dotted_names),
    "exclude": _globs,
    "src": _list_of(_is_glob, "folders relative to the configuration file", '"backend"'),
    "subsystems": _subsystems,
    "async_engine": _identifier,
    "async_sessionmaker": _identifier,
    "async_dependency": _identifier,
    "async_alias": _identifier,
    "async_engine_factory": _one(_is_dotted, "a dotted name", '"app.db.make_async_engine"'),
    "twin_suffix": _suffix,
    "call_mappings": _call_mappings,
    "test_command": _one(
        lambda value: isinstance(value, str) and bool(value.strip()), "a command line", '"python -m pytest -q"'
    ),
}


def keys() -> list[str]:
    """The configuration keys as written in TOML (`session-types`), in declaration order."""
    return [f.name.replace("_", "-") for f in fields(Config) if f.name not in ("source", "written")]


def parse(section: dict[str, Any], origin: str = "configuration") -> Config:
    """Validated values of a `[tool.async-migrate]` table; ConfigError names every bad key,
    one per line, so one run shows all there is to fix."""
    known = {key: key.replace("-", "_") for key in keys()}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in section.items():
        name = known.get(key) or (key if key in known.values() else None)
        if name is None:
            close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known keys: {', '.join(known)})"
            problems.append(f"{origin}: unknown key {TABLE} {key!r}{hint}")
            continue
        try:
            values[name] = VALIDATORS[name](value, f"{origin}: {TABLE} {key}")
        except ConfigError as error:
            problems.append(str(error))
    if problems:
        raise ConfigError("\n".join(problems))
    return Config(**values, written=frozenset(values))
