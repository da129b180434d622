"""Benchmark `async-migrate` on a large synthetic service against the libcst floor.

Not a test module (pytest does not collect this folder: no test_*.py files here).

    .venv/bin/python tests/bench/benchmark.py                      # ~2,000 modules, best of 3
    .venv/bin/python tests/bench/benchmark.py --modules 500 --repeat 1 --jobs 1
    .venv/bin/python tests/bench/benchmark.py --keep /tmp/synthetic   # keep the generated tree
    .venv/bin/python tests/bench/benchmark.py --profile phase1.prof   # cProfile, single process

The synthetic service is generated from the shapes of testdata/bookshop: every
router (api/*.py) and helper module (services/*.py) is copied many times, with the
module names, the top-level functions, classes and globals renamed per copy
(`book_helper` -> `book_helper_0007`, `get_db_books` -> `get_db_books_0007`), and
the imports renamed along with them, so the analysis resolves every call exactly
as in the sample. The shared modules (core, db, models, schemas) exist once.

Measured, wall clock and CPU seconds (user + system, of the command and its pool
workers), best of --repeat interleaved rounds, each as a fresh subprocess:

* `async-migrate check`, `scan`, `phase1` (the dry run) and `phase2 --subsystem
  api/books_0000.py` (one router module and the helpers it reaches), each cold (the
  cache removed just before) and warm (the cache the cold run left, after a comment was
  added to one router module: its facts stay as they were, so the cached analysis is
  reused); `check` and `phase1` also warm after an edit the analysis sees (a function
  added to that module: every module's facts from the cache, the analysis made anew):
  the real entry point, including interpreter start and the process pool, text output
  to /dev/null;
* `phase1` (the dry run) on a settled copy of the service, where phase one has already
  run except in five router modules: a service where few files change;
* the floor: "libcst parses and prints every file once" (`parse_module(text).code`),
  single process and on all cores (a multiprocessing pool over the files), also
  run as a subprocess of this script so start-up costs are alike.

Every command's time is also divided by the all-cores floor of the same round, since a
shared host's speed drifts; the issue's targets are printed beside the ratios.

Peak memory: every measured command runs as a direct child of this script and is
reaped with `os.wait4`, whose `ru_maxrss` is the largest resident set of that child
and of all the descendants it waited for (the pool workers): the same figure as
`getrusage(RUSAGE_CHILDREN).ru_maxrss` taken around a single child, but not masked by
an earlier, larger run (RUSAGE_CHILDREN is a high-water mark over all children).
While a command runs, /proc is sampled to split the peak into the main process and
its worker processes and to record the peak of their sum, and of the sum of their
proportional set sizes (PSS): a process forked from another shares its pages, which
each resident set counts whole.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import io
import json
import os
import pstats
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BOOKSHOP = REPO / "testdata" / "bookshop"
TEMPLATE_PACKAGES = ("api", "services")
SHARED_PACKAGES = ("core", "db", "models", "schemas")


# --------------------------------------------------------------------- generation


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("__")}


def _without_header(text: str) -> str:
    """The module without its docstring and `from __future__` imports (for repeated variants)."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    drop: set[int] = set()
    for node in tree.body:
        is_docstring = (
            node is tree.body[0]
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if is_docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            drop.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    return "".join(line for index, line in enumerate(lines) if index not in drop)


class Templates:
    """The router and helper modules of the sample service, ready to be stamped out."""

    def __init__(self, source: Path = BOOKSHOP) -> None:
        self.source = source
        self.modules: dict[str, str] = {}  # "api/books" -> text
        for package in TEMPLATE_PACKAGES:
            for path in sorted((source / package).glob("*.py")):
                if path.name != "__init__.py":
                    self.modules[f"{package}/{path.stem}"] = path.read_text(encoding="utf-8")
        if not self.modules:
            raise SystemExit(f"no templates under {source}/{{{','.join(TEMPLATE_PACKAGES)}}}")
        shared: set[str] = set()
        for package in SHARED_PACKAGES:
            for path in (source / package).rglob("*.py"):
                shared |= _top_level_names(ast.parse(path.read_text(encoding="utf-8")))
        # Module names are renamed wherever they appear (imports and `module.attr`).
        self.stems = {name.split("/")[1] for name in self.modules}
        self.defined: set[str] = set()
        for text in self.modules.values():
            self.defined |= _top_level_names(ast.parse(text))
        self.defined -= shared | self.stems
        words = sorted(self.stems | self.defined, key=len, reverse=True)
        self.pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b")
        self.bodies = {name: _without_header(text) for name, text in self.modules.items()}
        self.lines = sum(text.count("\n") for text in self.modules.values())

    def render(self, name: str, copy: int, variants: int) -> str:
        parts = []
        for variant in range(variants):
            suffix = f"_{copy:04d}" if variant == 0 else f"_{copy:04d}_{variant}"

            def rename(match: re.Match[str], suffix: str = suffix) -> str:
                word = match.group(1)
                return f"{word}_{copy:04d}" if word in self.stems else word + suffix

            text = self.modules[name] if variant == 0 else "\n\n" + self.bodies[name]
            parts.append(self.pattern.sub(rename, text))
        return "".join(parts)


def generate(root: Path, modules: int = 2000, lines: int | None = None, source: Path = BOOKSHOP) -> dict:
    """Write the synthetic service under root; returns what was generated."""
    templates = Templates(source)
    per_copy = len(templates.modules)
    copies = max(1, -(-modules // per_copy))
    target = lines if lines is not None else modules * 150
    variants = max(1, round(target / (copies * templates.lines)))
    root.mkdir(parents=True, exist_ok=True)
    for package in SHARED_PACKAGES:
        if (source / package).is_dir():
            shutil.copytree(source / package, root / package, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
    if (source / "pyproject.toml").is_file():
        shutil.copy2(source / "pyproject.toml", root / "pyproject.toml")
    for package in TEMPLATE_PACKAGES:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").write_text(f'"""Generated {package} package."""\n', encoding="utf-8")
    files = total_lines = 0
    for copy in range(copies):
        for name in templates.modules:
            package, stem = name.split("/")
            text = templates.render(name, copy, variants)
            try:
                ast.parse(text)
            except SyntaxError as error:  # the renaming must keep every module valid
                raise SystemExit(f"generated {package}/{stem}_{copy:04d}.py does not parse: {error}") from error
            (root / package / f"{stem}_{copy:04d}.py").write_text(text, encoding="utf-8")
            files += 1
            total_lines += text.count("\n")
    everything = [p for p in root.rglob("*.py")]
    return {
        "root": str(root),
        "templated_modules": files,
        "copies": copies,
        "variants": variants,
        "files": len(everything),
        "lines": sum(p.read_bytes().count(b"\n") for p in everything),
        "templated_lines": total_lines,
    }


FEW_CHANGED = 5  # router modules left for phase one in the settled copy


def settled_copy(root: Path, cli: list[str], changed: int = FEW_CHANGED) -> tuple[Path, int]:
    """A copy of the service on which phase one has already run, except in `changed` router
    modules restored from the original: a service where few files change, the common case
    after the first migration pull request. Same files and about the same lines as `root`,
    so the all-cores floor of `root` stands for both."""
    few = root.parent / (root.name + "-settled")
    shutil.rmtree(few, ignore_errors=True)
    shutil.copytree(root, few)
    applied = subprocess.run(cli + ["phase1", str(few), "--apply", "--allow-dirty"], capture_output=True, text=True)
    if applied.returncode not in (0, 3):
        raise SystemExit(f"phase1 --apply on the settled copy exited {applied.returncode}:\n{applied.stderr[-2000:]}")
    rewritten = [path for path in sorted((root / "api").glob("*.py"))
                 if path.read_bytes() != (few / "api" / path.name).read_bytes()]
    restored = rewritten[:: max(1, len(rewritten) // changed)][:changed]  # spread over the routers
    for path in restored:
        shutil.copy2(path, few / "api" / path.name)
    return few, len(restored)


# -------------------------------------------------------------------- the floor


def _python_files(root: Path) -> list[Path]:
    files = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(files, key=lambda p: -p.stat().st_size)


def _parse_and_print(path: str) -> int:
    import libcst

    text = Path(path).read_bytes().decode("utf-8")
    return len(libcst.parse_module(text).code)


def floor(root: Path, jobs: int) -> int:
    """libcst parses and prints every file once; with jobs > 1 on a process pool."""
    paths = [str(p) for p in _python_files(root)]
    if jobs <= 1:
        return sum(map(_parse_and_print, paths))
    import multiprocessing

    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with context.Pool(jobs) as pool:
        return sum(pool.imap_unordered(_parse_and_print, paths, chunksize=8))


# -------------------------------------------------------------------- measuring


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as stream:
                found.extend(int(child) for child in stream.read().split())
    except OSError:
        pass
    return found


def _pss_kb(pid: int) -> int:
    """pid's proportional set size: each page it shares counted as its share (a forked process
    shares its parent's pages, which the sum of resident sets counts once per process)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as stream:
            for line in stream:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as stream:
            for line in stream:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class Sampler(threading.Thread):
    """Polls /proc for the peak RSS of a process, of its children, and of their sum; and the
    peak of the sum of their proportional set sizes (PSS, 0 where /proc has none)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.main_kb = self.worker_kb = self.total_kb = self.pss_kb = 0
        self.workers: set[int] = set()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            main = _status_kb(self.pid, "VmHWM")
            total = _status_kb(self.pid, "VmRSS")
            pss = _pss_kb(self.pid)
            self.main_kb = max(self.main_kb, main)
            for child in _children(self.pid):
                self.workers.add(child)
                self.worker_kb = max(self.worker_kb, _status_kb(child, "VmHWM"))
                total += _status_kb(child, "VmRSS")
                pss += _pss_kb(child)
            self.total_kb = max(self.total_kb, total)
            self.pss_kb = max(self.pss_kb, pss)
            self.stopped.wait(self.interval)


def measure(command: list[str], cwd: Path | None = None) -> dict:
    """Run command once as a direct child; wall time, CPU time and peak memory of its process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = Sampler(process.pid)
    sampler.start()
    stderr_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True)
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    sampler.stopped.set()
    sampler.join()
    reader.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "wall": wall,
        # wait4 counts the child and every descendant it waited for (the pool workers).
        "cpu": usage.ru_utime + usage.ru_stime,
        "returncode": process.returncode,
        "maxrss_kb": usage.ru_maxrss,  # largest process of this run's tree (wait4)
        "children_maxrss_kb": after if after > before else None,  # RUSAGE_CHILDREN, if it rose
        "main_peak_kb": sampler.main_kb,
        "worker_peak_kb": sampler.worker_kb,
        "workers": len(sampler.workers),
        "sum_peak_kb": sampler.total_kb,
        "pss_peak_kb": sampler.pss_kb,
        "stderr": b"".join(stderr_chunks).decode("utf-8", "replace")[-2000:],
    }


def check_run(command: list[str], run: dict, ok: tuple[int, ...]) -> dict:
    if run["returncode"] not in ok:
        raise SystemExit(f"{' '.join(command)} exited {run['returncode']}:\n{run['stderr']}")
    return run


def best_of(runs: list[dict]) -> dict:
    best = dict(min(runs, key=lambda r: r["wall"]))
    best["walls"] = [round(r["wall"], 2) for r in runs]
    best["cpus"] = [round(r["cpu"], 2) for r in runs]
    best["cpu"] = min(r["cpu"] for r in runs)
    best["maxrss_kb"] = max(r["maxrss_kb"] for r in runs)
    best["main_peak_kb"] = max(r["main_peak_kb"] for r in runs)
    best["worker_peak_kb"] = max(r["worker_peak_kb"] for r in runs)
    best["sum_peak_kb"] = max(r["sum_peak_kb"] for r in runs)
    best["pss_peak_kb"] = max(r["pss_peak_kb"] for r in runs)
    return best


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "async-migrate"
    if script.exists():
        return [str(script)]
    found = shutil.which("async-migrate")
    if found:
        return [found]
    return [sys.executable, "-c", "from async_migrate.cli.main import main; main()"]


def compile_tool() -> None:
    """Byte-compile the tool's own modules, as installing a package does. An editable install
    under PYTHONDONTWRITEBYTECODE (set on some hosts) never writes them, and every measured
    run would compile its hundred-odd modules from source: a cost no installed copy has,
    and that the floor, whose libcst is installed compiled, does not pay."""
    import compileall

    for folder in ("codemods", "cli"):
        compileall.compile_dir(REPO / folder, quiet=1)


def profile(root: Path, output: str | None, command: str = "phase1", top: int = 30) -> None:
    """cProfile of a single-process dry run, in this process (`--jobs 1`)."""
    sys.path.insert(0, str(REPO))
    from typer.testing import CliRunner

    from async_migrate.cli.main import app

    runner = CliRunner()
    profiler = cProfile.Profile()
    profiler.enable()
    result = runner.invoke(app, [command, str(root), "--jobs", "1"])
    profiler.disable()
    if result.exit_code not in (0, 3):
        raise SystemExit(f"{command} exited {result.exit_code}: {result.output[-2000:]}")
    if output:
        profiler.dump_stats(output)
    for key in ("tottime", "cumulative"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats(key).print_stats(top)
        print(f"\n===== {command} --jobs 1, top {top} by {key} =====")
        print(stream.getvalue())


# ------------------------------------------------------------------------- main


def _mb(kb: int | None) -> str:
    return "-" if not kb else f"{kb / 1024:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=2000, help="router and helper modules to generate")
    parser.add_argument("--lines", type=int, default=None, help="approximate lines (default: 150 per module)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each command's best of N is reported")
    parser.add_argument("--quick", action="store_true",
                        help="only the all-cores floor, and check and the phase1 dry run, cold and warm")
    parser.add_argument("--jobs", type=int, default=None, help="processes for the CLI and the pooled floor "
                        "(default: all cores)")
    parser.add_argument("--keep", type=Path, default=None, help="generate into DIR and keep it")
    parser.add_argument("--profile", default=None, metavar="FILE",
                        help="instead of timing: cProfile a single-process phase1 dry run, dump to FILE")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--floor-child", nargs=2, metavar=("ROOT", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.floor_child:  # the floor, run as a subprocess of the benchmark
        floor(Path(args.floor_child[0]), int(args.floor_child[1]))
        return 0

    jobs = args.jobs or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    temporary = None
    if args.keep is not None:
        root = args.keep.resolve()
        if root.exists() and any(root.iterdir()):
            raise SystemExit(f"{root} exists and is not empty")
    else:
        temporary = tempfile.mkdtemp(prefix="async-migrate-bench-")
        root = Path(temporary) / "service"
    try:
        started = time.perf_counter()
        info = generate(root, args.modules, args.lines)
        print(
            f"generated {info['files']} files ({info['templated_modules']} router/helper modules: "
            f"{info['copies']} copies x {info['variants']} variants of the sample's api/ and services/), "
            f"{info['lines']:,} lines, in {time.perf_counter() - started:.1f}s -> {root}",
            flush=True,
        )
        if args.profile:
            profile(root, args.profile)
            return 0

        cli = cli_command()
        compile_tool()
        jobs_option = ["--jobs", str(args.jobs)] if args.jobs else []
        floor_cmd = [sys.executable, str(Path(__file__).resolve()), "--floor-child", str(root)]
        pooled_label = f"floor: parse+print, {jobs} processes"
        touched = root / "api" / "books_0000.py"
        edits = iter(range(1, 1_000_000))

        def cold() -> None:
            subprocess.run(cli + ["clean", str(root)], check=True, capture_output=True)

        def warm() -> None:  # one edited file, as between two commits
            with touched.open("a", encoding="utf-8") as stream:
                stream.write(f"\n# edited for the warm run {next(edits)}\n")

        def warm_changed() -> None:  # an edit the analysis sees (a new function): analysed anew
            with touched.open("a", encoding="utf-8") as stream:
                stream.write(f"\n\ndef edited_for_the_warm_run_{next(edits)}():\n    return None\n")

        def command(*args: str) -> list[str]:
            return cli + [args[0], str(root), *args[1:], *jobs_option]

        subsystem = ("--subsystem", "api/books_0000.py")
        few_root, few_count = (root, 0) if args.quick else settled_copy(root, cli)
        if few_count:
            print(f"settled copy: phase one applied, then {few_count} router modules restored -> {few_root}",
                  flush=True)

        def cold_few() -> None:
            subprocess.run(cli + ["clean", str(few_root)], check=True, capture_output=True)

        # (label, command, accepted exit codes, what to do before it, target ratio to the floor)
        rows: list[tuple[str, list[str], tuple[int, ...], object, float | None]] = [
            ("floor: parse+print, 1 process", floor_cmd + ["1"], (0,), None, None),
            (pooled_label, floor_cmd + [str(jobs)], (0,), None, None),
            ("check, cold", command("check"), (0, 1, 3), cold, 0.5),
            ("check, warm", command("check"), (0, 1, 3), warm, 0.1),
            ("check, warm, facts changed", command("check"), (0, 1, 3), warm_changed, None),
            ("scan, cold", command("scan"), (0, 3), cold, 0.5),
            ("scan, warm", command("scan"), (0, 3), warm, None),
            ("phase1 dry run, cold", command("phase1"), (0, 3), cold, 1.0),
            ("phase1 dry run, warm", command("phase1"), (0, 3), warm, 0.1),
            ("phase1 warm, facts changed", command("phase1"), (0, 3), warm_changed, None),
            ("phase1 --format json, cold", command("phase1", "--format", "json"), (0, 3), cold, None),
            ("phase1 dry run, cold, few change", cli + ["phase1", str(few_root), *jobs_option], (0, 3),
             cold_few, 0.5),
            ("phase2 one subsystem, cold", command("phase2", *subsystem), (0, 3), cold, 1.5),
            ("phase2 one subsystem, warm", command("phase2", *subsystem), (0, 3), warm, None),
        ]
        if args.quick:
            # Each warm run right after its cold run: a warm run needs that run's cache.
            wanted = (pooled_label, "check, cold", "check, warm", "phase1 dry run, cold", "phase1 dry run, warm")
            rows = [row for row in rows if row[0] in wanted]
        # Rounds interleave the commands, so a machine whose speed drifts during the
        # benchmark (shared hosts do) slows every command of a round alike.
        runs: dict[str, list[dict]] = {row[0]: [] for row in rows}
        for round_number in range(1, args.repeat + 1):
            for label, argv_, ok, before, _ in rows:
                if before is not None:
                    before()  # type: ignore[operator]
                run = check_run(argv_, measure(argv_), ok)
                runs[label].append(run)
                print(f"  round {round_number}: {label}: {run['wall']:.2f}s wall, {run['cpu']:.2f}s CPU", flush=True)
                if run["returncode"] == 3:
                    print(f"    (exit 3: some files failed) {run['stderr'][-400:]}")
        results = {label: best_of(label_runs) for label, label_runs in runs.items()}

        lines = info["lines"]
        print()
        header = f"{'run':<30} {'best s':>7} {'CPU s':>7} {'lines/s':>9} {'max RSS MB':>10} {'main MB':>8} " \
                 f"{'worker MB':>9} {'sum MB':>7} {'PSS MB':>7} {'runs (s)'}"
        print(header)
        print("-" * len(header))
        for label, run in results.items():
            print(
                f"{label:<30} {run['wall']:>7.2f} {run['cpu']:>7.2f} {lines / run['wall']:>9,.0f} "
                f"{_mb(run['maxrss_kb']):>10} {_mb(run['main_peak_kb']):>8} {_mb(run['worker_peak_kb']):>9} "
                f"{_mb(run['sum_peak_kb']):>7} {_mb(run['pss_peak_kb']):>7} {run['walls']}"
            )
        pooled = results[pooled_label]
        print()
        print(f"{'ratio to the all-cores floor':<30} {'wall':>6} {'CPU':>6} {'target':>7}  per round (wall)")
        ratios: dict[str, dict] = {}
        for label, _, _, _, target in rows:
            if label.startswith("floor"):
                continue
            paired = [run["wall"] / base["wall"] for run, base in zip(runs[label], runs[pooled_label])]
            ratios[label] = {
                "wall": results[label]["wall"] / pooled["wall"],
                "cpu": results[label]["cpu"] / pooled["cpu"],
                "paired": paired,
                "target": target,
            }
            mark = "" if target is None else ("  ok" if ratios[label]["wall"] <= target else "  MISSED")
            print(
                f"{label:<30} {ratios[label]['wall']:>6.2f} {ratios[label]['cpu']:>6.2f} "
                f"{'<= ' + format(target, 'g') if target is not None else '':>7}  "
                f"{', '.join(f'{r:.2f}' for r in paired)}{mark}"
            )
        if "floor: parse+print, 1 process" in results:
            single = results["floor: parse+print, 1 process"]["wall"]
            print(f"phase1 dry run, cold / 1-process floor = {results['phase1 dry run, cold']['wall'] / single:.2f}")
        ratio = ratios["phase1 dry run, cold"]["wall"]
        paired = ratios["phase1 dry run, cold"]["paired"]
        if args.json:
            args.json.write_text(json.dumps({"generated": info, "jobs": jobs, "results": results,
                                             "ratios": ratios, "ratio": ratio, "paired_ratios": paired},
                                            indent=2))
        return 0
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            shutil.rmtree(root.parent / (root.name + "-settled"), ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
