"""Finding, reading and writing the target's Python files, byte-exact.

Encoding (PEP 263 cookies and the UTF-8 BOM) and line endings are kept: a file
is decoded with the encoding Python itself would use and encoded back with the
same one, and libcst preserves the newlines it parsed.
"""

from __future__ import annotations

import ast
import errno
import fnmatch
import io
import os
import re
import stat
import tempfile
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules",
     ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "site-packages"}
)


class SourceError(Exception):
    """A file that cannot be read or decoded; the message names the cause."""


NO_ROUTES = (
    "no FastAPI routes under PATH: is PATH the application root, and are the routers "
    "`APIRouter`/`FastAPI` instances (or listed under router-types in [tool.async-migrate])?"
)


def nothing_selected(files: int) -> list[str]:
    """Every command's warning when no file was read: the exit status is 2 (a usage error), since a
    clean result would prove nothing and a typo in `--only` must not pass as "nothing to do"."""
    if files:
        return []
    return ["no Python files under PATH (or none that --only/--exclude select): nothing was checked"]


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Glob match on a root-relative posix path; `dir/**` and plain names work as users expect."""
    for pattern in patterns:
        pattern = pattern.strip("/")
        if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + "/*"):
            return True
        if pattern.endswith("/**") and (path + "/").startswith(pattern[:-2]):
            return True
        if "/" not in pattern and fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern):
            return True
        if "/" not in pattern and pattern in path.split("/")[:-1]:
            return True
    return False


def discover(root: Path, only: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[str]:
    """Python files under root as sorted posix paths relative to it.

    Symbolic links are not followed: one leading out of root is not ours, and what one inside
    root leads to is found at its own path. Read through the link too, it would be reported and
    rewritten twice (the second write finding the file changed), and a diff through a link is
    one `git apply` refuses (git stores the link, not the file).
    """
    only, exclude = list(only), list(exclude)
    root = root.resolve()
    found: list[str] = []
    seen_dirs: set[tuple[int, int]] = set()
    for directory, dirnames, filenames in os.walk(root, followlinks=True):
        current = Path(directory)
        try:
            info = current.stat()
        except OSError:
            dirnames[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen_dirs or not _inside(current, root):
            dirnames[:] = []
            continue
        seen_dirs.add((info.st_dev, info.st_ino))
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_DIRS and not d.endswith(".egg-info") and not (current / d).is_symlink()
        )
        for filename in filenames:
            if not filename.endswith(".py"):
                continue
            full = current / filename
            if full.is_symlink():
                continue
            if not full.is_file():  # a named pipe or device would block the read
                continue
            relative = full.relative_to(root).as_posix()
            if selected(relative, only, exclude):
                found.append(relative)
    return sorted(found)


def is_test_path(path: str) -> bool:
    """A module of the test suite: under a `tests`/`test` folder, `test_*.py`, `*_test.py`, `conftest.py`."""
    *folders, name = path.split("/")
    return (
        any(folder in ("tests", "test") for folder in folders)
        or name == "conftest.py"
        or name.startswith("test_")
        or name.endswith("_test.py")
    )


def selected(path: str, only: Iterable[str] = (), exclude: Iterable[str] = ()) -> bool:
    """Whether `--only` / `--exclude` globs keep a root-relative path."""
    only, exclude = list(only), list(exclude)
    if only and not matches(path, only):
        return False
    return not (exclude and matches(path, exclude))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError):
        return False
    return True


@dataclass(slots=True)
class Text:
    text: str
    encoding: str


def decode(data: bytes) -> Text:
    """A Python file's bytes as text, in the encoding its coding cookie or BOM declares (UTF-8
    otherwise). SourceError, naming the line and column of a bad byte, when they do not decode."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise SourceError(f"cannot determine the encoding: {error}") from None
    try:
        return Text(data.decode(encoding), encoding)
    except UnicodeDecodeError as error:
        # Where the bad byte is, as an editor counts it (a byte offset is no help in a CI log).
        start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        raise SourceError(
            f"not valid {encoding} at line {line}, column {error.start - start + 1}: cannot decode "
            f"byte 0x{data[error.start]:02x} ({error.reason}); declare the file's encoding "
            "(`# -*- coding: latin-1 -*-`) or save it as UTF-8"
        ) from None
    except LookupError as error:
        raise SourceError(f"not valid {encoding}: {error}") from None


def compile_error(text: str, path: str = "<unknown>") -> str | None:
    """Python's own verdict on text: None when it compiles, else the error at the line and
    column the compiler gives (libcst's token positions can be lines later).

    Only the parse runs (no bytecode). Code too deeply nested for the compiler counts as
    compiling: the caller's own parser decides.
    """
    try:
        compile(text, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        lineno, offset = error.lineno, error.offset
        if lineno is None and "\0" in text:  # the compiler names no position for a null byte
            before = text[: text.index("\0")]
            lineno, offset = before.count("\n") + 1, len(before) - before.rfind("\n")
        if lineno is None:
            return f"syntax error: {error.msg}"
        where = f"line {lineno}" + (f", column {offset}" if offset else "")
        return f"syntax error at {where}: {error.msg}"
    except ValueError as error:  # null bytes
        return f"cannot parse: {error}"
    except (RecursionError, MemoryError):
        return None
    return None


def encode(text: str, encoding: str) -> bytes:
    """Text back to bytes in the file's own encoding (as `decode` found it)."""
    return text.encode(encoding)


class Words:
    """Names a pre-filter round looks for as whole identifiers in a file's bytes (a file naming
    `purge_all` is read, one naming only `purge_all_later` is not): the text of the files a round
    skips may hold the word as part of a longer one, and a substring test would read those too. A
    name that is not ASCII is looked for as bytes: the identifier pattern spans ASCII alone."""

    __slots__ = ("ascii", "other")

    def __init__(self, names: Iterable[str]) -> None:
        encoded = {name.encode("utf-8") for name in names}
        self.ascii = frozenset(name for name in encoded if name.isascii())
        self.other = tuple(sorted(encoded - self.ascii))

    def __getstate__(self) -> tuple[frozenset[bytes], tuple[bytes, ...]]:
        return self.ascii, self.other

    def __setstate__(self, state: tuple[frozenset[bytes], tuple[bytes, ...]]) -> None:
        self.ascii, self.other = state

    def found_in(self, data: bytes) -> bool:
        # one scan for the identifiers, whatever the number of names (a test per name would
        # read the text once for each)
        return not self.ascii.isdisjoint(_IDENTIFIER.findall(data)) or any(name in data for name in self.other)


_IDENTIFIER = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")

# What a pre-filter round looks for: any of these bytes, or whole words.
Markers = tuple[bytes, ...] | Words


def marked(data: bytes, markers: Markers) -> bool:
    """Whether a file's bytes hold what a pre-filter round looks for."""
    if isinstance(markers, Words):
        return markers.found_in(data)
    return any(marker in data for marker in markers)


def read(path: Path) -> bytes:
    """A file's bytes; SourceError saying why (`cannot read: Permission denied`) when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


def check_writable(target: Path) -> int:
    """The permission bits of target (a resolved path), or PermissionError when write_atomic
    would be refused: a read-only file, or a folder the temporary file cannot be made in."""
    mode = stat.S_IMODE(target.stat().st_mode)
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        # The rename would replace a read-only file even so (the folder is writable): refuse.
        raise PermissionError(errno.EACCES, "read-only file (no write permission); left unchanged", str(target))
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "its folder cannot be written to; left unchanged", str(target))
    return mode


def write_atomic(path: Path, data: bytes) -> None:
    """Replace path's content so that a reader sees either the old or the new file.

    The new content goes to a temporary file in the same directory, is flushed
    to disk, takes the original's permission bits and then replaces the
    original by rename. A symbolic link is written through to its target.
    """
    target = path.resolve()
    mode = check_writable(target)
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:  # name the file being written, not the temporary one
        raise type(error)(error.errno, error.strerror, str(target)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError) and error.filename != str(target):
            raise type(error)(error.errno, error.strerror, str(target)) from None
        raise


def tree_of(read: Callable[[str], str], path: str) -> ast.Module:
    """The syntax tree of the module `read` gives the text of. A reader keeping what an analysis
    read (`run._Reads`) parses it itself: the analysis then depends on the tree alone, not on
    comments around it. Syntax newer than the running Python is read as the pre-pass reads it
    (`astcollect.parse_read`). SyntaxError, ValueError or OSError as `ast.parse` and `read` raise them."""
    from async_migrate.codemods.astcollect import parse_any

    parse = getattr(read, "tree", None)
    return parse(path) if parse is not None else parse_any(read(path), path)


class TreeReader:
    """The text of the modules under `root`, as `Path.read_text` reads it with `errors="replace"`,
    and each one's tree, parsed once (`tree_of` asks for it): phase two's analyses (twin names,
    expiry's models, each round's closure) read the same modules, which do not change while
    they plan."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._trees: dict[str, ast.Module] = {}

    def __call__(self, path: str) -> str:
        return (self.root / path).read_text(encoding="utf-8", errors="replace")

    def tree(self, path: str) -> ast.Module:
        from async_migrate.codemods.astcollect import parse_any

        tree = self._trees.get(path)
        if tree is None:
            tree = self._trees[path] = parse_any(self(path), path)
        return tree
