"""Kernel, C baseline and `coordsweep run` end to end on one spec's grid.

    python benchmarks/grid_vs_c.py [benchmarks/grid_3sectors.toml] [--points N] [--repeats 3] [--no-run] [--default-malloc]

In this process, on the grid's points (the first --points of them when
given: then the end-to-end ratios compare different points, and points
further into a grid can cost more; blocks of
50,000 built by the engine's Spec.block, building timed separately):
the kernels (default solver, in process, compile excluded) and the C
implementation of engine/run/baselines/coordsweep.c (compiled with cc -O3
-march=native), alternately, each the median of --repeats passes timed in
process CPU time (both run on this thread; waiting for a core on a shared
machine does not count; the wall-time rates too), with their agreement. Then the whole grid
through `coordsweep run --scheduler synchronous` (a fresh process, into a
temporary store), whose summary gives its points/s overall and while
computing, compared with the kernel's and the C's wall-time rates. Prints
points/s and the ratios. This process uses the
engine's malloc settings (engine/run/startup.py ``tune_malloc``, as the
`coordsweep` process does; --default-malloc: glibc's defaults), for the
kernel and the C alike.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


from coordsweep import kernels  # noqa: E402
from coordsweep.engine.run.baselines import c_baseline  # noqa: E402
from coordsweep.engine.spec.model import load_spec  # noqa: E402

BLOCK = 50_000


def compared(out):
    """The outputs the agreement compares, copied: a pass keeps no block's
    whole outputs (some 1 GB over 4*10^6 points, allocated afresh in every
    pass while the last pass's were still held: the kernel's passes then
    ranged from 0.85 to 2.4 million points a second, against 2.18 to 2.29
    with only these kept)."""
    return out["n_equilibria"].copy(), out["regime"].copy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", nargs="?", default=os.path.join(HERE, "grid_3sectors.toml"))
    ap.add_argument("--points", type=int, default=None,
                    help="kernel and C on the first N points only (default: the whole grid)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-run", action="store_true", help="skip the end-to-end run")
    ap.add_argument("--default-malloc", action="store_true",
                    help="glibc's default malloc settings, not the engine's (both sides)")
    args = ap.parse_args()
    if not args.default_malloc:
        from coordsweep.engine.run import startup
        startup.tune_malloc()
    spec = load_spec(args.spec)
    npts = spec.size if args.points is None else min(args.points, spec.size)
    t = time.perf_counter()
    blocks = [spec.block(s, min(s + BLOCK, npts)) for s in range(0, npts, BLOCK)]
    build = time.perf_counter() - t
    kernels.solve(**blocks[0])  # (compiles for the sub-blocks' views too)
    with tempfile.TemporaryDirectory() as d:
        lib, csec, _, cver = c_baseline.build(d)
        tk, tc, wk, wc = [], [], [], []
        for _ in range(args.repeats):
            t, w = time.process_time(), time.perf_counter()
            kout = [compared(kernels.solve(**b)) for b in blocks]
            tk.append(time.process_time() - t)
            wk.append(time.perf_counter() - w)
            t, w = time.process_time(), time.perf_counter()
            cout = [compared(c_baseline.solve_block(lib, b)) for b in blocks]
            tc.append(time.process_time() - t)
            wc.append(time.perf_counter() - w)
    same_eq = np.mean(np.concatenate([k[0] == c[0] for k, c in zip(kout, cout)]))
    same_reg = np.mean(np.concatenate([(k[1] == c[1]).ravel() for k, c in zip(kout, cout)]))
    rk, rc = npts / statistics.median(tk), npts / statistics.median(tc)
    # the end-to-end run is timed on the wall: compared with wall-time rates
    wrk, wrc = npts / statistics.median(wk), npts / statistics.median(wc)
    print(f"grid {args.spec}: {spec.size:,} points; kernel and C on the first {npts:,}")
    print(f"  building the blocks   {npts / build:14,.0f} points/s")
    print(f"  kernel, in process    {rk:14,.0f} points/s  (median of {args.repeats}: "
          f"{', '.join(f'{npts / x:,.0f}' for x in tk)})")
    print(f"  C -O3 -march=native   {rc:14,.0f} points/s  (median of {args.repeats}: "
          f"{', '.join(f'{npts / x:,.0f}' for x in tc)}; {cver}, compile {csec:.2f} s)")
    print(f"  kernel / C            {rk / rc:14.2f}  (CPU time; wall time: "
          f"{wrk:,.0f} / {wrc:,.0f} points/s = {wrk / wrc:.2f})")
    print(f"  agreement             n_equilibria {same_eq:.6f}, regime {same_reg:.6f}")
    if args.no_run:
        return
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(os.path.dirname(sys.executable), "coordsweep")
        t = time.perf_counter()
        proc = subprocess.run([exe, "run", args.spec, "--store", os.path.join(d, "g.zarr"),
                               "--scheduler", "synchronous", "--quiet"],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    m = re.search(r"points/s\s+([\d,]+) overall, ([\d,]+) while computing", proc.stdout)
    overall, computing = (float(g.replace(",", "")) for g in m.groups())
    print(f"  coordsweep run --scheduler synchronous, {spec.size:,} points, wall {wall:.1f} s:")
    print(f"    {overall:14,.0f} points/s overall ({overall / wrk:.2f}x kernel, "
          f"{overall / wrc:.2f}x C, wall time)")
    print(f"    {computing:14,.0f} points/s while computing ({computing / wrk:.2f}x kernel, "
          f"{computing / wrc:.2f}x C, wall time)")


if __name__ == "__main__":
    main()
