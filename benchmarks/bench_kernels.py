"""Kernel throughput: microseconds per point of ``kernels.solve``, by number
of sectors, with eta = 0 (closed-form wage) and eta > 0 (root finder).

Baseline, measured in the same run on the same points: the pure-Python
reference of the tests (tests/reference.py: bisection, brute force, dense
scans) on a sample of them. The report gives the kernels' speed-up over it.

    python benchmarks/bench_kernels.py [--points 20000] [--ref-points 20]
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from coordsweep import kernels  # noqa: E402
from coordsweep.engine.bench import draw  # noqa: E402
from reference import reference_solve  # noqa: E402


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20_000)
    ap.add_argument("--ref-points", type=int, default=20)
    ap.add_argument("--sectors", type=int, nargs="+", default=[2, 5, 8])
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    print(f"{'N':>3} {'eta':>5} {'kernel us/pt':>13} {'reference us/pt':>16} {'speed-up':>9}")
    for n in args.sectors:
        for eta in (False, True):
            p = draw(rng, args.points, n, eta)
            kernels.solve(**{k: v[:2] for k, v in p.items()})  # compile / load cache
            tk = best_of(lambda: kernels.solve(**p), 3) / args.points
            m = args.ref_points
            t = time.perf_counter()
            for j in range(m):
                reference_solve(**{k: v[j] for k, v in p.items()})
            tr = (time.perf_counter() - t) / m
            print(f"{n:>3} {('> 0' if eta else '0'):>5} {tk * 1e6:>13.1f} {tr * 1e6:>16.0f} "
                  f"{tr / tk:>8.0f}x")


if __name__ == "__main__":
    main()
