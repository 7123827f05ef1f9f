"""Kernel throughput against the C baseline: points/s of ``kernels.solve``
and of engine/run/baselines/coordsweep.c (the same per-point algorithm, compiled
with cc -O3 -march=native) on the same random points, by number of sectors,
with eta = 0 (closed-form wage) and eta > 0 (root finder).

Kernel and C passes are interleaved (the machine is shared and noisy),
timed in process CPU time (time.process_time: waiting for a core on a
shared machine does not count; both run on this thread), and each reported
rate is the median of --repeats passes. Each timed pass follows an untimed
pass of the same side over the same points, as a sweep's chunks follow
each other: on this project's machine a kernel pass that follows some
50 ms of other work (the C's pass, a sleep, or a Python loop that touches
little memory) takes about 0.1 µs a point more (10-15% at N = 3), the C's
pass no more (its working set is a point's; the kernel's is a block's
arrays). --cold: no untimed passes. The process uses the engine's
malloc settings (engine/run/startup.py ``tune_malloc``, as `coordsweep`
and its workers do: the outputs' arrays of both sides come from the heap,
not from fresh page-faulted mmaps; --default-malloc: glibc's defaults).
Optionally the
pure-Python reference of the tests (tests/reference.py) on a sample of the
points (--ref-points, 0 by default).

    python benchmarks/bench_kernels.py [--points 50000] [--sectors 3 8] [--repeats 5]
        [--solver path=newton] [--old-c old.c] [--ref-points 20] [--default-malloc]

--old-c times another version of the C source too (e.g. the one before a
change: git show main:engine/run/baselines/coordsweep.c > old.c), interleaved.
"""
import argparse
import statistics
import tempfile
import time

import numpy as np

from coordsweep import kernels
from coordsweep.engine.run.baselines import c_baseline
from coordsweep.engine.run.benchvariants import draw


def timed(fn):
    t = time.process_time()
    out = fn()
    return time.process_time() - t, out


def warm_timed(fn, cold=False):
    """timed(fn), after an untimed call of fn unless cold."""
    if not cold:
        fn()
    return timed(fn)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sectors", type=int, nargs="+", default=[3, 8])
    ap.add_argument("--solver", default=None, help="kernel solver, e.g. path=newton")
    ap.add_argument("--ref-points", type=int, default=0)
    ap.add_argument("--old-c", default=None, help="another version of coordsweep.c")
    ap.add_argument("--default-malloc", action="store_true",
                    help="glibc's default malloc settings, not the engine's (both sides)")
    ap.add_argument("--cold", action="store_true",
                    help="no untimed pass of the same side before each timed pass")
    args = ap.parse_args()
    if not args.default_malloc:
        from coordsweep.engine.run import startup
        startup.tune_malloc()
    rng = np.random.default_rng(1)
    print(f"{'N':>3} {'eta':>5} {'kernel pts/s':>13} {'C pts/s':>11} {'kernel/C':>9}"
          + (f" {'old C':>11} {'kernel/oldC':>12}" if args.old_c else "")
          + f" {'same n_eq':>10} {'same regime':>12}"
          + (f" {'ref us/pt':>10}" if args.ref_points else ""))
    with tempfile.TemporaryDirectory() as d:
        lib = c_baseline.build(d)[0]
        old = c_baseline.build(d, args.old_c, "old_c")[0] if args.old_c else None
        for n in args.sectors:
            for eta in (False, True):
                p = draw(rng, args.points, n, eta)
                kernels.solve(**p, solver=args.solver)  # (compile, sub-blocks' views too)
                tk, tc, to = [], [], []
                kernel = lambda: kernels.solve(**p, solver=args.solver)  # noqa: E731
                c_pass = lambda: c_baseline.solve_block(lib, p)  # noqa: E731
                for _ in range(args.repeats):
                    if old is not None:
                        to.append(warm_timed(lambda: c_baseline.solve_block(old, p),
                                             args.cold)[0])
                    t, kout = warm_timed(kernel, args.cold)
                    tk.append(t)
                    t, cout = warm_timed(c_pass, args.cold)
                    tc.append(t)
                rk = args.points / statistics.median(tk)
                rc = args.points / statistics.median(tc)
                same_eq = np.mean(kout["n_equilibria"] == cout["n_equilibria"])
                same_reg = np.mean(kout["regime"] == cout["regime"])
                line = (f"{n:>3} {('> 0' if eta else '0'):>5} {rk:>13,.0f} {rc:>11,.0f}"
                        f" {rk / rc:>9.2f}")
                if old is not None:
                    ro = args.points / statistics.median(to)
                    line += f" {ro:>11,.0f} {rk / ro:>12.2f}"
                line += f" {same_eq:>10.6f} {same_reg:>12.6f}"
                if args.ref_points:
                    from reference import reference_solve
                    m = args.ref_points
                    t = time.perf_counter()
                    for j in range(m):
                        reference_solve(**{k: v[j] for k, v in p.items()})
                    line += f" {(time.perf_counter() - t) / m * 1e6:>10.0f}"
                print(line, flush=True)


if __name__ == "__main__":
    main()
