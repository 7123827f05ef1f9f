"""The path follower of the dynamics (kernels/dynamics.py) against explicit
Euler, start by start: where each of K starts ends.

    python benchmarks/dynamics_vs_euler.py --sectors 2 --points 400 --high-alpha
    python benchmarks/dynamics_vs_euler.py --sectors 3 --points 150 --eta --high-alpha

Random points of tests/reference.py (with several equilibria or, for 30%
of them, a sector in regime partial_coordination; --eta keeps their
eta_i > 0, otherwise every eta_i = 0; --high-alpha draws every labour share
in 0.72 .. 0.9, otherwise 70% of them). At each, the K starts of
``dynamics = K`` are followed by the kernel's path follower and by
explicit Euler with step h (MODEL.md's definition, the sign of the
kernel's own D_i tested at every step, 40 time units). A start counts as a
difference where the two end profiles differ by 0.02 or more in a share,
and Euler with step h/4 ends where Euler with h does (a start whose Euler
end moves with the step lies within about a step of a basin boundary,
which MODEL.md excuses). Prints the starts and points with a difference.
The tests compare with an Euler reference of their own
(tests/test_dynamics.py); this runs many more starts.
"""
import argparse
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coordsweep.kernels import api, dynamics  # noqa: E402
from coordsweep.kernels.economy import KIND_CAND  # noqa: E402
from coordsweep.kernels.point import allocate_prepared, allocate_scratch, workspace_at  # noqa: E402
from coordsweep.kernels.prepare import prepare_block  # noqa: E402
from tests.reference import random_point, stack, tune_partial  # noqa: E402

T_MAX = 40.0


@numba.njit
def ends(prep, scr, dy, starts, h, follow, out):
    """The end profile of each start (rows of starts) into out: by the
    path follower (follow) or by Euler with step h."""
    ws = workspace_at(prep, 0, scr)
    na, _ = dynamics.point_setup(ws, dy)
    s = np.empty(na)
    d = np.empty(na)
    for r in range(starts.shape[0]):
        for j in range(na):
            s[j] = starts[r, j]
        if follow:
            for j in range(na):
                dy.s[j] = s[j]
            dynamics.follow(ws, dy, na)
            for j in range(na):
                out[r, j] = dy.s[j]
            continue
        for _ in range(int(T_MAX / h)):
            dynamics.eval_D(ws, s, dy, na, d)
            for j in range(na):
                s[j] += h * (1.0 - s[j]) if d[j] > 0.0 else -h * s[j]
        for j in range(na):
            out[r, j] = s[j]


def draw(rng, n, eta, high):
    while True:
        pt = random_point(rng, n, high_alpha=high or rng.random() < 0.7)
        if rng.random() < 0.3 and not tune_partial(pt, rng):
            continue
        if not eta:
            pt["scale"] = np.zeros(n)
        sol = api.solve_point(**pt)
        if sol["status"] == 0 and (sol["n_equilibria"] >= 2 or sol["has_partial"]):
            return pt


def compare(pt, k, seed, h):
    """(starts, starts with a difference) at one point."""
    x = api.make_inputs(stack([pt]))
    n = x.price.shape[1]
    prep = allocate_prepared(1, n)
    prepare_block(x, prep)
    na = int((prep.sec["kind"][0] == KIND_CAND).sum())
    if na == 0:
        return 0, []
    scr, dy = allocate_scratch(n), dynamics.allocate_dyn(n)
    starts = np.array(dynamics.sobol_starts(na, k, seed))
    kern, eul = np.zeros((k, na)), np.zeros((k, na))
    ends(prep, scr, dy, starts, h, True, kern)
    ends(prep, scr, dy, starts, h, False, eul)
    bad = []
    for r in np.flatnonzero(np.abs(kern - eul).max(axis=1) >= 0.02):
        fine = np.zeros((1, na))
        ends(prep, scr, dy, starts[r:r + 1], h / 4, False, fine)
        if np.abs(fine[0] - eul[r]).max() < 0.02:
            bad.append((r, kern[r], eul[r]))
    return k, bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sectors", type=int, default=2)
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--eta", action="store_true", help="keep eta_i > 0")
    ap.add_argument("--high-alpha", action="store_true", help="labour shares 0.72 .. 0.9")
    ap.add_argument("--step", type=float, default=1.0 / 1024, help="Euler's step h")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-v", "--verbose", action="store_true", help="print each difference")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    total = nbad = npts = 0
    t = time.time()
    for i in range(args.points):
        pt = draw(rng, args.sectors, args.eta, args.high_alpha)
        k, bad = compare(pt, args.k, i, args.step)
        total += k
        nbad += len(bad)
        npts += bool(bad)
        if args.verbose:
            for r, a, b in bad:
                print(f"point {i} (labour share {pt['labor_share']:.4f}) start {r}: "
                      f"path follower {np.round(a, 4)}, Euler {np.round(b, 4)}")
    print(f"N = {args.sectors}, eta {'> 0' if args.eta else '= 0'}, {args.points} points, "
          f"{total} starts: {nbad} end elsewhere than Euler's, at {npts} points "
          f"({time.time() - t:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
