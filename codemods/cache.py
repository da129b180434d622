"""The warm cache: per-file facts and rewrites, reused while a file's bytes are unchanged.

Like ruff's `.ruff_cache`, it lives in a dot folder under the target's root
(`ROOT/.async_migrate_cache`, with a `.gitignore` of `*`), or under the folder
`ASYNC_MIGRATE_CACHE_DIR` names (one subfolder per root); what each store holds and how a
concurrent or crafted file is survived: `Cache`.

Over 500 lines: the four stores share one namespace, one atomic write and one guarded load,
and their keys are read back by each other (an analysis key names facts identities).
"""

from __future__ import annotations

import dataclasses
import enum
import errno
import hashlib
import io
import json
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path, PurePath
from typing import Any

FOLDER = ".async_migrate_cache"
ENV_DIR = "ASYNC_MIGRATE_CACHE_DIR"
ENV_OFF = "ASYNC_MIGRATE_NO_CACHE"
_MAGIC = b"async-migrate cache 2\n"  # 2: every entry sealed (`_seal`)
_FACTS = "facts"
# The facts table is kept in this many files by path (`facts.0` ... `facts.f`): a run that parses
# a few files reads and rewrites the few parts holding them, not the facts of every module.
_FACTS_PARTS = 16
_REWRITES = "rewrites"
_IDS = "facts-ids"
_ANALYSIS = "analysis"
_LAST_RUN = "last-run.json"
_KEEP_NAMESPACES = 6  # older namespaces (other versions or configurations) are removed

# How the pre-pass read a file (see workers.Worker.collect).
SKIPPED = "skipped"  # the text pre-filter found nothing of interest
PARSED = "parsed"


class Uncacheable(Exception):
    """A value without a canonical form (so no trustworthy key)."""


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_PLAIN = frozenset({type(None), bool, int, float, str, bytes})


def canonical(value: Any) -> Any:
    """A deterministic, hashable form of plain data and dataclasses; Uncacheable for anything else.

    Sets and dicts are ordered, so equal values give equal forms in every process
    (string hashing is randomised per process). Dataclass fields with `compare=False`
    (provenance such as a configuration's source file) are left out.
    """
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, enum.Enum):
        return (type(value).__qualname__, canonical(value.value))
    if isinstance(value, PurePath):
        return ("path", str(value))
    if isinstance(value, (list, tuple)):
        if all(type(item) in _PLAIN for item in value):  # the common leaf: a key's rows of names
            return tuple(value)
        return tuple(canonical(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted((canonical(item) for item in value), key=repr)))
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((canonical(k), canonical(v)) for k, v in value.items()), key=repr)))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            f"{type(value).__module__}.{type(value).__qualname__}",
            tuple(
                (f.name, canonical(getattr(value, f.name)))
                for f in dataclasses.fields(value)
                if f.compare
            ),
        )
    raise Uncacheable(type(value).__name__)


def key_of(value: Any) -> str:
    return digest(repr(canonical(value)).encode("utf-8", "surrogatepass"))


@cache
def tool_fingerprint() -> str:
    """The tool's version, a digest of its own analysis code, and the Python and libcst versions.

    The code digest makes an editable install's cache stale on every change to the
    code, not only on a version bump.
    """
    from importlib import util

    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(f"{sys.version}\n{sys.implementation.cache_tag}\n".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        hasher.update(path.relative_to(package).as_posix().encode())
        hasher.update(path.read_bytes())
    spec = util.find_spec("libcst")
    if spec is not None and spec.origin is not None:
        version_file = Path(spec.origin).parent / "_version.py"
        try:
            hasher.update(version_file.read_bytes())
        except OSError:
            hasher.update(str(Path(spec.origin).stat().st_mtime_ns).encode())
    return hasher.hexdigest()


def folder_for(root: Path) -> Path:
    """Where the cache of the application at `root` lives."""
    root = root.resolve()
    elsewhere = os.environ.get(ENV_DIR)
    if elsewhere:
        return Path(elsewhere) / f"{root.name}-{digest(str(root).encode())[:12]}"
    return root / FOLDER


class NotOurs(Exception):
    """A folder where the cache would be that the tool did not make (no tag of its own in it)."""


_TAG = (b"Signature: 8a477f597d28d172789f06886806bc55\n"
        b"# This file is a cache directory tag created by async-migrate.\n")


def made_by_the_tool(folder: Path) -> bool:
    """Whether `folder` holds the CACHEDIR.TAG the cache writes (the first thing it writes there)."""
    try:
        with open(folder / "CACHEDIR.TAG", "rb") as stream:
            return stream.read(len(_TAG) + 1) == _TAG
    except OSError:
        return False


def clean(root: Path) -> Path | None:
    """Remove the cache of the application at `root`; the folder removed, or None when there was none.

    Raises NotOurs, removing nothing, when the folder (or the folder a symbolic link there leads
    to) lacks the tool's CACHEDIR.TAG: a user's own folder of that name is never deleted.
    Raises OSError when it cannot be removed.
    """
    folder = folder_for(root)
    if not folder.is_symlink() and not folder.exists():
        return None
    if not folder.is_dir() or not made_by_the_tool(folder):
        raise NotOurs(
            f"{folder} was not made by async-migrate (it holds no CACHEDIR.TAG of its own): "
            "nothing was removed; if it is a cache, remove it yourself"
        )
    if folder.is_symlink():
        folder.unlink()
        return folder
    shutil.rmtree(folder)
    return folder


def disabled_by_environment() -> bool:
    return os.environ.get(ENV_OFF, "").strip().lower() not in ("", "0", "false", "no")


class _Unpickler(pickle.Unpickler):
    """Builds plain data and the fact classes only: a crafted cache file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        from async_migrate.codemods import facts

        if module == "builtins" and name in ("set", "frozenset"):
            return set if name == "set" else frozenset
        if module == facts.__name__:
            found = getattr(facts, name, None)
            if isinstance(found, type) and found.__module__ == facts.__name__:
                return found
            if found is facts.NO_ITEMS or found is facts._rebuilt:
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the cache")


def _load(data: bytes) -> Any:
    return _Unpickler(io.BytesIO(data)).load()


class Cache:
    """One run's view of the cache of one application.

    `parsed` lists the files this run parsed, and `reused` counts the files whose
    facts came from the cache.

    Everything sits in a namespace keyed by the tool (its version and the digest of its own
    source, the Python and libcst versions) and by the configuration, so nothing is trusted
    across versions or configurations. Within a namespace:

    - `facts.0` ... `facts.f`: per path, the blake2b digest of the bytes the facts were read
      from, and the facts (pickled) for each way the pre-pass reads a file: skipped by the
      text pre-filter, with the lines of interest only, or with every line; each path in one
      of the parts, by a digest of the path.
    - `rewrites`: per path and rewrite, the digest of the bytes, a digest of the plan,
      and the new bytes and diff (and the new module's facts, for phase two's re-check).
    - `facts-ids`: per path and way of reading, an identity of the facts: kept across an edit
      that leaves the facts exactly as they were (a comment, a blank line at the end), new
      otherwise. Together they name what the cross-module analysis read.
    - `analysis`: per command, the last analysis (decisions, findings) as JSON, under a key
      made of the identities of every module's facts and the options the analysis reads;
      `codemods.run.analysis_key` makes the key. Beside it, `KIND:run`: what the last run of the
      command read to make it, so a run reading the same takes it whole (`codemods.warm_run`).
    - `last-run.json`: which files the last run parsed (`parsed`), how many files' facts it
      took from the cache instead (`reused`, a whole run taken from the last one included),
      and whether its analysis was reused (for users and tests asking why a run was slow).

    Files are written through a temporary file and a rename, so a concurrent run reads
    either the old or the new file; what it misses it parses again. A cache that cannot
    be read, is truncated or was written by another tool version is ignored and
    rewritten; a folder that cannot be written to is left alone. Every entry of every table
    is stored with a digest of its key and contents (`_seal`), checked when the table is read:
    an entry damaged in place (a flipped byte still unpickles, and a rewrite's new bytes would
    be written into the user's file as they are) is dropped as a miss, recomputed, and the
    table rewritten. Loading uses an
    unpickler that builds nothing but plain data and the classes of `codemods.facts`,
    so a crafted cache file cannot run code.
    """

    def __init__(self, root: Path, namespace: str, folder: Path | None) -> None:
        self.root = root
        self.namespace = namespace
        self.folder = folder  # None: remember nothing across runs
        self.seen: dict[str, str] = {}  # path -> digest of the bytes this run's facts describe
        self.parsed: list[str] = []
        self.reused = 0  # files whose parsed facts came from the cache (`warm_run.reuse` adds its own)
        self._facts: dict[int, dict[str, tuple[str, dict[str, bytes]]]] = {}  # the parts read, by number
        self._released: dict[int, frozenset[str]] = {}  # parts written and let go: the paths each holds
        self._rewrites: dict[tuple[str, str], tuple[str, str, bytes | None, str, bytes | None]] | None = None
        self._ids: dict[str, tuple[str, dict[str, str]]] | None = None
        self._analysis: dict[str, tuple[str, bytes]] | None = None
        # path -> identity of the facts this run uses (`facts-ids` in the class docstring)
        self.facts_ids: dict[str, str] = {}
        self.analysed: dict[str, str] = {}  # kind -> "reused" or "computed", for last-run.json
        # Every file under the root was looked up (a full pre-pass): the entries of files gone
        # since are dropped from every part of the facts table, read or not.
        self.complete = False
        self._dirty: set[str] = set()

    @classmethod
    def open(cls, root: Path, config: Any) -> Cache:
        try:
            namespace = digest(f"{tool_fingerprint()}:{key_of(config)}".encode())[:20]
        except Uncacheable:
            return cls(root, "", None)
        return cls(root, namespace, folder_for(root) / namespace)

    # ------------------------------------------------------------------ facts

    def facts_for(self, path: str, data: bytes, variant: str, name: str) -> tuple[str, Any] | None:
        """The cached facts of path as read in `variant` and named `name` (the module name the
        import roots give it): (digest, facts), facts None when skipped; None when the bytes
        changed, or that variant or name was never stored."""
        file_digest = digest(data)
        self.seen[path] = file_digest
        entry = self._facts_table(path).get(path)
        if entry is None or entry[0] != file_digest or variant not in entry[1]:
            return None
        blob = entry[1][variant]
        if variant == SKIPPED:
            return file_digest, None
        try:
            found = _load(blob)
        except Exception:  # a damaged entry is a miss, and is replaced
            return None
        from async_migrate.codemods import facts

        if not isinstance(found, facts.Module) or found.path != path or found.name != name:
            return None
        self.reused += 1
        self.facts_ids[path] = self._id_of(path, file_digest, variant, found.name)
        return file_digest, found

    def remember_facts(self, path: str, file_digest: str, variant: str, blob: bytes, module: Any = None) -> None:
        """Store the facts read from path's bytes (`module`: the same facts, unpickled; with it,
        facts exactly equal to those stored for the file's previous bytes keep their identity)."""
        table = self._facts_table(path)
        entry = table.get(path)
        ids = self._ids_table()
        known = ids.get(path)
        stored_ids = dict(known[1]) if known is not None and known[0] == file_digest else {}
        # The module name is part of a new identity: the same bytes read under other import roots
        # are other facts, and an identity stands for one set of facts (`codemods.warm_run`).
        identity = f"{file_digest}/{variant}" + (f"/{module.name}" if module is not None else "")
        if module is not None and entry is not None and entry[0] != file_digest and variant in entry[1]:
            if _same_facts(entry[1][variant], blob):
                identity = self._id_of(path, entry[0], variant, module.name)
        stored_ids[variant] = identity
        if module is not None:
            self.facts_ids[path] = identity
        ids[path] = (file_digest, stored_ids)
        stored = dict(entry[1]) if entry is not None and entry[0] == file_digest else {}
        stored[variant] = blob
        table[path] = (file_digest, stored)
        self.seen[path] = file_digest
        self._dirty.update((_facts_part(path), _IDS))

    def identity(self, path: str, file_digest: str, variant: str) -> str | None:
        """The identity of the facts stored for path's bytes read in `variant`, from the identity
        table alone (nothing unpickled); None when that table holds none for these bytes."""
        known = self._ids_table().get(path)
        if known is None or known[0] != file_digest:
            return None
        return known[1].get(variant)

    def _id_of(self, path: str, file_digest: str, variant: str, name: str) -> str:
        return self.identity(path, file_digest, variant) or f"{file_digest}/{variant}/{name}"

    def _ids_table(self) -> dict[str, tuple[str, dict[str, str]]]:
        if self._ids is None:
            self._ids = self._read(_IDS, _valid_ids) or {}
        return self._ids

    # ------------------------------------------------------------------ analysis

    def analysis(self, kind: str, key: str, note: bool = True) -> bytes | None:
        """The analysis stored for `kind` (a command) under exactly this key, or None; `note`:
        said reused in last-run.json."""
        entry = self._analysis_table().get(kind)
        if entry is None or entry[0] != key:
            return None
        if note:
            self.analysed[kind] = "reused"
        return entry[1]

    def remember_analysis(self, kind: str, key: str, data: bytes) -> None:
        self._analysis_table()[kind] = (key, data)
        self.analysed[kind] = "computed"
        self._dirty.add(_ANALYSIS)

    def _analysis_table(self) -> dict[str, tuple[str, bytes]]:
        if self._analysis is None:
            self._analysis = self._read(_ANALYSIS, _valid_analysis) or {}
        return self._analysis

    def _facts_table(self, path: str) -> dict[str, tuple[str, dict[str, bytes]]]:
        """The part of the facts table that holds path (read on first use)."""
        number = _part_number(path)
        table = self._facts.get(number)
        if table is None:
            table = self._facts[number] = self._read(f"{_FACTS}.{number:x}", _valid_facts) or {}
        return table

    # ------------------------------------------------------------------ rewrites

    def rewritten(
        self, path: str, rewrite: Callable[..., Any], plan: Any, with_facts: bool = False
    ) -> tuple[bytes | None, str, Any] | None:
        """(new bytes or None when unchanged, diff, facts of the new module or None) of a rewrite
        of path's bytes as this run read them, under the same plan; None when not cached (or,
        `with_facts`, cached without the new module's facts)."""
        file_digest = self.seen.get(path)
        if file_digest is None:
            return None
        try:
            plan_key = key_of(plan)
        except Uncacheable:
            return None
        entry = self._rewrites_table().get((path, _name(rewrite)))
        if entry is None or entry[0] != file_digest or entry[1] != plan_key:
            return None
        new_facts = None
        if with_facts and entry[2] is not None:
            if entry[4] is None:
                return None
            try:
                new_facts = _load(entry[4])
            except Exception:  # a damaged entry is a miss, and is replaced
                return None
            from async_migrate.codemods import facts

            if not isinstance(new_facts, facts.Module):
                return None
        return entry[2], entry[3], new_facts

    def remember_rewrite(
        self, path: str, rewrite: Callable[..., Any], plan: Any, file_digest: str, after: bytes | None, diff: str,
        new_facts: Any = None,
    ) -> None:
        try:
            plan_key = key_of(plan)
        except Uncacheable:
            return
        blob = pickle.dumps(new_facts, protocol=pickle.HIGHEST_PROTOCOL) if new_facts is not None else None
        self._rewrites_table()[(path, _name(rewrite))] = (file_digest, plan_key, after, diff, blob)
        self._dirty.add(_REWRITES)

    def _rewrites_table(self) -> dict[tuple[str, str], tuple[str, str, bytes | None, str, bytes | None]]:
        if self._rewrites is None:
            self._rewrites = self._read(_REWRITES, _valid_rewrites) or {}
        return self._rewrites

    # ------------------------------------------------------------------ storage

    def _read(self, name: str, valid: Callable[[Any, Any], bool]) -> Any:
        """The table stored as `name`, each entry as `_write` was given it: those whose shape
        `valid(key, entry)` refuses or whose seal does not match are left out (and the table is
        rewritten without them); None when the file is missing or unreadable as a whole."""
        if self.folder is None:
            return None
        try:
            data = (self.folder / name).read_bytes()
        except OSError:
            return None
        if not data.startswith(_MAGIC):
            self._dirty.add(name)
            return None
        try:
            sealed = _load(data[len(_MAGIC) :])
        except Exception:  # truncated or damaged: start afresh and rewrite it
            self._dirty.add(name)
            return None
        if not isinstance(sealed, dict):
            self._dirty.add(name)
            return None
        table = {}
        for key, stored in sealed.items():
            if type(stored) is tuple and len(stored) > 1 and type(stored[-1]) is str:
                entry = stored[:-1]
                if valid(key, entry) and stored[-1] == _seal(key, entry):
                    table[key] = entry
        if len(table) != len(sealed):
            self._dirty.add(name)
        return table

    def save(self) -> None:
        """Write what changed; a folder that cannot be written to is left as it is. A run that
        looked up no file (no Python files under PATH: nothing analysed) creates no cache."""
        if self.folder is None or (not self.seen and not self.folder.parent.exists()):
            return
        try:
            self._prepare_folder()
            self._save_facts()
            if self._analysis is not None and _ANALYSIS in self._dirty:
                self._write(_ANALYSIS, self._analysis)
            if self._rewrites is not None and _REWRITES in self._dirty:
                self._write(_REWRITES, {k: v for k, v in self._rewrites.items() if k[0] in self.seen or (self.root / k[0]).exists()})
            summary = {"parsed": sorted(self.parsed), "reused": self.reused, "analysis": self.analysed}
            _write_atomic(self.folder / _LAST_RUN, json.dumps(summary, indent=1).encode())
        except OSError:
            return

    def _save_facts(self) -> None:
        """Write the parts of the facts table that changed, and the identities."""
        assert self.folder is not None
        if self.complete:
            for number in range(_FACTS_PARTS):
                if number not in self._facts and number not in self._released \
                        and (self.folder / f"{_FACTS}.{number:x}").exists():
                    self._facts[number] = self._read(f"{_FACTS}.{number:x}", _valid_facts) or {}
        for number, table in self._facts.items():
            name = f"{_FACTS}.{number:x}"
            if self._prune_facts(table) or name in self._dirty:
                self._write(name, table)
        if self._ids is not None and (_IDS in self._dirty or self._facts):
            # An identity is kept while its part of the facts table holds the path (a part not
            # read this run is as the last run left it).
            kept = {
                p: v for p, v in self._ids.items()
                if (part := self._facts.get(_part_number(p), self._released.get(_part_number(p)))) is None
                or p in part
            }
            if _IDS in self._dirty or len(kept) != len(self._ids):
                self._write(_IDS, kept)

    def release_facts(self) -> None:
        """Write the facts table now and let go of it, once every file is collected: the run
        reads no more of it, and the pickled facts of every module (tens of megabytes on a large
        project) would stay in memory through the whole analysis. A part asked for again is read
        back from its file."""
        if self.folder is None or not self._facts:
            return
        try:
            self._prepare_folder()
            self._save_facts()
        except OSError:
            return  # kept, and written (or not) by `save` as before
        for number, table in self._facts.items():
            self._released[number] = frozenset(table)  # the paths it holds, for the identities kept
        self._facts.clear()
        self._dirty.difference_update([_IDS, *(f"{_FACTS}.{number:x}" for number in range(_FACTS_PARTS))])

    def _prune_facts(self, table: dict[str, tuple[str, dict[str, bytes]]]) -> bool:
        """Drop a part's entries of files deleted or renamed since; whether there were any."""
        gone = [p for p in table if p not in self.seen and not (self.root / p).is_file()]
        for path in gone:
            del table[path]
        return bool(gone)

    def _prepare_folder(self) -> None:
        assert self.folder is not None
        top = self.folder.parent
        top.mkdir(parents=True, exist_ok=True)
        # A folder of that name the tool did not make is the user's: writing into it, and removing
        # its subfolders as stale namespaces below, would lose their files. The tag goes first, so
        # a folder the tool made holds it from then on.
        if not made_by_the_tool(top):
            if any(top.iterdir()):
                raise NotADirectoryError(errno.EEXIST, "not a folder async-migrate made", str(top))
            _write_atomic(top / "CACHEDIR.TAG", _TAG)
        ignore = top / ".gitignore"
        if not ignore.exists():
            _write_atomic(ignore, b"# Created by async-migrate: the cache is never committed.\n*\n")
        self.folder.mkdir(exist_ok=True)
        others = sorted(
            (p for p in top.iterdir() if p.is_dir() and not p.is_symlink() and p != self.folder),
            key=lambda p: p.stat().st_mtime,
        )
        for stale in others[: max(0, len(others) - (_KEEP_NAMESPACES - 1))]:
            shutil.rmtree(stale, ignore_errors=True)

    def _write(self, name: str, table: dict[Any, tuple[Any, ...]]) -> None:
        assert self.folder is not None
        sealed = {key: (*entry, _seal(key, entry)) for key, entry in table.items()}
        _write_atomic(self.folder / name, _MAGIC + pickle.dumps(sealed, protocol=pickle.HIGHEST_PROTOCOL))


def _part_number(path: str) -> int:
    return hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=1).digest()[0] % _FACTS_PARTS


def _facts_part(path: str) -> str:
    """The file of the facts table that holds path."""
    return f"{_FACTS}.{_part_number(path):x}"


def _name(rewrite: Callable[..., Any]) -> str:
    return f"{rewrite.__module__}.{rewrite.__qualname__}"


@cache
def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _write_atomic(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, _file_mode())  # mkstemp's 0600 would hide the cache from the owner's group
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _valid_per_path(values: type) -> Callable[[Any, Any], bool]:
    """A check of an entry path: (digest, {variant: value}) whose values are of type `values`."""

    def valid(key: Any, entry: Any) -> bool:
        return (
            type(key) is str
            and len(entry) == 2
            and type(entry[0]) is str
            and type(entry[1]) is dict
            and all(type(k) is str and type(v) is values for k, v in entry[1].items())
        )

    return valid


_valid_facts = _valid_per_path(bytes)  # path -> (file digest, {variant: pickled facts})
_valid_ids = _valid_per_path(str)  # path -> (file digest, {variant: facts identity})


def _valid_analysis(key: Any, entry: Any) -> bool:
    """kind -> (analysis key, the analysis as bytes)"""
    return type(key) is str and len(entry) == 2 and type(entry[0]) is str and type(entry[1]) is bytes


def _seal(key: Any, entry: tuple[Any, ...]) -> str:
    """The digest an entry is stored with: of its key and every field (strings, bytes, None, and
    tuples and dicts of those), each field's kind and length fed before it, so no two entries
    share a feed. One blake2b per entry, over bytes the run holds anyway."""
    hasher = hashlib.blake2b(digest_size=16)
    _feed(hasher, key)
    _feed(hasher, entry)
    return hasher.hexdigest()


def _feed(hasher: Any, value: Any) -> None:
    if value is None:
        hasher.update(b"n")
    elif type(value) is bytes:
        hasher.update(b"b%d:" % len(value))
        hasher.update(value)
    elif type(value) is str:
        data = value.encode("utf-8", "surrogatepass")
        hasher.update(b"s%d:" % len(data))
        hasher.update(data)
    elif type(value) is tuple:
        hasher.update(b"t%d:" % len(value))
        for item in value:
            _feed(hasher, item)
    elif type(value) is dict:
        hasher.update(b"d%d:" % len(value))
        for item in sorted(value):
            _feed(hasher, item)
            _feed(hasher, value[item])
    else:
        raise TypeError(f"a cache entry holds a {type(value).__name__}")


def _same_facts(before: bytes, after: bytes) -> bool:
    """Whether the facts pickled as `before` are exactly those pickled as `after`.

    Both are compared as loaded: loading gives each empty field its one shared instance (a tuple
    where the collector made a list), so facts loaded from the cache never equal, field by field,
    the same facts fresh from a worker. Bytes differ where a value pickles in an order of the
    process (a set), and every warm run after an edit then redid the whole analysis."""
    if before == after:
        return True
    try:
        return _same(_load(before), _load(after))
    except Exception:  # a damaged entry: not the same
        return False


def _same(a: Any, b: Any) -> bool:
    """Equal, and in the same order wherever the analysis may iterate (dict keys too)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return bool(a == b)


def _valid_rewrites(key: Any, entry: Any) -> bool:
    """(path, rewrite) -> (file digest, plan key, new bytes or None, diff, new facts pickled or None)"""
    return (
        type(key) is tuple
        and len(key) == 2
        and all(type(k) is str for k in key)
        and len(entry) == 5
        and type(entry[0]) is str
        and type(entry[1]) is str
        and (entry[2] is None or type(entry[2]) is bytes)
        and type(entry[3]) is str
        and (entry[4] is None or type(entry[4]) is bytes)
    )
