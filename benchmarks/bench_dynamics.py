"""The adjustment dynamics' cost (``[outputs] dynamics = K``): µs a point
of the dynamics pass (kernels.solve(..., dynamics=K) minus
kernels.solve(...) on the same block), and that over the base kernel's
µs a point measured in the same run, on the benchmark draw of
engine/run/benchvariants.py (``draw_points``: alpha 0.5..0.75, costs
across the regimes), one core. Base and dynamics passes are interleaved
and timed in process CPU time (time.process_time: waiting for a core on a
shared machine does not count); each figure is the best of --repeat.

    python benchmarks/bench_dynamics.py                  # N = 3, K = 64, eta = 0
    python benchmarks/bench_dynamics.py --sectors 2 3 4 6 8 --k 64
    python benchmarks/bench_dynamics.py --sectors 3 --k 16 64 256
    python benchmarks/bench_dynamics.py --eta
"""
import argparse
import time

import numpy as np


def timed(f):
    t = time.process_time()
    f()
    return time.process_time() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sectors", type=int, nargs="+", default=[3])
    ap.add_argument("--k", type=int, nargs="+", default=[64])
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--eta", action="store_true", help="eta > 0 points")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from coordsweep import kernels
    from coordsweep.engine.run.benchvariants import draw_points
    print(f"{'N':>3s} {'K':>5s} {'eta':>5s} {'base us/pt':>11s} {'dynamics us/pt':>15s} "
          f"{'dynamics/base':>14s} {'us/start':>9s} {'mean basin_nc':>14s} {'status 2':>9s}")
    for n in args.sectors:
        pts = draw_points(args.seed, args.points, n, args.eta)
        kernels.solve(**{k: v[:2] for k, v in pts.items()}, dynamics=4)  # compile
        for k in args.k:
            base, full = np.inf, np.inf
            out = None
            for _ in range(args.repeat):
                base = min(base, timed(lambda: kernels.solve(**pts)))
                t = time.process_time()
                out = kernels.solve(**pts, dynamics=k)
                full = min(full, time.process_time() - t)
            npts = args.points
            b = base / npts * 1e6
            d = max(full - base, 0.0) / npts * 1e6
            stuck = int(((out["status"] & 2) != 0).sum())
            print(f"{n:3d} {k:5d} {str(args.eta):>5s} {b:11.2f} {d:15.1f} {d / b:14.0f} "
                  f"{d / (k + 12):9.2f} {np.nanmean(out['basin_nc']):14.3f} {stuck:9d}",
                  flush=True)


if __name__ == "__main__":
    main()
