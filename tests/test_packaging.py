"""The installed tool must not shadow, or be shadowed by, a service's own packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_tool_runs_beside_a_service_with_its_own_cli_and_codemods_packages(tmp_path: Path) -> None:
    # A service run from its own folder puts that folder first on sys.path; its `cli`
    # and `codemods` packages must neither break the tool nor be replaced by it.
    for package in ("cli", "codemods"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("SERVICE_OWN = True\n")
    script = (
        "import cli, codemods\n"
        "from async_migrate.cli.main import app\n"
        "from async_migrate.codemods import run\n"
        "assert cli.SERVICE_OWN and codemods.SERVICE_OWN\n"
        "print(app.info.name or 'ok', run.__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "async_migrate.codemods.run" in result.stdout


def test_every_package_folder_is_installed() -> None:
    # An editable install finds every folder; a wheel holds only the packages listed.
    import tomllib

    repo = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {
        "async_migrate." + ".".join(init.parent.relative_to(repo).parts)
        for top in ("codemods", "cli")
        for init in (repo / top).rglob("__init__.py")
    }
    assert folders - listed == set()
