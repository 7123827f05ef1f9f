"""Start-up: what each command imports, and the kernels' jit decorator
(one specialisation per function, the source stamp of numba's cache). No
timings: those are in benchmarks/startup.py."""
import json
import os
import subprocess
import sys

from coordsweep.kernels import jit as kjit
from specs import spec_text

CLI = [sys.executable, "-m", "coordsweep"]


def _modules_after(code, env=None):
    """sys.modules (names) after running `code` in a fresh interpreter."""
    prog = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


HEAVY = {"numba", "dask", "distributed", "xarray", "zarr", "scipy", "matplotlib", "SALib",
         "pandas"}


def test_import_and_help_import_no_heavy_package():
    for code in ("import coordsweep",
                 "from coordsweep.engine.cli import main\n"
                 "try:\n    main(['--help'])\nexcept SystemExit:\n    pass",
                 "from coordsweep.engine.cli import main\n"
                 "try:\n    main(['--version'])\nexcept SystemExit:\n    pass"):
        loaded = _modules_after(code)
        assert not HEAVY & loaded, (code, HEAVY & loaded)
    assert "importlib.metadata" not in _modules_after("import coordsweep")


def test_version_on_stdout():
    import coordsweep
    proc = subprocess.run([*CLI, "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"coordsweep {coordsweep.__version__}"
    assert coordsweep.__version__ and "__version__" in dir(coordsweep)


def test_kernel_tables_do_not_import_numba():
    loaded = _modules_after("from coordsweep.kernels.outputs import OUTPUTS\n"
                            "from coordsweep.kernels.codes import REGIME_NAMES\n"
                            "from coordsweep.kernels import params, solvers")
    assert "numba" not in loaded
    # and the package's names still resolve (lazily)
    from coordsweep import kernels
    from coordsweep.kernels import OUTPUTS, solve
    assert callable(solve) and OUTPUTS is kernels.outputs.OUTPUTS
    assert {"solve", "warmup", "REGIME_NAMES"} <= set(dir(kernels))


def test_synchronous_run_does_not_import_distributed(tmp_path):
    spec = tmp_path / "one.toml"
    spec.write_text(spec_text("one", [("a", {"price": 1.0, "productivity": 1.0,
                                             "externality": 0.5, "cost": 0.1})]))
    store = tmp_path / "one.zarr"
    loaded = _modules_after(
        "from coordsweep.engine.cli import main\n"
        f"assert main(['run', {str(spec)!r}, '--store', {str(store)!r}, "
        "'--scheduler', 'synchronous', '--quiet']) == 0")
    assert "distributed" not in loaded
    # the synchronous scheduler is a loop (no dask), numba's NumPy support
    # is loaded without scipy.linalg (engine/run/startup.py)
    assert "dask" not in loaded
    assert "scipy.linalg" not in loaded
    assert "numba" in loaded  # (it did solve)
    import xarray as xr
    ds = xr.open_zarr(store)
    assert int(ds.n_equilibria.values) >= 1


def test_warmup_command_and_api():
    from coordsweep import kernels
    from coordsweep.kernels import api
    seconds = kernels.warmup()
    assert set(seconds) == {"solve", "block", "equilibrium_masks", "ge_path"}
    assert all(s >= 0 for s in seconds.values())
    proc = subprocess.run([*CLI, "warmup"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("kernels ready in ")
    where = api.cache_dir()
    assert (where is None) == (not kjit.CACHE)
    if where is not None:
        assert where in proc.stdout and os.path.isdir(where)


def _cache_index(directory, stem, version, stamp, data_files=(1, 2)):
    """An index of numba's cache (numba's layout: its version, then the
    pickled (source stamp, overloads)) and data files beside it."""
    import pickle
    with open(directory / f"{stem}.nbi", "wb") as f:
        pickle.dump(version, f)
        f.write(pickle.dumps((stamp, {})))
    for k in data_files:
        (directory / f"{stem}.{k}.nbc").write_bytes(b"machine code")


def test_warmup_prunes_the_cache_entries_no_kernel_can_load(tmp_path):
    import numba

    from coordsweep.engine.cli.warmup import prune_cache
    _cache_index(tmp_path, "point.solve_block-470.py311", numba.__version__, kjit.TREE_STAMP)
    # stale: other kernel sources (a stem that the current one's starts
    # with, but for the dot), another numba, an index nobody can read
    _cache_index(tmp_path, "point.solve_block-47.py311", numba.__version__, "0" * 64)
    _cache_index(tmp_path, "sectors.dip_state-536.py311", "0.1.0", kjit.TREE_STAMP, (1,))
    (tmp_path / "prepare._stage1-39.py311.nbi").write_bytes(b"not a pickle")
    (tmp_path / "prepare._stage1-39.py311.1.nbc").write_bytes(b"machine code")
    (tmp_path / "notes.txt").write_text("not numba's")
    stale = {"point.solve_block-47.py311.nbi", "point.solve_block-47.py311.1.nbc",
             "point.solve_block-47.py311.2.nbc", "sectors.dip_state-536.py311.nbi",
             "sectors.dip_state-536.py311.1.nbc", "prepare._stage1-39.py311.nbi",
             "prepare._stage1-39.py311.1.nbc"}
    assert {os.path.basename(p) for p in kjit.stale_cache_files(str(tmp_path))} == stale
    size = sum((tmp_path / n).stat().st_size for n in stale)
    assert prune_cache(str(tmp_path)) == (len(stale), size)
    assert sorted(os.listdir(tmp_path)) == [
        "notes.txt", "point.solve_block-470.py311.1.nbc", "point.solve_block-470.py311.2.nbc",
        "point.solve_block-470.py311.nbi"]
    assert prune_cache(str(tmp_path)) == (0, 0)
    assert kjit.stale_cache_files(str(tmp_path / "missing")) == []


def test_the_kernels_own_cache_entries_are_not_stale():
    import pytest

    from coordsweep import kernels
    from coordsweep.kernels import api
    from coordsweep.kernels.point import solve_block
    if api.cache_dir() is None:
        pytest.skip("numba's on-disk cache is off")
    kernels.warmup()
    index = solve_block._cache._cache_file._index_path
    assert os.path.exists(index)
    stem = index[:-len("nbi")]  # (its data files: stem + "1.nbc", ...)
    stale = kjit.stale_cache_files(api.cache_dir())
    assert not any(p.startswith(stem) for p in stale)


#: in a fresh interpreter: the warm-up, then blocks of other points (other
#: seed, other N, eta = 0 and > 0, sub-blocks of a few points, solver
#: variants, the optional outputs); prints the machine-code specialisations
#: (function, signature) the blocks needed that the warm-up did not load
_AFTER_WARMUP = """
import gc, json
import numpy as np
from numba.core.dispatcher import Dispatcher
from coordsweep import kernels
from coordsweep.kernels import api
from coordsweep.kernels.codes import COORDINATION_FAILURE
from coordsweep.kernels.params import varied_points

def loaded():
    return {(d.py_func.__module__ + "." + d.py_func.__qualname__, str(sig))
            for d in gc.get_objects() if isinstance(d, Dispatcher) for sig in d.overloads}

kernels.warmup()
before = loaded()
api.QUEUE_ENTRIES = 40
rng = np.random.default_rng(11)
for n in (2, 4):
    for eta in (False, True):
        for solver in (None, "equilibria=brute", "equilibria=mitm", "path=newton",
                       "wage=brent"):
            out = kernels.solve(**varied_points(rng, 200, n, eta), solver=solver)
            assert (out["regime"] == COORDINATION_FAILURE).any()  # (coordination failures: the searches ran)
        kernels.solve(**varied_points(rng, 12, n, eta), equilibria=3, dynamics=2)
print(json.dumps(sorted(map(list, loaded() - before))))
"""


def test_warmup_loads_every_kernel_a_block_needs():
    # `coordsweep warmup` runs before many processes start, so that none
    # of them compiles into numba's cache beside another: the passes that
    # only some points need must be among what it loads
    proc = subprocess.run([sys.executable, "-c", _AFTER_WARMUP], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_kernel_dispatcher_one_non_literal_specialisation(monkeypatch):
    monkeypatch.setattr(kjit, "CACHE", False)

    @kjit.jit
    def callee(x, k, flag):
        return x * k if flag else x + k

    @kjit.jit
    def caller(x):
        return callee(x, 0, True) + callee(x, 1, False) + callee(x, 2, True)

    assert caller(3.0) == 0.0 + 4.0 + 6.0
    if kjit._KernelDispatcher is None:  # pragma: no cover - another numba
        return
    assert isinstance(caller, kjit._KernelDispatcher)
    assert len(callee.signatures) == 1
    assert [str(t) for t in callee.signatures[0]] == ["float64", "int64", "bool"]


CALLEE_MODULE = """
import numpy as np
from coordsweep.kernels.jit import jit

@jit
def g(x, k):
    return np.exp(-k * x) + x ** 1.25

@jit
def f(xs):
    s = 0.0
    for i in range(xs.shape[0]):
        s += np.log(g(xs[i], 0.5) + g(xs[i], 3))
    return s
"""


def _run_module(tmp_path, body, env, pre=""):
    (tmp_path / "stampmod.py").write_text(CALLEE_MODULE)
    prog = ("import sys, json\nsys.path.insert(0, %r)\n" % str(tmp_path) + pre
            + "import stampmod\n" + body)
    proc = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cache_stamp_invalidates_on_a_kernel_edit(tmp_path):
    """numba's cache serves a kernel again only while the kernels' sources
    (their stamp) are unchanged: a fresh process loads it, a changed stamp
    (an edit in kernels/) recompiles."""
    cache = tmp_path / "numba-cache"
    env = {"NUMBA_CACHE_DIR": str(cache), "COORDSWEEP_NUMBA_CACHE": "1"}
    body = ("import numpy as np\n"
            "r = stampmod.f(np.linspace(0, 1, 5))\n"
            "st = stampmod.f.stats\n"
            "print(json.dumps([r, len(st.cache_hits), len(st.cache_misses)]))")
    first = _run_module(tmp_path, body, env)
    again = _run_module(tmp_path, body, env)
    # (the stamp is read when a kernel module is imported, as after an edit)
    edited = _run_module(tmp_path, body, env, pre="import coordsweep.kernels.jit as J\n"
                         "J.TREE_STAMP = 'an edit'\n")
    assert first[1:] == [0, 1]    # compiled
    assert again[1:] == [1, 0]    # loaded from the cache
    assert edited[1:] == [0, 1]   # the stamp changed: compiled again
    assert first[0] == again[0] == edited[0]


def test_numba_blas_check_without_importing_scipy_linalg():
    """numba's arraymath loaded the start-up's way: numba still finds BLAS
    (it is installed with scipy), its own check is back in place, and a
    jitted np.dot compiles and runs (importing scipy.linalg only then)."""
    prog = """
import sys, json
from coordsweep.engine.run import startup
startup.load_numba_arraymath()
before = "scipy.linalg" in sys.modules
from numba.np import arraymath, linalg
import numba, numpy as np
restored = arraymath.ensure_blas is linalg.ensure_blas and linalg.ensure_blas.__module__ == "numba.np.linalg"
@numba.njit
def dot(a, b):
    return np.dot(a, b)
value = dot(np.arange(3.0), np.arange(3.0))
print(json.dumps([before, arraymath._HAVE_BLAS, restored, value, "scipy.linalg" in sys.modules]))
"""
    proc = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    before, have_blas, restored, value, after = json.loads(proc.stdout.strip().splitlines()[-1])
    assert before is False
    assert have_blas is True and restored is True
    assert value == 0.0 + 1.0 + 4.0
    assert after is True


def test_blas_file_lookup_agrees_with_the_import():
    import importlib.util
    from coordsweep.engine.run import startup
    assert startup._scipy_blas_file() == (importlib.util.find_spec("scipy.linalg.cython_blas")
                                          is not None)


def test_garbage_collector_paused_only_for_the_command_process(tmp_path):
    """`coordsweep run` as a process: no collection during its start-up,
    its objects frozen once the chunks start; main(argv) called from Python
    (the tests, a notebook) leaves the collector alone."""
    import gc
    spec = tmp_path / "one.toml"
    spec.write_text(spec_text("one", [("a", {"price": 1.0, "productivity": 1.0,
                                             "externality": 0.5, "cost": 0.1})]))
    from coordsweep.engine.run import startup
    prog = (
        "import gc, json, sys\n"
        "from coordsweep.engine.run import runner, startup\n"
        "orig = startup.resume_gc\n"
        "seen = []\n"
        "def spy():\n"
        "    seen.append([gc.isenabled(), gc.get_freeze_count() > 0])\n"
        "    orig()\n"
        "    seen.append([gc.isenabled(), gc.get_freeze_count() > 0])\n"
        "startup.resume_gc = spy\n"
        "from coordsweep.engine.cli import main\n"
        f"sys.argv = ['coordsweep', 'run', {str(spec)!r}, '--store', "
        f"{str(tmp_path / 'p.zarr')!r}, '--scheduler', 'synchronous', '--quiet']\n"
        "import atexit\n"   # (the command's process ends in main: startup.exit_now)
        "atexit.register(lambda: print(json.dumps([seen, gc.isenabled()])))\n"
        "main()\n"
        "print('main returned')\n")
    proc = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "main returned" not in proc.stdout
    seen, enabled = json.loads(proc.stdout.strip().splitlines()[-1])
    # paused through the start-up, then frozen and collecting again
    assert seen[0] == [False, False]
    assert seen[1] == [True, True]
    assert enabled is True
    # in this process: main(argv) touches neither
    frozen = gc.get_freeze_count()
    from coordsweep.engine.cli import main
    assert main(["run", str(spec), "--store", str(tmp_path / "i.zarr"), "--scheduler",
                 "synchronous", "--quiet"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    assert startup._paused is False


def test_malloc_tuned_in_the_command_process_unless_the_environment_says():
    """tune_malloc sets glibc's thresholds as a worker's (returns True on
    glibc), and leaves them alone when the environment sets either."""
    import platform
    from coordsweep.engine.run.cluster import MALLOC_ENV
    prog = ("from coordsweep.engine.run import startup\n"
            "print(startup.tune_malloc())")
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                         env=env, check=True).stdout.split()
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert out == [str(glibc)]
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                         env={**env, "MALLOC_TRIM_THRESHOLD_": "65536"}, check=True).stdout.split()
    assert out == ["False"]


def test_exit_now_runs_the_exit_functions_and_flushes():
    """startup.exit_now: the process ends with the code given, after its
    exit functions ran and with everything written to its streams; while
    a thread that is not a daemon runs it returns (the interpreter's exit
    waits for that thread)."""
    prog = ("import atexit, sys\n"
            "from coordsweep.engine.run import startup\n"
            "atexit.register(lambda: print('exit function ran'))\n"
            "sys.stdout.write('x' * 200000)\n"
            "sys.stderr.write('y' * 1000)\n"
            "startup.exit_now(3)\n"
            "print('not ended')\n")
    proc = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "x" * 200000 + "exit function ran\n"
    assert proc.stderr == "y" * 1000
    prog = ("import threading\n"
            "from coordsweep.engine.run import startup\n"
            "go = threading.Event()\n"
            "t = threading.Thread(target=go.wait)\n"
            "t.start()\n"
            "startup.exit_now(3)\n"
            "print('returned')\n"
            "go.set()\n")
    proc = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "returned\n"
