"""Start-up and compile time of coordsweep, measured in fresh processes.

    python benchmarks/startup.py warm   [--repeats 5]   # commands, warm numba cache
    python benchmarks/startup.py phases [--repeats 3]   # a warm 1-point run, by phase
    python benchmarks/startup.py cold                   # compile time, empty cache
    python benchmarks/startup.py all    [--json out.json]
    python benchmarks/startup.py warm --scheduler synchronous --runs-only  # one command

``warm``: wall time (median of repeats, each a fresh process) of
``python -c "import coordsweep"``, ``coordsweep --version``, ``coordsweep
--help``, and a 1-point ``coordsweep run`` with ``--scheduler synchronous``
and with the default local cluster, after one untimed run that fills the
cache.

``phases``: the synchronous (and local-cluster) 1-point run of ``warm``
broken into phases, timed inside the process by wrapping the runner's
steps (each phase includes the imports it triggers): interpreter start
and exit, imports (CLI and runner), spec parse, kernel cache load (the
runner's one-process warm-up of the kernels), cluster start/stop, store
create, compute, summary. ``python -X importtime`` of the same run gives the
packages that cost most to import.

``cold``: numba's cache pointed at a fresh empty directory
(``NUMBA_CACHE_DIR``; kernels/jit.py stamps every entry with a hash of the
kernel sources, so a cache only ever serves the sources that wrote it):
in ONE fresh process, the first call of each entry point one after the
other (the first pays the compile, the others show what each adds: a new
specialisation or nothing), then the same from a second process with the
cache this one wrote (cache load only); and a cold 1-point ``coordsweep
run --scheduler synchronous``.

Every measurement is a fresh process; ``--cache-dir`` (default: a
temporary directory, filled by the first untimed run) keeps the user's
own cache out of it. The machine is shared: use medians, compare runs
made close together.
"""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE_POINT_SPEC = """\
name = "startup one point"
[model]
labor = 1.0
labor_share = 0.6
[[model.sectors]]
name = "agro"
price = 1.0
productivity = 1.2
externality = 0.3
cost = 0.15
[[model.sectors]]
name = "manu"
price = 1.0
productivity = 1.0
externality = 0.8
cost = 0.15
"""

#: entry points of the cold measurement: (label, code run in the child)
ENTRIES = [
    ("solve eta=0 N=3", "solve(3, 0.0)"),
    ("solve eta>0 N=3", "solve(3, 0.2)"),
    ("solve eta=0 N=8", "solve(8, 0.0)"),
    ("solve eta>0 N=12", "solve(12, 0.2)"),
    ("solve wage=brent", "solve(3, 0.2, 'wage=brent')"),
    ("solve wage=bisect", "solve(3, 0.2, 'wage=bisect')"),
    ("solve equilibria=brute", "solve(3, 0.0, 'equilibria=brute')"),
    ("solve equilibria=mitm", "solve(3, 0.0, 'equilibria=mitm')"),
    ("solve path=bisect", "solve(3, 0.0, 'path=bisect')"),
    ("solve_point", "point(3, 0.0)"),
    ("equilibrium_masks", "masks(3)"),
    ("ge_path", "path(3)"),
    ("warmup (all of the above)", "warmup()"),
]

CHILD_ENTRIES = r'''
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from coordsweep import kernels
t_import = time.perf_counter() - t0

def block(n, eta, npts=4):
    rng = np.random.default_rng(n)
    return dict(labor=np.ones(npts), labor_share=np.full(npts, 0.6),
                price=np.ones((npts, n)), productivity=rng.uniform(0.8, 1.2, (npts, n)),
                externality=rng.uniform(0.2, 0.9, (npts, n)), cost=np.full((npts, n), 0.15),
                scale=np.full((npts, n), eta))

def one(n, eta):
    return {k: v[0] for k, v in block(n, eta, 1).items()}

def solve(n, eta, solver=None):
    kernels.solve(**block(n, eta), solver=solver)

def point(n, eta):
    kernels.solve_point(**one(n, eta))

def masks(n):
    kernels.equilibrium_masks(**one(n, 0.0))

def warmup():
    if hasattr(kernels, "warmup"):
        kernels.warmup()

def path(n):
    kernels.ge_path(**one(n, 0.0), sector=0, s=np.linspace(0, 1, 5))

out = {"import": t_import, "entries": []}
for label, code in json.loads(sys.argv[1]):
    t = time.perf_counter()
    eval(code)
    out["entries"].append([label, time.perf_counter() - t])
print(json.dumps(out))
'''

#: the phases of a run: (label, module, attribute); each wraps the call
#: (labels indented: a part of the phase above, not counted twice)
PHASES = [
    ("spec parse", "coordsweep.engine.spec.model", "load_spec"),
    ("plan store", "coordsweep.engine.run.runner", "make_plan"),
    ("kernel cache load", "coordsweep.engine.run.runner", "warm_kernels"),
    ("cluster start", "coordsweep.engine.run.cluster", "open_client"),
    ("gc resumed (freeze)", "coordsweep.engine.run.startup", "resume_gc"),
    ("store create", "coordsweep.engine.store.zarrstore", "create"),
    ("  of which versions", "coordsweep.engine.store.zarrstore", "versions"),
    ("  of which zarr writes", "coordsweep.engine.store.zarrstore", "_write_template"),
    ("compute", "coordsweep.engine.run.executors", "InProcess.run"),
    ("compute", "coordsweep.engine.run.executors", "Distributed.run"),
    ("finalize", "coordsweep.engine.store.zarrstore", "finalize"),
    ("open result", "coordsweep.engine.store.zarrstore", "open_dataset"),
    ("summary", "coordsweep.engine.analysis.results", "summary"),
]

CHILD_PHASES = r'''
import contextlib, importlib, json, sys, time
T0 = time.perf_counter()
spent = {}
def add(label, t):
    spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
t = time.perf_counter()
from coordsweep.engine import cli  # noqa: F401 - its import time is measured
from coordsweep.engine.run import runner  # what `coordsweep run` imports first
add("import (cli, runner)", t)
missing = []
for label, modname, attr in json.loads(sys.argv[1]):
    mod = importlib.import_module(modname)
    for name in attr.split(".")[:-1]:  # a method: "Class.method"
        mod = getattr(mod, name)
    attr = attr.rsplit(".", 1)[-1]
    orig = getattr(mod, attr, None)
    if orig is None:
        missing.append(f"{modname}.{attr}")
        continue
    if label == "cluster start":
        def wrapped(*a, _orig=orig, **k):
            @contextlib.contextmanager
            def cm():
                t = time.perf_counter()
                inner = _orig(*a, **k)
                value = inner.__enter__()
                add("cluster start", t)
                try:
                    yield value
                except BaseException:
                    if not inner.__exit__(*sys.exc_info()):
                        raise
                else:
                    t = time.perf_counter()
                    inner.__exit__(None, None, None)
                    add("cluster stop", t)
            return cm()
    else:
        def wrapped(*a, _orig=orig, _label=label, **k):
            t = time.perf_counter()
            try:
                return _orig(*a, **k)
            finally:
                add(_label, t)
    setattr(mod, attr, wrapped)
    # modules that imported the name directly
    for other in ("coordsweep.engine.run.runner", "coordsweep.engine.cli"):
        m = sys.modules.get(other)
        if m is not None and getattr(m, attr, None) is orig:
            setattr(m, attr, wrapped)
reported = []
def report(rc):
    if not reported:
        reported.append(rc)
        total = time.perf_counter() - T0
        print(json.dumps({"rc": rc, "in_process": total, "phases": spent,
                          "missing": missing}), file=sys.stderr)
# a `run` ends its process in startup.exit_now (os._exit once the exit
# functions ran): report there, or where cli.main returns
from coordsweep.engine.run import startup
_exit_now = startup.exit_now
def exit_now(code):
    report(code)
    _exit_now(code)
startup.exit_now = exit_now
sys.argv = ["coordsweep", *sys.argv[2:]]
report(cli.main())  # as the process's command (engine/cli: argv None)
'''


def _env(cache_dir, **extra):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONWARNINGS="ignore")
    env.pop("COORDSWEEP_NUMBA_CACHE", None)
    env.update(extra)
    return env


def _cli():
    """The installed `coordsweep` entry point next to this interpreter."""
    exe = Path(sys.executable).parent / "coordsweep"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "coordsweep"]


def _cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(cmd, env, check=True):
    """(wall s, process): run cmd in a fresh process. proc.cpu: its CPU
    seconds (user + system, its children included: less sensitive than
    wall time to other work on a shared machine)."""
    c = _cpu_children()
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    proc.cpu = _cpu_children() - c
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall, proc


def _run_cmd(work, scheduler):
    cmd = [*_cli(), "run", str(work / "one.toml"), "--store", str(work / f"{scheduler}.zarr"),
           "--overwrite", "--quiet"]
    return cmd + (["--scheduler", scheduler] if scheduler != "local" else [])


def _setup(work):
    (work / "one.toml").write_text(ONE_POINT_SPEC)


def warm(work, cache_dir, repeats, log, schedulers=("synchronous", "local"), runs_only=False):
    """{label: (median s, [s...])} of fresh-process commands, warm cache."""
    env = _env(cache_dir)
    _timed(_run_cmd(work, "synchronous"), env)  # fill the cache (untimed)
    cmds = [] if runs_only else [
        ("python -c 'import coordsweep'", [sys.executable, "-c", "import coordsweep"]),
        ("coordsweep --version", [*_cli(), "--version"]),
        ("coordsweep --help", [*_cli(), "--help"]),
    ]
    names = {"synchronous": "synchronous", "local": "local cluster"}
    cmds += [(f"coordsweep run (1 point, {names[s]})", _run_cmd(work, s)) for s in schedulers]
    out = {}
    for label, cmd in cmds:
        runs = [_timed(cmd, env) for _ in range(repeats)]
        times = [w for w, _ in runs]
        cpu = statistics.median(p.cpu for _, p in runs)
        out[label] = {"wall": statistics.median(times), "walls": times, "cpu": cpu}
        log(f"  {label:42s} {statistics.median(times):6.2f} s wall, {cpu:6.2f} s CPU  "
            f"(medians of {repeats}; walls {', '.join(f'{x:.2f}' for x in times)})")
    return out


def _importtime(stderr, top=12):
    """The slowest top-level imports of `python -X importtime` output."""
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)", line)
        if m and len(m.group(3)) <= 1:
            rows.append((int(m.group(2)) / 1e6, m.group(4)))
    return sorted(rows, reverse=True)[:top]


def phases(work, cache_dir, repeats, log, schedulers=("synchronous", "local")):
    env = _env(cache_dir)
    _timed(_run_cmd(work, "synchronous"), env)  # fill the cache (untimed)
    out = {}
    for sched in schedulers:
        argv = _run_cmd(work, sched)[len(_cli()):]
        runs = []
        for _ in range(repeats):
            wall, proc = _timed([sys.executable, "-c", CHILD_PHASES, json.dumps(PHASES), *argv],
                                env)
            rec = json.loads(proc.stderr.strip().splitlines()[-1])
            rec["wall"], rec["cpu"] = wall, proc.cpu
            runs.append(rec)
        order = ["import (cli, runner)"] + list(dict.fromkeys(lab for lab, _, _ in PHASES))
        order.insert(order.index("compute") + 1, "cluster stop")
        seen = {lab for r in runs for lab in r["phases"]}
        labels = ["interpreter start and exit", *[lab for lab in order if lab in seen], "other"]
        med = {}
        for lab in labels:
            vals = []
            for r in runs:
                if lab == "interpreter start and exit":
                    vals.append(r["wall"] - r["in_process"])
                elif lab == "other":
                    vals.append(r["in_process"] - sum(v for k, v in r["phases"].items()
                                                      if not k.startswith(" ")))
                else:
                    vals.append(r["phases"].get(lab, 0.0))
            med[lab] = statistics.median(vals)
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        _, proc = _timed([sys.executable, "-X", "importtime", "-c", CHILD_PHASES,
                          json.dumps(PHASES), *argv], env)
        imports = _importtime(proc.stderr)
        out[sched] = {"wall": wall, "cpu": cpu, "phases": med, "imports": imports,
                      "missing": runs[0]["missing"]}
        log(f"  1-point run, {sched}: {wall:.2f} s wall, {cpu:.2f} s CPU "
            f"(medians of {repeats}; phases: wall)")
        for lab, v in med.items():
            log(f"    {lab:26s} {v:6.3f} s")
        log("    slowest top-level imports (python -X importtime, cumulative):")
        for s, name in imports:
            log(f"      {s:6.3f} s  {name}")
        if runs[0]["missing"]:
            log(f"    (not found, not timed: {', '.join(runs[0]['missing'])})")
    return out


def cold(work, log, entries=ENTRIES, cli=True):
    """Compile times with an empty numba cache (fresh processes)."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="coordsweep-cold-") as cache:
        env = _env(cache)
        code = json.dumps([list(e) for e in entries])
        for label in ("empty cache", "cache written by the first process"):
            wall, proc = _timed([sys.executable, "-c", CHILD_ENTRIES, code], env)
            rec = json.loads(proc.stdout.strip().splitlines()[-1])
            rec["wall"], rec["cpu"] = wall, proc.cpu
            out[label] = rec
            log(f"  one process, {label}: {wall:.1f} s wall, {proc.cpu:.1f} s CPU "
                f"(import {rec['import']:.2f} s)")
            for lab, s in rec["entries"]:
                log(f"    first {lab:28s} {s:7.2f} s")
    if cli:
        with tempfile.TemporaryDirectory(prefix="coordsweep-cold-") as cache:
            wall, proc = _timed(_run_cmd(work, "synchronous"), _env(cache))
            out["coordsweep run (1 point, synchronous), empty cache"] = {"wall": wall,
                                                                         "cpu": proc.cpu}
            log(f"  coordsweep run (1 point, synchronous), empty cache: {wall:.1f} s wall, "
                f"{proc.cpu:.1f} s CPU")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("warm", "phases", "cold", "all"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cache-dir", help="numba cache of the warm measurements "
                    "(default: a temporary directory, filled first)")
    ap.add_argument("--no-cli-cold", action="store_true",
                    help="cold: skip the cold `coordsweep run`")
    ap.add_argument("--scheduler", choices=("synchronous", "local"), action="append",
                    help="warm/phases: only the 1-point run with this scheduler "
                    "(repeatable; default both)")
    ap.add_argument("--runs-only", action="store_true",
                    help="warm: only the 1-point runs (not import/--version/--help)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, flush=True)

    schedulers = tuple(args.scheduler or ("synchronous", "local"))
    res = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
           "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    with tempfile.TemporaryDirectory(prefix="coordsweep-startup-") as tmp:
        work = Path(tmp)
        _setup(work)
        cache = Path(args.cache_dir) if args.cache_dir else work / "numba-cache"
        cache.mkdir(parents=True, exist_ok=True)
        if args.what in ("warm", "all"):
            log("warm cache, fresh processes:")
            res["warm"] = warm(work, cache, args.repeats, log, schedulers, args.runs_only)
        if args.what in ("phases", "all"):
            log("warm 1-point run by phase:")
            res["phases"] = phases(work, cache, max(1, min(args.repeats, 3)), log, schedulers)
        if args.what in ("cold", "all"):
            log("cold compile (empty numba cache):")
            res["cold"] = cold(work, log, cli=not args.no_cli_cold)
        if not args.cache_dir:
            shutil.rmtree(cache, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
