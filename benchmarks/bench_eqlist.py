"""The equilibrium list's cost (``[outputs] equilibria = K``): seconds a
point of the list pass (kernels.solve(..., equilibria=K) minus
kernels.solve(...) on the same block, best of --repeat, interleaved), on
the benchmark draw of engine/run/benchvariants.py (``draw_points``: alpha
0.5..0.75, costs across the regimes), one core; and the slowest single
point of the draw (each point solved alone, with and without the list).

    python benchmarks/bench_eqlist.py                 # N = 24, K = 16, eta = 0
    python benchmarks/bench_eqlist.py --sectors 3 8 16 24 --k 1 16 256 --points 500
"""
import argparse
import time

import numpy as np


def best_of(f, repeat):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sectors", type=int, nargs="+", default=[24])
    ap.add_argument("--k", type=int, nargs="+", default=[16])
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--eta", action="store_true", help="eta > 0 points")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from coordsweep import kernels
    from coordsweep.engine.run.benchvariants import draw_points
    print(f"{'N':>3s} {'K':>5s} {'base ms/pt':>11s} {'list ms/pt':>11s} "
          f"{'worst list ms':>14s} {'median n_eq':>12s} {'max n_eq':>10s}")
    for n in args.sectors:
        pts = draw_points(args.seed, args.points, n, args.eta)
        one = [{k: v[j:j + 1] for k, v in pts.items()} for j in range(args.points)]
        for k in args.k:
            kernels.solve(**one[0], equilibria=k)  # compile / load: not timed
            base = []
            full = []
            for _ in range(args.repeat):  # interleaved
                base.append(best_of(lambda: kernels.solve(**pts), 1))
                full.append(best_of(lambda: kernels.solve(**pts, equilibria=k), 1))
            tb, tf = min(base), min(full)
            worst = 0.0
            for p in one:
                w = (best_of(lambda: kernels.solve(**p, equilibria=k), 2)
                     - best_of(lambda: kernels.solve(**p), 2))
                worst = max(worst, w)
            neq = kernels.solve(**pts)["n_equilibria"]
            print(f"{n:3d} {k:5d} {tb / args.points * 1e3:11.4f} "
                  f"{(tf - tb) / args.points * 1e3:11.4f} {worst * 1e3:14.3f} "
                  f"{int(np.median(neq)):12d} {int(neq.max()):10d}", flush=True)


if __name__ == "__main__":
    main()
