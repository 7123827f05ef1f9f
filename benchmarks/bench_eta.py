"""The kernels with some eta_i > 0 against eta = 0, side by side: µs a
point of ``kernels.solve`` (default solver) on the same points with and
without the scale externality, and their ratio.

    python benchmarks/bench_eta.py [--points 40000] [--repeats 5] [--sectors 3]
        [--n24 4] [--dips 3000]

Two kinds of points, each solved with every eta_i = 0 and with eta > 0:

- ``grid``: benchmarks/grid_3sectors.toml's three sectors on a coarser
  grid over the same ranges (--points of them: externality_scale x
  cost_scale x ca_spread); eta > 0 gives two of the sectors (agro, manu)
  scale = 0.1 and 0.15 (the third stays at 0);
- ``random``: engine/run/benchvariants.py's draw (the points of
  benchmarks/bench_kernels.py and ``coordsweep bench``), --sectors
  sectors, eta > 0 in every sector (up to half its bound).

The four cells are timed in turn, --repeats rounds (the machine is shared
and noisy: interleaving keeps the ratio fair), in process CPU time; each
figure is the median. Each timed pass follows an untimed pass over the
same cell, as a sweep's chunks follow each other (bench_kernels.py says
why; --cold: no untimed passes). --n24 K: also the mean time a point of K random
points with 24 sectors and every eta_i > 0 (default solver), and with
every eta_i = 0. --dips K: also K random points of --sectors sectors where
GE paths often rise, fall and rise again (alpha 0.72-0.9, theta_i up to
20, eta_i > 0 in about half the sectors; the regime of MODEL.md's
example): µs a point (best of --repeats, one block) and how many points
carry the path_shape status bit.
"""
import argparse
import os
import re
import statistics
import tempfile
import time

import numpy as np

from coordsweep import kernels
from coordsweep.kernels import codes
from coordsweep.engine.run.benchvariants import draw
from coordsweep.engine.spec.model import load_spec

HERE = os.path.dirname(os.path.abspath(__file__))


def grid_points(npts, eta):
    """The 3-sector grid of grid_3sectors.toml with about npts points."""
    text = open(os.path.join(HERE, "grid_3sectors.toml")).read()
    side = max(2, int(round((npts / 25) ** 0.5)))
    text = re.sub(r"num = 200", f"num = {side}", text)
    if eta:
        text = text.replace('name = "agro"', 'name = "agro"\nscale = 0.1')
        text = text.replace('name = "manu"', 'name = "manu"\nscale = 0.15')
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "grid.toml")
        with open(path, "w") as f:
            f.write(text)
        spec = load_spec(path)
        return spec.block(0, spec.size)


def dip_points(rng, npts, n):
    """npts points of n sectors where GE paths often turn back (--dips):
    high labour shares, large externalities, the costs a log-uniform
    multiple of a rough gain of full cooperation (so that every regime
    occurs), eta_i > 0 in about half the sectors."""
    alpha = rng.uniform(0.72, 0.9, npts)
    eps = 1.0 / (1.0 - alpha)[:, None]
    pa = np.exp(rng.uniform(np.log(0.3), np.log(3.0), (npts, n))) ** 2
    theta = rng.uniform(0.0, 20.0, (npts, n))
    z = pa ** eps
    gain = (1.0 - alpha)[:, None] * z * (1.0 / (z.sum(1)[:, None] + z * ((1.0 + theta) ** eps
                                                                         - 1.0))) ** alpha[:, None]
    gain *= (1.0 + theta) ** eps - 1.0
    return dict(labor=np.ones(npts), labor_share=alpha, price=np.sqrt(pa),
                productivity=np.sqrt(pa), externality=theta,
                cost=gain * np.exp(rng.uniform(np.log(0.3), np.log(4.0), (npts, n))),
                scale=np.where(rng.random((npts, n)) < 0.5,
                               rng.uniform(0.0, 0.5, (npts, n)) * (1.0 - alpha)[:, None], 0.0),
                subsidy=np.zeros((npts, n)), cost_subsidy=np.zeros((npts, n)))


def timed(block):
    t = time.process_time()
    kernels.solve(**block)
    return time.process_time() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=40_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sectors", type=int, default=3)
    ap.add_argument("--n24", type=int, default=0, help="also N = 24 on this many points")
    ap.add_argument("--dips", type=int, default=0,
                    help="also this many points where GE paths often turn back")
    ap.add_argument("--cold", action="store_true",
                    help="no untimed pass over the same cell before each timed pass")
    args = ap.parse_args()
    cells = {}
    for eta in (False, True):
        cells[("grid", eta)] = grid_points(args.points, eta)
        cells[("random", eta)] = draw(np.random.default_rng(1), args.points, args.sectors, eta)
    for block in cells.values():
        kernels.solve(**{k: v[:2] for k, v in block.items()})
    times = {key: [] for key in cells}
    for _ in range(args.repeats):
        for key, block in cells.items():
            if not args.cold:
                kernels.solve(**block)
            times[key].append(timed(block) / len(block["labor"]))
    print(f"{'points':>8} {'N':>3} {'eta = 0 µs/pt':>14} {'eta > 0 µs/pt':>14} {'ratio':>6}"
          f"   (median of {args.repeats}, {args.points:,} points a cell)")
    for kind in ("grid", "random"):
        t0 = statistics.median(times[(kind, False)]) * 1e6
        t1 = statistics.median(times[(kind, True)]) * 1e6
        n = cells[(kind, False)]["price"].shape[1]
        print(f"{kind:>8} {n:>3} {t0:14.3f} {t1:14.3f} {t1 / t0:6.2f}")
    if args.dips:
        block = dip_points(np.random.default_rng(7), args.dips, args.sectors)
        out = kernels.solve(**block)
        best = min(timed(block) for _ in range(args.repeats))
        flagged = np.count_nonzero(out["status"].astype(int) & codes.PATH_SHAPE)
        print(f"paths that turn back: {1e6 * best / args.dips:.2f} µs a point (best of "
              f"{args.repeats}, {args.dips:,} points, N = {args.sectors}), {flagged:,} with "
              "the path_shape bit")
    if args.n24:
        for eta in (False, True):
            block = draw(np.random.default_rng(24), args.n24, 24, eta)
            kernels.solve(**{k: v[:1] for k, v in block.items()})
            t = time.perf_counter()
            kernels.solve(**block)
            ms = (time.perf_counter() - t) / args.n24 * 1e3
            print(f"N = 24, every eta_i {'> 0' if eta else '= 0'}: {ms:.1f} ms a point "
                  f"(mean of {args.n24} points, wall time)")


if __name__ == "__main__":
    main()
