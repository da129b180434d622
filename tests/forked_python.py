"""Run `python -c CODE` many times, each run a process forked from this one, which imported the
libraries they share once: started by `sample.run_python`, one per test session.

Standard input has one JSON request a line, {"code", "cwd", "env", "stdout", "stderr",
"timeout", "warnings" (the `-W` options), "args" (what follows CODE; optional)}; each run's output goes to its two files, and this process answers on standard output
with a line {"returncode": N}. A run sees what `python -c CODE` run in `cwd` with `env` sees:
`sys.argv == ["-c", *args]`, the current folder first on `sys.path`, then the folders of `PYTHONPATH`;
the modules below are already imported, which only saves the time of importing them again.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
import types
import warnings

from forked_pytest import fork, import_shared

# This script's folder, which `python -c` would not put on the path.
BASE_PATH = [entry for entry in sys.path[1:] if entry]


def child(run: dict) -> int:
    for fd, path in ((1, run["stdout"]), (2, run["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    signal.alarm(int(run["timeout"]))
    os.chdir(run["cwd"])
    os.environ.clear()
    os.environ.update(run["env"])
    extra = [entry for entry in run["env"].get("PYTHONPATH", "").split(os.pathsep) if entry]
    sys.path[:] = ["", *extra, *BASE_PATH]
    sys.argv = ["-c", *run.get("args", [])]
    for option in run["warnings"]:
        warnings._setoption(option)  # type: ignore[attr-defined]  # how `-W` sets the filter
    main = types.ModuleType("__main__")  # what the code defines is `__main__`'s, as under `-c`
    sys.modules["__main__"] = main
    try:
        exec(compile(run["code"], "<string>", "exec"), main.__dict__)
    except SystemExit as stop:
        if stop.code is None:
            return 0
        if isinstance(stop.code, int):
            return stop.code
        print(stop.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def main() -> None:
    import_shared()
    for line in sys.stdin:
        _, status = os.waitpid(fork(child, json.loads(line)), 0)
        print(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__":
    main()
