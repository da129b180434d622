"""The test suite's own guarantees: server tests fail (not skip) under CI, the servers' addresses
are one setting, and .ci/run installs exactly as the README says."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO

TESTS = REPO / "tests"


def test_ci_requires_the_servers_and_refuses_golden_regeneration():
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "export ASYNC_MIGRATE_REQUIRE_SERVERS=1" in script
    assert 'export CI="${CI:-true}"' in script
    commands = [line for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    setup = re.search(r"```sh\n(.*?)\n(.*?)\n```", (REPO / "README.md").read_text(encoding="utf-8").split("## Set-up", 1)[1], re.S)
    assert setup is not None
    # the first command after `set` and `cd` is the README's set-up line, exactly, and the
    # README's test command runs as written, once the servers are required
    assert commands[2] == setup.group(1)
    assert setup.group(2).startswith("python -m pytest") and setup.group(2) in commands
    assert commands.index("export ASYNC_MIGRATE_REQUIRE_SERVERS=1") < commands.index(setup.group(2))


def test_an_unreachable_server_skips_or_fails_as_configured(tmp_path):
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "import sample\n\n"
        "def test_needs_postgres():\n"
        "    with sample.database('postgres'):\n"
        "        pass\n",
        encoding="utf-8",
    )
    base = {"ASYNC_MIGRATE_TEST_POSTGRES": "postgresql://nobody@127.0.0.1:9/none", "PYTHONPATH": str(TESTS)}

    def run(**env: str) -> subprocess.CompletedProcess[str]:
        import os

        environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "ASYNC_MIGRATE_"))}
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(probe)],
            cwd=tmp_path, env={**environment, **base, **env}, capture_output=True, text=True, timeout=120,
        )

    skipped = run()
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout, skipped.stdout
    failed = run(ASYNC_MIGRATE_REQUIRE_SERVERS="1")
    assert failed.returncode == 1 and "1 failed" in failed.stdout, failed.stdout
    assert "ASYNC_MIGRATE_REQUIRE_SERVERS is set" in failed.stdout


def test_no_test_hard_codes_a_server_address():
    """The PostgreSQL and MariaDB addresses come from tests/sample.py's settings only."""
    for path in sorted(TESTS.glob("*.py")):
        if path.name in ("sample.py", "test_suite_hygiene.py"):
            continue
        text = path.read_text(encoding="utf-8")
        for address in ("127.0.0.1:5432", "127.0.0.1:3306", "postgres@127.0.0.1"):
            assert address not in text, f"{path.name} hard-codes {address}: use tests/sample.py's setting"


def test_the_forked_runs_see_their_own_folder_and_database_and_fail_on_a_never_awaited_coroutine(tmp_path):
    """sample.run_service_tests_together, which the per-step API tests use: each run imports
    from its own folder, gets its own database URL, and a coroutine never awaited fails it."""
    from sample import STRICT, outcome_counts, run_service_tests_together

    body = {
        "good": "import os\nimport app\n\ndef test_it():\n    assert app.NAME == 'good'\n"
        "    assert os.environ['BOOKSHOP_DATABASE_URL'] == 'sqlite:///good'\n",
        "bad": "import app\n\nasync def work():\n    pass\n\ndef test_it():\n    assert app.NAME == 'bad'\n"
        "    work()\n    import gc\n    gc.collect()\n",
    }
    roots = []
    for name, test in body.items():
        (tmp_path / name / "tests").mkdir(parents=True)
        (tmp_path / name / "app.py").write_text(f"NAME = {name!r}\n", encoding="utf-8")
        (tmp_path / name / "tests" / "test_it.py").write_text(test, encoding="utf-8")
        roots.append((tmp_path / name, f"sqlite:///{name}"))
    good, bad = run_service_tests_together(roots, pytest_args=STRICT)
    assert good.returncode == 0 and outcome_counts(good) == {"passed": 1}, good.stdout + good.stderr
    assert bad.returncode == 1 and outcome_counts(bad) == {"failed": 1}, bad.stdout + bad.stderr
    assert "was never awaited" in bad.stdout


def test_a_suite_passes_with_a_library_warning_and_fails_on_one_naming_a_coroutine(tmp_path):
    """sample.assert_all_passed: a deprecation warning says nothing about the migrated code; a
    warning naming a coroutine (one collected after the last test reaches only the summary)
    fails the run, as does a skipped test."""
    import pytest
    from sample import STRICT, assert_all_passed, run_service_tests_together

    body = {
        "noisy": "import warnings\n\ndef test_it():\n    warnings.warn('old', DeprecationWarning)\n",
        "late": "import warnings\n\ndef test_it():\n"
        "    warnings.warn(\"coroutine 'work' was never awaited\", UserWarning)\n",
        "skipped": "import pytest\n\ndef test_it():\n    pytest.skip('no')\n\ndef test_other():\n    pass\n",
    }
    roots = []
    for name, test in body.items():
        (tmp_path / name / "tests").mkdir(parents=True)
        (tmp_path / name / "tests" / "test_it.py").write_text(test, encoding="utf-8")
        roots.append((tmp_path / name, None))
    noisy, late, skipped = run_service_tests_together(roots, pytest_args=STRICT)
    assert "1 warning" in noisy.stdout
    assert_all_passed(noisy, 1)
    with pytest.raises(AssertionError, match="never awaited"):
        assert_all_passed(late, 1)
    with pytest.raises(AssertionError):
        assert_all_passed(skipped, 2)


def test_every_module_over_500_lines_says_why_at_its_top():
    import ast

    unexplained = []
    for folder in ("codemods", "cli"):
        for path in sorted((REPO / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if text.count("\n") <= 520:  # "about 500": a few lines over is no new module
                continue
            docstring = ast.get_docstring(ast.parse(text)) or ""
            if "Over 500 lines:" not in docstring:
                unexplained.append(path.relative_to(REPO).as_posix())
    assert unexplained == []


def test_a_forked_python_run_sees_what_python_c_sees(tmp_path):
    """`sample.run_python` (one process forked per run) against `python -c`: the output, the exit
    code, a traceback, the folder, the import path and `__main__`."""
    from sample import run_python

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "helper.py").write_text("VALUE = 41\n", encoding="utf-8")
    (tmp_path / "local.py").write_text("NAME = 'local'\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path / "lib"), "MARK": "seen"}
    scripts = [
        "import os, sys, helper, local\n"
        "print(helper.VALUE + 1, local.NAME, os.getcwd(), os.environ['MARK'], sys.argv, __name__)\n"
        "class Point: pass\n"
        "print(Point.__module__, sys.modules['__main__'].Point is Point)",
        "import sys\nprint('before')\nsys.exit(3)",
        "raise ValueError('broken')",
        "import sys\nsys.exit('a message')",
        "import warnings\nwarnings.warn('late', RuntimeWarning)\nprint('after')",
    ]
    for script in scripts:
        forked = run_python(script, cwd=tmp_path, env=env, warnings=("error::RuntimeWarning",))
        fresh = subprocess.run(
            [sys.executable, "-W", "error::RuntimeWarning", "-c", script],
            cwd=tmp_path, env=env, capture_output=True, text=True,
        )
        assert (forked.returncode, forked.stdout) == (fresh.returncode, fresh.stdout), script
        assert forked.stderr.strip().splitlines()[-1:] == fresh.stderr.strip().splitlines()[-1:], script
