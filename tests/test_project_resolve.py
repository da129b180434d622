"""`Project.resolve` on star imports of project modules that were not read.

SQLAlchemy's `testing/suite/__init__.py` star-imports a dozen test modules the scan does
not read; each lookup through it once matched the package on a shorter prefix and grew
the reference by a segment per star import: exponentially many references (the corpus
run grew past 20 GB). The class index resolves references the same way: aim's
`storage/encoding/__init__.py` star-imports two compiled modules that have no Python source.
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from async_migrate.codemods.astcollect import collect
from async_migrate.codemods.classes import Classes, project_classes
from async_migrate.codemods.project import Project

SUITE = "".join(f"from .test_{name} import *\n" for name in "abcdef")


class TooManyLookups(Exception):
    pass


def _project(files: dict[str, str]) -> Project:
    return Project([collect(path, dedent(text)) for path, text in files.items()])


def test_star_imports_of_unread_modules_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project({"pkg/__init__.py": "", "pkg/suite/__init__.py": SUITE})
    original = Project._resolve
    calls = 0

    def counted(self: Project, ref: str, depth: int):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls > 1_000:
            raise TooManyLookups(ref)
        return original(self, ref, depth)

    monkeypatch.setattr(Project, "_resolve", counted)
    assert project.resolve("pkg.suite.fixture.run") is None
    assert calls < 50


def test_star_import_of_a_read_module_still_resolves() -> None:
    project = _project({
        "pkg/__init__.py": "",
        "pkg/suite/__init__.py": "from .test_a import *\n",
        "pkg/suite/test_a.py": "def fixture():\n    return 1\n",
    })
    found = project.resolve("pkg.suite.fixture")
    assert found is not None and found.kind == "function"
    assert found.module is not None and found.module.name == "pkg.suite.test_a"


def test_class_lookup_through_star_imports_of_unread_modules_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project({
        "pkg/__init__.py": "",
        "pkg/encoding/__init__.py": "from pkg.encoding.encoding import *\nfrom pkg.encoding.encoding_native import *\n",
        "pkg/models.py": "class Run:\n    pass\n",
    })
    classes = project_classes(project)
    original = Classes._resolve
    calls = 0

    def counted(self: Classes, ref: str, depth: int):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls > 1_000:
            raise TooManyLookups(ref)
        return original(self, ref, depth)

    monkeypatch.setattr(Classes, "_resolve", counted)
    assert classes.resolve("pkg.encoding.encode_int64") is None
    assert calls < 50
    assert classes.resolve("pkg.models.Run") == "pkg.models.Run"
