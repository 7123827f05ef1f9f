"""Many sectors: time per point of the whole kernel at N = 16..24 with the
default solver (pruned depth-first search, 2^N first best) and with
``equilibria=mitm`` (kernels/many.py), on points with very many equilibria.

    python benchmarks/many_sectors.py [--sectors 16 20 24] [--points 3] [--skip-default-above 20]

Prints, per N and eta, the number of equilibria and the milliseconds per
point (median over the points) of each solver, and checks that both give
the same n_equilibria, best equilibrium and first best.
"""
import argparse
import statistics
import time

import numpy as np

from coordsweep import kernels


def dense_point(rng, n, eta):
    """Similar sectors with small cooperation costs: millions of equilibria."""
    alpha = 0.6
    return dict(labor=[1.0], labor_share=[alpha], price=np.ones((1, n)),
                productivity=rng.uniform(0.95, 1.05, (1, n)),
                externality=rng.uniform(0.3, 0.6, (1, n)),
                cost=rng.uniform(0.5, 1.5, (1, n)) * 0.03,
                scale=np.full((1, n), 0.1 if eta else 0.0))


def timed(point, solver):
    t = time.perf_counter()
    out = kernels.solve(**point, solver=solver)
    return time.perf_counter() - t, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sectors", type=int, nargs="+", default=[16, 20, 24])
    ap.add_argument("--points", type=int, default=3)
    ap.add_argument("--skip-default-above", type=int, default=24,
                    help="time the default solver only up to this N (it enumerates)")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    warm = dense_point(rng, 3, True)
    kernels.solve(**warm)
    kernels.solve(**warm, solver="equilibria=mitm")
    print(f"{'N':>3} {'eta':>4} {'equilibria':>12} {'default ms':>11} {'mitm ms':>9} {'same':>5}")
    for n in args.sectors:
        for eta in (False, True):
            td, tm, counts, same = [], [], [], True
            for _ in range(args.points):
                p = dense_point(rng, n, eta)
                t, om = timed(p, "equilibria=mitm")
                tm.append(t)
                counts.append(int(om["n_equilibria"][0]))
                if n <= args.skip_default_above:
                    t, od = timed(p, None)
                    td.append(t)
                    same &= all(np.array_equal(od[k], om[k]) for k in
                                ("n_equilibria", "coop_best_eq", "coop_fb", "welfare_fb",
                                 "welfare_best_eq"))
            dms = f"{statistics.median(td) * 1e3:11.1f}" if td else f"{'-':>11}"
            print(f"{n:3d} {'>0' if eta else '0':>4} {statistics.median(counts):12,.0f} {dms} "
                  f"{statistics.median(tm) * 1e3:9.2f} {str(same) if td else '-':>5}",
                  flush=True)


if __name__ == "__main__":
    main()
