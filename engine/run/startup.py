"""What a run's processes pay before their first chunk, and two ways to
pay less (benchmarks/startup.py measures a warm 1-point run by phase).

- :func:`load_numba_arraymath`: numba's NumPy implementations without
  importing scipy.linalg (called before the first kernel call of the
  driver and of every worker).
- :func:`tune_malloc`: the command-line process's malloc as a worker's.
- :func:`pause_gc` / :func:`resume_gc`: the command-line process runs its
  start-up (numba, the kernels from numba's cache, zarr: about a million
  objects that live until the process ends) without the cyclic garbage
  collector, which would only walk them again and again; once the chunks
  start, what exists is frozen (``gc.freeze``: never collected, never
  walked again) and collection is back as usual. :func:`freeze_at_exit`:
  the same at the end of a command, so that the interpreter's own
  collections at exit do not walk it either. Measured on a warm 1-point
  synchronous run: about 0.6 s of its 1.7 s of CPU were the collector's.
  Only for a process that is the command (``coordsweep ...``), never for
  a caller of the API: frozen objects are not collected any more.
- :func:`exit_now`: the command's process (``run``, ``solve``) ends
  without the interpreter's teardown of its modules and objects.
"""
import gc
import os
import sys

_paused = False


def pause_gc():
    """No cyclic garbage collection until :func:`resume_gc`."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_gc():
    """After :func:`pause_gc`: freeze what exists and collect as usual from
    now on (nothing when the collector was not paused here)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def freeze_at_exit():
    """The command is done: its objects are left to the end of the process
    (no collection walks them at exit)."""
    resume_gc()
    gc.freeze()


def exit_now(code):
    """End the command's process now with exit code `code`: the exit
    functions run (atexit: logging's, dask's, ...) and the standard streams
    are flushed, but the interpreter does not tear down its modules and
    objects one by one (numba, llvmlite, zarr and the run's arrays: some
    0.03-0.07 s of a warm synchronous run here). Returns without exiting
    while a thread other than the main one and not a daemon still runs
    (the interpreter's own exit waits for it)."""
    import atexit
    import threading
    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # (a closed pipe, a closed stream)
            pass
    os._exit(code if isinstance(code, int) else 1)


#: glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def tune_malloc():
    """In this process, glibc malloc as a worker's (engine/run/cluster.py
    MALLOC_ENV: arrays up to 32 MiB from the heap, reused; freed heap kept
    up to 256 MiB) unless the environment sets either already. With the
    default (a threshold that starts at 128 KiB), every chunk's arrays are
    fresh mmaps, page-faulted in and unmapped again: on 2*10^6 points of
    benchmarks/grid_3sectors_1e7.toml, synchronous, 195,000 page faults
    against 52,000 and 15% of the wall time. Only for the command's own
    process (as the garbage collector above). True when set."""
    from coordsweep.engine.run.cluster import MALLOC_ENV
    if any(k in os.environ for k in MALLOC_ENV) or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, int(MALLOC_ENV["MALLOC_MMAP_THRESHOLD_"]))
        ok &= libc.mallopt(_M_TRIM_THRESHOLD, int(MALLOC_ENV["MALLOC_TRIM_THRESHOLD_"]))
    except (OSError, AttributeError, ValueError):  # not glibc
        return False
    return bool(ok)


def _scipy_blas_file():
    """Whether scipy's BLAS module (scipy/linalg/cython_blas.*) is
    installed: looked up on disk, not imported."""
    import glob
    import importlib.util
    try:
        spec = importlib.util.find_spec("scipy")
    except (ImportError, ValueError):
        return False
    for d in (spec.submodule_search_locations or ()) if spec is not None else ():
        if glob.glob(os.path.join(glob.escape(d), "linalg", "cython_blas.*")):
            return True
    return False


def load_numba_arraymath():
    """Import numba.np.arraymath (which numba imports at its first compile
    or cache load) without importing scipy.linalg. At import, arraymath
    checks once that BLAS is there for np.dot & co. by importing
    scipy.linalg.cython_blas: scipy.linalg and what it imports, about
    0.25 s of a warm 1-point run, in every process; the kernels use no
    BLAS. Here that check looks for the module's file instead; numba's
    own check is back in place at once, and runs (importing scipy.linalg)
    when a BLAS function is compiled. Nothing is done when arraymath or
    scipy.linalg is loaded already, or numba is not as expected."""
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    try:
        from numba.np import linalg
        real = linalg.ensure_blas
    except (ImportError, AttributeError):  # pragma: no cover - other numba versions
        return

    def check():
        if not _scipy_blas_file():
            real()  # numba's own check: its ImportError
    linalg.ensure_blas = check
    try:
        from numba.np import arraymath
    finally:
        linalg.ensure_blas = real
    if getattr(arraymath, "ensure_blas", None) is check:
        arraymath.ensure_blas = real
