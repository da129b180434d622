"""Import roots: the folders under PATH that a project's absolute imports resolve from.

PATH is meant to be the import root (`from core.deps import x` is `PATH/core/deps.py`),
but monorepos keep the application in `backend/`, and users point at a folder one
level too deep. The roots are configured (`src = ["backend"]`, as in ruff) or found
from the imports the project could not place: a folder whose children they name is
a root, and when PATH's own name (or a parent's) heads them, module names get that
prefix. Imports that name something under PATH but still resolve nowhere are
counted, so the tool can say so instead of reporting "no Session work"; so are imports of
project modules beside or above PATH (`outside`, `beside`): PATH is too deep, and calls into
them are unverified (`Project.unseen`).

Over 500 lines: finding the roots and counting the imports left unplaced read the same imports,
in one pass.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from async_migrate.codemods import facts

# How far below PATH a root may sit, and how far above it PATH's own package may start.
_MAX_DEPTH = 3
_MAX_ABOVE = 3


@dataclass(frozen=True, slots=True)
class Roots:
    """Where module names start: (folder relative to PATH, package prefix), most specific first.

    `(("backend", ""), ("", ""))`: `backend/app/models.py` is `app.models`, other files
    are named from PATH. `(("", "app."),)`: PATH is the `app` package itself.
    """

    entries: tuple[tuple[str, str], ...] = (("", ""),)
    # Folders holding a package one of the entries already places (two services' own `app`):
    # the warning that what one imports is read from the other (detect).
    clash: str | None = None

    @property
    def default(self) -> bool:
        return self.entries == (("", ""),)

    def name(self, path: str) -> str:
        """The dotted module name of a posix path relative to PATH ("" for a top-level __init__)."""
        for folder, prefix in self.entries:
            if not folder or path.startswith(folder + "/"):
                relative = path[len(folder) + 1 :] if folder else path
                parts = relative.removesuffix(".py").split("/")
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                return (prefix + ".".join(parts)).rstrip(".")
        return path.removesuffix(".py").replace("/", ".")

    def top_level(self, root: Path) -> frozenset[str]:
        """The project's top-level modules and packages under `root` (PATH): each root's `*.py`
        files and folders named like a module, the package PATH itself is. What isort and ruff
        call first-party (a module found in `src`); `frozenset()` when no folder can be read."""
        names: set[str] = set()
        for folder, prefix in self.entries:
            if prefix:
                names.add(prefix.split(".")[0])
                continue
            try:
                children = list(os.scandir(root / folder))
            except OSError:
                continue
            for child in children:
                stem = child.name.removesuffix(".py") if child.name.endswith(".py") else child.name
                if not stem.isidentifier():
                    continue
                if child.name.endswith(".py") or child.is_dir():
                    names.add(stem)
        return frozenset(names)

    def describe(self) -> str:
        """What the notice "read ... (from the imports)" names: `backend/` as the import root, or PATH
        read as a package (`check app/shop` where the code says `from shop.db import ...`)."""
        shown = []
        for folder, prefix in self.entries:
            if prefix:
                shown.append(f"PATH as the package `{prefix.rstrip('.')}`, with its parent folder as the import root")
            elif folder:
                shown.append(f"`{folder}/` as the import root")
        return ", ".join(shown)


@dataclass(slots=True)
class Unresolved:
    """Absolute imports that name something under PATH but resolve to no module of it."""

    count: int = 0
    examples: list[str] = field(default_factory=list)  # `from app.models import X` (api/x.py)

    def message(self) -> str:
        shown = "; ".join(self.examples)
        return (
            f"{self.count} project import{'s' if self.count != 1 else ''} could not be resolved "
            f"(e.g. {shown}): pass the application root as PATH (the folder those imports start "
            'from), or list it in [tool.async-migrate] src = ["backend"]; until then the analysis '
            "cannot follow them and may miss Session work"
        )


@dataclass(slots=True)
class Outside:
    """Absolute imports of modules in a package PATH sits inside (PATH `app/api`, `from app.db
    import SessionDep` with `app/db.py` beside it): code the analysis never reads."""

    package: str  # the enclosing package's name (`app`)
    holder: Path  # the folder that holds it: what PATH should be
    inside: str  # PATH relative to `holder` (`app/api`): what --only narrows the report to
    count: int = 0
    examples: list[str] = field(default_factory=list)  # `app.db.SessionDep` in products.py
    modules: list[str] = field(default_factory=list)  # `app.db`, `app.services`

    def message(self, shown_root: str | None = None) -> str:
        modules = ", ".join(f"`{m}`" for m in self.modules[:4]) + (", ..." if len(self.modules) > 4 else "")
        folder = shown_root if shown_root is not None else str(self.holder)
        return (
            f"PATH is inside the package `{self.package}`, and {self.count} "
            f"{'imports name' if self.count != 1 else 'import names'} its modules outside PATH ({modules}; e.g. {'; '.join(self.examples)}): the analysis cannot "
            "see them, so it cannot tell what Session work the routes under PATH do through them; "
            f"pass `{folder}` (the folder that holds `{self.package}/`) as PATH, with `--only {self.inside}` "
            "to report on PATH's files alone"
        )


def outside(root: Path, modules: list[facts.Module]) -> Outside | None:
    """Imports that name a module of a package enclosing PATH, on disk beside PATH: `app.db`
    with PATH `app/api` (a file `app/db.py` or a folder `app/db/`). A third-party package that
    shares a parent folder's name (`fastapi`) names nothing on disk there: not counted."""
    here = root.resolve()
    ancestors = _ancestors(here)
    found: Outside | None = None
    existing: dict[Path, bool] = {}
    candidates: list[tuple[str, str]] = []
    for module in modules:
        if _tests(module.path.rsplit("/", 1)[0] if "/" in module.path else ""):
            continue
        for local, ref in sorted(module.imports.items()):
            if local == "*" or not ref:
                continue
            head, _, rest = ref.partition(".")
            package = ancestors.get(head)
            if package is None or not rest:
                continue
            child = package / rest.split(".")[0]
            if child == here or child in here.parents:
                continue  # leads into PATH: the import roots place those
            if child not in existing:
                existing[child] = child.is_dir() or child.with_suffix(".py").is_file()
            if not existing[child]:
                continue
            if found is None:
                found = Outside(head, package.parent, here.relative_to(package.parent).as_posix())
            elif found.package != head:
                continue
            found.count += 1
            named = f"{head}.{rest.split('.')[0]}"
            if named not in found.modules:
                found.modules.append(named)
            candidates.append((ref, module.path))
    if found is not None:
        # the Session's own names first: what a reader needs to see is being missed
        candidates.sort(key=lambda c: not any(w in c[0].rsplit(".", 1)[-1].lower() for w in ("session", "db")))
        found.examples = [f"`{ref}` in {path}" for ref, path in candidates[:2]]
    return found


def _ancestors(here: Path) -> dict[str, Path]:
    """The folders above PATH an import may name (`app` in `app.db` with PATH `app/api`), by name."""
    ancestors: dict[str, Path] = {}
    folder = here.parent
    for _ in range(_MAX_ABOVE):
        if folder.parent == folder:
            break
        ancestors.setdefault(folder.name, folder)
        folder = folder.parent
    return ancestors


def surface(root: Path, modules: list[facts.Module], known: set[str]) -> tuple[list[tuple[str, list[tuple[str, str]]]], ...]:
    """The imports `outside` and `beside` look at, each with its module's path, in the modules'
    order: `outside` over the first gives what it gives over every module, and `beside` over the
    second with no module names known what it gives with `known` (`codemods.warm_run` keeps them)."""
    ancestors = _ancestors(root.resolve())
    above: list[tuple[str, list[tuple[str, str]]]] = []
    for module in modules:
        kept = [
            (local, ref) for local, ref in sorted(module.imports.items())
            if local != "*" and ref and ref.partition(".")[2] and ref.partition(".")[0] in ancestors
        ]
        if kept:
            above.append((module.path, kept))
    unplaced: dict[str, list[tuple[str, str]]] = {}
    for module, ref, _ in _unplaced_imports(modules, known):
        unplaced.setdefault(module.path, []).extend((local, r) for local, r in module.imports.items() if r == ref)
    return above, [(path, sorted(set(pairs))) for path, pairs in unplaced.items()]


@dataclass(slots=True)
class Beside:
    """Absolute imports of top-level modules that are not under PATH but on disk beside it or
    above it (PATH `svc/routers`, `from db import get_db` with `svc/db.py`): PATH is one or
    more levels too deep, and the analysis never reads that code."""

    root: Path  # PATH, resolved
    holder: Path  # the folder most of them are found in: what PATH should be
    count: int = 0
    found: dict[str, Path] = field(default_factory=dict)  # top-level name -> where it is on disk
    examples: list[tuple[str, str]] = field(default_factory=list)  # (name, importing file under PATH)

    @property
    def inside(self) -> str:
        """PATH relative to `holder` (`routers`): what --only narrows the report to."""
        return self.root.relative_to(self.holder).as_posix()

    def message(self, shown_root: str | None = None) -> str:
        folder = shown_root if shown_root is not None else str(self.holder)
        names = list(self.found)
        listed = ", ".join(f"`{n}`" for n in names[:5]) + (", ..." if len(names) > 5 else "")
        examples = "; ".join(
            f"`{name}` imported by {self.inside}/{path} is at {self._where(name)}" for name, path in self.examples
        )
        return (
            f"PATH may be too deep: {examples} ({self.count} "
            f"{'imports name' if self.count != 1 else 'import names'} {len(names)} project "
            f"module{'s' if len(names) != 1 else ''} outside PATH: {listed}): the analysis cannot see them, "
            "so it cannot tell what Session work the routes under PATH do through them; "
            f"run on `{folder}` (the folder those imports start from), with `--only {self.inside}` "
            "to report on PATH's files alone"
        )

    def _where(self, name: str) -> str:
        place = self.found[name]
        shown = os.path.relpath(place, self.root)
        return shown + "/" if place.is_dir() else shown

    def prefixes(self) -> frozenset[str]:
        return frozenset(self.found)


def beside(root: Path, modules: list[facts.Module], known: set[str]) -> Beside | None:
    """Imports placed nowhere under PATH whose top-level name is a module or package in a
    folder above PATH (`PATH/../db.py`, `PATH/../../services/`), up to the folder holding
    the project's `pyproject.toml` or its repository. A name PATH itself is, or sits in, is
    the import roots' and `outside`'s; a third-party package names nothing on disk there."""
    here = root.resolve()
    folders = folders_above(here)
    if not folders:
        return None
    where: dict[str, Path | None] = {}
    hits: list[tuple[str, str, Path, str]] = []  # (name, importing file, the folder holding it, import)
    count = 0
    for module, ref, head in _unplaced_imports(modules, known):
        if head not in where:
            where[head] = _on_disk(head, folders, here)
        place = where[head]
        if place is None or not _defines(place, ref.split(".")[1:2]):
            continue
        count += 1
        hits.append((head, module.path, place.parent, ref))
    if not hits:
        return None
    holders = Counter(parent for _, parent in {(name, parent) for name, _, parent, _ in hits})
    holder = max(holders, key=lambda f: (holders[f], len(f.parts)))
    found = Beside(here, holder, count)
    for name in sorted({name for name, _, _, _ in hits}):
        found.found[name] = where[name]  # type: ignore[assignment]
    # the Session's own names first: what a reader needs to see is being missed
    ordered = sorted(hits, key=lambda h: not any(w in h[3].rsplit(".", 1)[-1].lower() for w in ("session", "db")))
    for name, path, _, _ in ordered:
        if len(found.examples) == 2:
            break
        if all(name != seen for seen, _ in found.examples):
            found.examples.append((name, path))
    return found


def _on_disk(name: str, folders: list[Path], here: Path) -> Path | None:
    for folder in folders:
        for candidate in (folder / name, folder / f"{name}.py"):
            if candidate == here or candidate in here.parents:
                return None  # PATH is that package, or inside it: the import roots place those
            if candidate.is_dir() and _holds_python(candidate) or candidate.is_file():
                return candidate
    return None


def _defines(place: Path, rest: list[str]) -> bool:
    """Whether the module or package on disk has what the import names after its top
    (`get_db` of `db.get_db`): a third-party package named like a folder there (`alembic`
    beside the application, `from alembic import op`) does not."""
    if not rest:
        return True
    name = rest[0]
    if place.is_dir():
        if (place / name).is_dir() or (place / f"{name}.py").is_file():
            return True
        place = place / "__init__.py"
    try:
        text = place.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


def _holds_python(folder: Path) -> bool:
    try:
        return (folder / "__init__.py").is_file() or any(folder.glob("*.py"))
    except OSError:
        return False


def _project_top(folder: Path) -> bool:
    """The folder holding the project's configuration or its repository: imports start no higher."""
    return (folder / "pyproject.toml").is_file() or (folder / ".git").exists()


def folders_above(here: Path) -> list[Path]:
    """The folders above `here` (resolved), nearest first, up to the one holding the project's
    `pyproject.toml` or repository and at most `_MAX_ABOVE` of them; none when `here` holds it."""
    folders: list[Path] = []
    folder = here
    for _ in range(_MAX_ABOVE):
        if folder.parent == folder or _project_top(folder):
            break
        folder = folder.parent
        folders.append(folder)
    return folders


def configured(src: tuple[str, ...], base: Path, root: Path) -> Roots:
    """Roots from the `src` setting: folders relative to `base` (the configuration file's folder).

    A folder inside PATH names the files under it from there; a folder above PATH
    makes PATH a package of it (`src = ["backend"]` with PATH `backend/app`: `app.`).
    Folders elsewhere are ignored.
    """
    root = root.resolve()
    entries: set[tuple[str, str]] = set()
    for folder in src:
        where = (base / folder).resolve()
        if where == root or root in where.parents:
            entries.add(("" if where == root else where.relative_to(root).as_posix(), ""))
        elif where in root.parents:
            entries.add(("", ".".join(root.relative_to(where).parts) + "."))
    if not entries:
        return Roots()
    return Roots(tuple(sorted(entries, key=lambda e: (-len(e[0]), e[0]))))


def detect(root: Path, paths: list[str], modules: list[facts.Module]) -> Roots:
    """Roots that place more of the project's absolute imports than PATH alone does."""
    heads = _unplaced_heads(paths, modules)
    if not heads:
        return Roots()
    entries: list[tuple[str, str]] = []
    # PATH one or more levels too deep: its own name (or a parent's) heads the imports, and
    # what follows names PATH's children (`app.models.User` with PATH/models.py). A third-party
    # package that shares the folder's name (`fastapi`) does not pass that test.
    top = {path.split("/")[0].removesuffix(".py") for path in paths}
    refs = [ref for module in modules for local, ref in module.imports.items() if local != "*" and ref]
    here = root.resolve()
    chain: list[str] = []
    for _ in range(_MAX_ABOVE):
        chain.insert(0, here.name)
        prefix = ".".join(chain) + "."
        if here.name and here.name in heads:
            under = [ref for ref in refs if ref.startswith(prefix)]
            placed = [ref for ref in under if ref[len(prefix) :].split(".")[0] in top]
            if placed and len(placed) * 2 >= len(under):
                return Roots((("", prefix),))
        if here.parent == here:
            break
        here = here.parent
    # A folder is a root when the packages in it are what the imports name: modules alone
    # (`from conftest import X` in tests/) or a test folder do not make one.
    packages = _packages(paths)
    # A folder the imports already reach by its dotted name from PATH (`app.utils.auth` for
    # `app/utils/`) is a package, not a root: a third-party import that happens to share the name
    # of a folder in it (`from mcp.client import x` beside `app/utils/mcp/client.py`) must not
    # rename every module there (`app.utils.auth` would become `auth`, and resolve nowhere).
    reached = _reached_names(modules)
    # What the imports name inside each head (`connector` of `snowflake.connector.cursor`): a
    # folder holding a package `head` that has none of those (feast's `feast/templates/snowflake/`,
    # `app/infra/kubernetes/` beside `from kubernetes import client`) is not what they import, the
    # installed library is; it must not make its folder a root. A head only imported bare decides nothing.
    inside: dict[str, set[str]] = {}
    for ref in refs:
        head, _, rest = ref.partition(".")
        if head in heads and rest:
            inside.setdefault(head, set()).add(rest.split(".")[0])
    children = {
        folder: {
            name for name in names & packages.get(folder, set())
            if name not in inside or any(_defines(root / folder / name, [part]) for part in inside[name])
        }
        for folder, names in _children(paths).items()
        if folder and not _tests(folder) and not _reached(folder, reached)
    }
    remaining = set(heads)
    clashes: list[tuple[str, list[str], list[str]]] = []
    while remaining:
        scored = [
            (len(remaining & names), folder) for folder, names in children.items() if folder and remaining & names
        ]
        if not scored:
            break
        best = max(scored, key=lambda s: (s[0], -s[1].count("/"), s[1]))[1]
        entries.append((best, ""))
        covered = remaining & children[best]
        rivals = sorted(
            folder for folder, names in children.items()
            if folder and folder != best and names & covered
            and not folder.startswith(best + "/") and not best.startswith(folder + "/")
        )
        if rivals:
            clashes.append((best, rivals, sorted(covered & set().union(*(children[f] for f in rivals)))))
        remaining -= children[best]
    if not entries:
        return Roots()
    entries.sort(key=lambda e: (-len(e[0]), e[0]))
    return Roots((*entries, ("", "")), _clash_message(clashes))


def _reached_names(modules: list[facts.Module]) -> set[str]:
    """What the absolute imports outside test folders name (their references)."""
    return {
        ref for module in modules if not _tests(module.path.rpartition("/")[0])
        for local, ref in module.imports.items() if local != "*" and ref
    }


def _reached(folder: str, reached: set[str]) -> bool:
    """Whether the imports name `folder` (or a package inside it) by its dotted path from PATH."""
    dotted = folder.replace("/", ".")
    return any(name == dotted or name.startswith(dotted + ".") for name in reached)


def _reached_as(folder: str, roots: Roots, reached: set[str]) -> bool:
    """`_reached` by the dotted name `roots` give `folder` (`app.infra` for `infra/` in PATH `app`)."""
    dotted = roots.name(f"{folder}/__init__.py")
    return bool(dotted) and any(name == dotted or name.startswith(dotted + ".") for name in reached)


def _clash_message(clashes: list[tuple[str, list[str], list[str]]]) -> str | None:
    """Two folders under PATH holding the same top-level package (a monorepo's services, each
    with its own `app`): one import root per name, so what the others import is read from the
    wrong files. Said as a blind spot: `check` exits 2 rather than pass on a guess."""
    if not clashes:
        return None
    best, rivals, names = clashes[0]
    packages = ", ".join(f"`{name}`" for name in names)
    others = ", ".join(f"`{folder}/`" for folder in rivals)
    return (
        f"{others} and `{best}/` each hold the package {packages}: the imports are read from "
        f"`{best}/` alone, so what {others} imports from it is not seen; run async-migrate on each "
        f"of them (PATH {rivals[0]}, then {best}), or set src in [tool.async-migrate]"
    )


def unresolved(
    paths: list[str], modules: list[facts.Module], known: set[str], roots: Roots | None = None, root: Path | None = None
) -> Unresolved:
    """Absolute imports whose top name is a package somewhere under PATH but no module of it.

    Test folders are left out on both sides: their imports (`from conftest import X`)
    resolve through the test runner's own path. `roots` names the folders (`infra/` is
    `app.infra` when PATH is read as the package `app`); with `root` (PATH), a package there that
    has nothing of what the import names (`connector` of `snowflake.connector`) is not what it imports.
    """
    roots = roots if roots is not None else Roots()
    packages = _packages(paths)
    anywhere = {name for names in packages.values() for name in names}
    children = _children(paths)
    reached = _reached_names(modules)
    found = Unresolved()
    inside: dict[str, set[str]] = {}
    for name in reached:
        head, _, rest = name.partition(".")
        if rest:
            inside.setdefault(head, set()).add(rest.split(".")[0])
    for module, ref, head in _unplaced_imports(modules, known):
        if head in anywhere and not _foreign(
            ref, head, paths, packages, children, reached, roots, root, frozenset(inside.get(head, ()))
        ):
            found.count += 1
            if len(found.examples) < 3:
                found.examples.append(f"`{ref}` in {module.path}")
    return found


def _foreign(
    ref: str, head: str, paths: list[str], packages: dict[str, set[str]], children: dict[str, set[str]],
    reached: set[str], roots: Roots, root: Path | None = None, inside: frozenset[str] = frozenset(),
) -> bool:
    """An import of an installed package that a folder of the same name without `__init__.py`
    only seems to name: `from alembic import op` beside alembic's `alembic/` (env.py,
    versions/). Python prefers any regular package to a namespace folder, and the folder holds
    nothing the import names; a folder with `__init__.py`, or one holding the name, still counts,
    unless it sits in a package the imports reach by its dotted name (`app/utils/mcp/` beside
    `from app.utils.auth import x`): there it is `app.utils.mcp`, never `mcp`."""
    # An absolute import names a top-level package: one directly in an import root's folder.
    # `prefect/_internal/pydantic/__init__.py` is `prefect._internal.pydantic`, never `pydantic`;
    # `app/infra/utils/snowflake/` is `app.infra.utils.snowflake`, and `feast/templates/ray/` sits
    # in no root (`detect` took none there), so `snowflake.connector` and `ray` are installed ones.
    # PATH read as a package (`app.`) makes no folder under it a root. A folder deeper than
    # `detect` looks may still be the root the user meant (PATH too high): counted, unless the
    # imports reach it by its dotted name.
    root_folders = {folder for folder, prefix in roots.entries if not prefix}
    folders = [
        f"{parent}/{head}" if parent else head for parent, names in packages.items()
        if head in names and (parent in root_folders or not _tests(parent) and not _reached_as(parent, roots, reached))
    ]
    if not folders:
        return True
    name = ref.split(".")[1] if "." in ref else None
    # What the project's imports name in `head` (`connector` of `snowflake.connector`): a folder
    # holding none of it (feast's `feast/templates/snowflake/`) is not what they import, a bare
    # `import snowflake.connector` beside them neither. Only bare imports: nothing to tell by.
    if root is not None and inside and not any(_defines(root / f, [part]) for f in folders for part in inside):
        return True
    if any(f"{f}/__init__.py" in paths for f in folders):
        return False
    return name is None or all(name not in children.get(f, set()) for f in folders)


def _unplaced_imports(modules: list[facts.Module], known: set[str]) -> Iterator[tuple[facts.Module, str, str]]:
    """(module, reference, its top name) of each absolute import, outside test folders, of no
    standard module and placed on no module `known` names."""
    for module in modules:
        if _tests(module.path.rsplit("/", 1)[0] if "/" in module.path else ""):
            continue
        for local, ref in sorted(module.imports.items()):
            head = ref.split(".")[0] if ref else ""
            if local != "*" and ref and not _is_standard(head) and not _placed(ref, known):
                yield module, ref, head


def _placed(ref: str, known: set[str]) -> bool:
    parts = ref.split(".")
    return any(".".join(parts[:i]) in known for i in range(len(parts), 0, -1))


def _unplaced_heads(paths: list[str], modules: list[facts.Module]) -> set[str]:
    top = {path.split("/")[0].removesuffix(".py") for path in paths}
    counts: Counter[str] = Counter()
    for module in modules:
        for local, ref in module.imports.items():
            if local == "*" or not ref:
                continue
            head = ref.split(".")[0]
            if head not in top and not _is_standard(head):
                counts[head] += 1
    return set(counts)


def _children(paths: list[str]) -> dict[str, set[str]]:
    """Folder relative to PATH ("" for PATH) -> the module and package names directly in it."""
    found: dict[str, set[str]] = {}
    for path in paths:
        parts = path.split("/")
        for depth in range(min(len(parts) - 1, _MAX_DEPTH) + 1):
            folder = "/".join(parts[:depth])
            name = parts[depth].removesuffix(".py")
            if name != "__init__":
                found.setdefault(folder, set()).add(name)
    return found


def _packages(paths: list[str]) -> dict[str, set[str]]:
    """Folder ("" for PATH) -> the folders directly in it that hold Python files (packages,
    namespace or not), test folders left out, down to the depth roots are looked for."""
    found: dict[str, set[str]] = {}
    for path in paths:
        parts = path.split("/")
        for depth in range(min(len(parts) - 1, _MAX_DEPTH + 1)):
            if not _tests(parts[depth]):
                found.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
    return found


def _tests(folder: str) -> bool:
    return any(part in ("tests", "test", "testing") for part in folder.split("/"))


def _is_standard(name: str) -> bool:
    return name in sys.stdlib_module_names or name == "__future__"


def blind_spots(
    root: Path, above: list[facts.Module], unplaced: list[facts.Module], known: set[str]
) -> tuple[list[str], set[str]]:
    """What PATH leaves out that its imports name (`roots.outside` over `above`, `roots.beside`
    over `unplaced`): the warnings, and the modules outside PATH a call may lead into."""
    above_root = outside(root, above)
    blind = [above_root.message(_shown(above_root.holder))] if above_root is not None else []
    unseen = set(above_root.modules) if above_root is not None else set()
    next_to = beside(root, unplaced, known)
    if next_to is not None:
        blind.append(next_to.message(_shown(next_to.holder)))
        unseen |= next_to.prefixes()
    return blind, unseen


def _shown(folder: Path) -> str:
    """A folder as the user would type it: relative to the working directory when in or just
    above it, else absolute."""
    try:
        shown = os.path.relpath(folder, Path.cwd())
    except (ValueError, OSError):
        return str(folder)
    return str(folder) if shown.startswith("../..") else shown


# Enough test files to find the ones naming the package; a larger tree is not read further.
_TESTS_READ = 2000


def tests_outside(root: Path, roots: Roots) -> str | None:
    """Tests beside or above PATH importing the package PATH is read as (PATH `app` with
    `../tests/test_orders.py` doing `from app.routers import orders`): the run never reads
    them, so it cannot see a test calling a handler directly, which phase one's `def` or phase
    two's `await` would break. The notice naming them and the fix; None when there are none."""
    packages = sorted({prefix.rstrip(".") for folder, prefix in roots.entries if not folder and prefix})
    if not packages:
        return None
    here = root.resolve()
    names = "|".join(re.escape(package) for package in packages)
    imports = re.compile(rf"^[ \t]*(?:from|import)[ \t]+(?:{names})\b".encode(), re.M)
    found: list[Path] = []
    read = 0
    holder = here
    for holder in folders_above(here):
        for child in sorted(holder.iterdir()):
            if child == here or child in here.parents:
                continue
            if child.is_dir() and child.name in ("tests", "test"):
                candidates = sorted(child.rglob("*.py"))
            elif child.name == "conftest.py" and child.is_file():
                candidates = [child]
            else:
                continue
            for path in candidates:
                if read == _TESTS_READ:
                    break
                read += 1
                try:
                    if imports.search(path.read_bytes()):
                        found.append(path)
                except OSError:
                    continue
        if found:
            break
    if not found:
        return None
    shown = ", ".join(os.path.relpath(path, here) for path in found[:2]) + (
        f" and {len(found) - 2} more" if len(found) > 2 else ""
    )
    listed = ", ".join(f"`{package}`" for package in packages)
    return (
        f"tests outside PATH import {listed} ({shown}): they are not read, so a test calling a handler "
        "directly is not seen (one awaiting a handler phase one makes `def`, or calling one phase two "
        f"makes `async def`, would fail); run on `{os.path.relpath(holder, here)}` with `--only "
        f"{here.relative_to(holder).as_posix()}` to read them"
    )
