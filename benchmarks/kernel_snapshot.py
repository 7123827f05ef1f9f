"""Bit-for-bit snapshot of the kernels' outputs, to check a refactoring.

    python benchmarks/kernel_snapshot.py save before.npz
    python benchmarks/kernel_snapshot.py compare before.npz

``save`` solves a fixed set of points (random points with N = 1..9 sectors,
eta = 0 and eta > 0, production and cost subsidies, inert and spontaneous
sectors, labour shares near 0 and 1, points outside the domains, and the
edge cases of tests/test_kernel_edges.py) and stores every output of
``kernels.solve``, the equilibrium masks of ``kernels.equilibrium_masks``
and samples of ``kernels.ge_path``. ``compare`` recomputes them and checks
each array with ``np.array_equal(..., equal_nan=True)`` (same dtype and
shape too). Exit status 0 when everything is identical, 1 otherwise.

    python benchmarks/kernel_snapshot.py compare before.npz --rtol 1e-12

compares float arrays within a relative tolerance instead (same NaN and
infinity pattern; integer and boolean arrays still bit for bit) and counts
the arrays that are identical, within the tolerance, and beyond it (with
the largest relative difference of each; the samples of a GE path
g_i(s), which crosses zero, relative to the path's largest |g_i|).

    python benchmarks/kernel_snapshot.py compare before.npz --contract

applies CONTRACT.md's rule for solver variants ("Solver variants"):
discrete arrays identical, floats within 1e-10 relative (--rtol to
change it), and the differences of welfare levels (coordination_gap,
provision_gap, gain_coordinate, gain_ca/cluster/best) within that share
of |welfare_nc| of the same point, subsidy_needed (1 - a ratio) of 1:
a gap is the difference of two welfares, each good to 1e-10 relative,
so its own relative error is not bounded. Under --rtol or --contract it
prints the largest difference found under each rule, and its array.
"""
import argparse
import sys

import numpy as np

from coordsweep.engine.run.benchvariants import draw  # points like the kernel benchmark's
from coordsweep import kernels
from coordsweep.kernels.params import PARAMS

SECTOR = [p.name for p in PARAMS if p.per == "sector"]
#: outputs that are differences of welfare levels: compared on the scale of
#: |welfare_nc| of the same point under --contract (tests/test_solvers.py's
#: DIFFERENCES)
DIFFERENCES = ("coordination_gap", "provision_gap", "gain_ca", "gain_cluster", "gain_best",
               "gain_coordinate")
CONTRACT_RTOL = 1e-10


def _random_block(rng, npts, n, eta):
    alpha = rng.uniform(0.05, 0.95, npts)
    alpha[::17] = rng.uniform(0.95, 0.999, alpha[::17].shape)
    alpha[5::23] = rng.uniform(0.001, 0.05, alpha[5::23].shape)
    p = dict(
        labor=np.exp(rng.uniform(-3, 3, npts)),
        labor_share=alpha,
        price=np.exp(rng.uniform(-1, 1, (npts, n))),
        productivity=np.exp(rng.uniform(-1, 1, (npts, n))),
        externality=rng.uniform(0.0, 3.0, (npts, n)),
        cost=np.exp(rng.uniform(-6, 1, (npts, n))),
        scale=(rng.uniform(0.0, 0.9, (npts, n)) * (1 - alpha)[:, None]) if eta
        else np.zeros((npts, n)),
        subsidy=np.where(rng.random((npts, n)) < 0.3,
                         rng.uniform(-0.5, 1.0, (npts, n)), 0.0),
        cost_subsidy=np.where(rng.random((npts, n)) < 0.3,
                              rng.uniform(0.0, 1.0, (npts, n)), 0.0),
    )
    # inert (theta = 0), spontaneous (c = 0 or sigma = 1), boundary values
    p["externality"][rng.random((npts, n)) < 0.08] = 0.0
    p["cost"][rng.random((npts, n)) < 0.06] = 0.0
    p["cost_subsidy"][rng.random((npts, n)) < 0.04] = 1.0
    # a few points outside the domains (and non-finite values)
    bad = rng.choice(npts, max(1, npts // 50), replace=False)
    for k, b in enumerate(bad):
        name = (SECTOR + ["labor", "labor_share"])[k % (len(SECTOR) + 2)]
        val = (np.nan, -1.0, np.inf, 2.0)[k % 4]
        if p[name].ndim == 1:
            p[name][b] = val
        else:
            p[name][b, k % n] = val
    return p


def _edge_points():
    """The points of tests/test_kernel_edges.py (and a few more), one by one."""
    pts = []
    for alpha, theta, c in [(0.999, 2.0, 0.1), (0.998, 4.0, 0.1), (0.999, 1.05, 0.1),
                            (0.995, 35.0, 0.1), (0.82, 12.7, 2.40), (0.82, 12.7, 2.475)]:
        pts.append(dict(labor=1.0, labor_share=alpha, price=[1.0], productivity=[1.0],
                        externality=[theta], cost=[c]))
    for alpha in (1e-300, 0.3, 1e-17, 1 - 1e-12):
        pts.append(dict(labor=1.0, labor_share=alpha, price=[1, 1], productivity=[1.2, 1.0],
                        externality=[0.3, 0.8], cost=[0.15, 0.15]))
    for alpha, a, theta, c in [(0.48, 0.51, 0.85, 0.09), (0.32, 1.27, 0.52, 0.46),
                               (0.6, 1.0, 0.5, 0.05)]:
        for n in (3, 4, 5):
            pts.append(dict(labor=1.0, labor_share=alpha, price=[1.0] * n,
                            productivity=[a] * n, externality=[theta] * n, cost=[c] * n))
    pts.append(dict(labor=1.0, labor_share=0.6, price=[1, 1], productivity=[1.0, 1.2],
                    externality=[0.5, 1.0], cost=[1e12, 0.01], cost_subsidy=[1.0, 0.0]))
    pts.append(dict(labor=1.0, labor_share=0.6, price=[1, 1], productivity=[1.0, 1.2],
                    externality=[0.5, 1.0], cost=[0.2, 0.01], scale=[0.1, 0.3],
                    subsidy=[0.2, -0.3], cost_subsidy=[0.5, 0.0]))
    return pts


def compute():
    """{key: array} of everything the snapshot covers."""
    res = {}
    rng = np.random.default_rng(20261129)
    for n in range(1, 10):
        for eta in (False, True):
            npts = 600 if n <= 6 else 300
            for tag, block in (("rand", _random_block(rng, npts, n, eta)),
                               ("bench", draw(rng, 200, n, eta))):
                out = kernels.solve(**block)
                for name, v in out.items():
                    res[f"{tag}/n{n}/eta{int(eta)}/{name}"] = v
                if tag == "rand" and n <= 5:
                    # equilibrium sets and GE paths of a few valid points
                    ok = np.flatnonzero(out["status"] & 16 == 0)[:8]
                    s = np.linspace(0.0, 1.0, 33)
                    for j in ok:
                        pj = {k: v[j] for k, v in block.items()}
                        res[f"masks/n{n}/eta{int(eta)}/{j}"] = np.asarray(
                            kernels.equilibrium_masks(**pj))
                        for i in range(n):
                            res[f"path/n{n}/eta{int(eta)}/{j}/{i}"] = kernels.ge_path(
                                **pj, sector=i, s=s)
    for k, pt in enumerate(_edge_points()):
        r = kernels.solve_point(**pt)
        for name, v in r.items():
            res[f"edge/{k}/{name}"] = np.asarray(v)
        if r["status"] & 16 == 0:
            res[f"edge/{k}/masks"] = np.asarray(kernels.equilibrium_masks(**pt))
            for i in range(len(pt["price"])):
                res[f"edge/{k}/path{i}"] = kernels.ge_path(
                    **pt, sector=i, s=np.linspace(0.0, 1.0, 17))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("save", "compare"))
    ap.add_argument("path")
    ap.add_argument("--rtol", type=float, default=None,
                    help="compare floats within this relative tolerance")
    ap.add_argument("--contract", action="store_true",
                    help="the contract's rule: floats within 1e-10 relative (or --rtol), "
                         "gaps and gains on the scale of |welfare_nc|")
    args = ap.parse_args()
    if args.contract and args.rtol is None:
        args.rtol = CONTRACT_RTOL
    res = compute()
    if args.mode == "save":
        np.savez_compressed(args.path, **res)
        print(f"saved {len(res)} arrays to {args.path}")
        return 0
    ref = np.load(args.path)
    bad = []
    worst = {}  # rule: (largest difference on its scale, key)
    close = 0
    for key in sorted(set(ref.files) | set(res)):
        if key not in ref.files or key not in res:
            bad.append(f"{key}: missing on one side")
            continue
        a, b = ref[key], np.asarray(res[key])
        if a.dtype != b.dtype or a.shape != b.shape:
            bad.append(f"{key}: {a.dtype}{a.shape} != {b.dtype}{b.shape}")
        elif np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            continue
        elif args.rtol is not None and a.dtype.kind == "f":
            if not (np.array_equal(np.isnan(a), np.isnan(b))
                    and np.array_equal(a[~np.isfinite(a)], b[~np.isfinite(b)], equal_nan=True)):
                bad.append(f"{key}: NaN or infinity pattern differs")
                continue
            m = np.isfinite(a)
            scale = np.maximum(np.abs(a), np.abs(b))
            name = key.rsplit("/", 1)[-1]
            rule = "relative"
            if "path" in name or key.startswith("path/"):
                # g_i(s) = gain - net cost crosses zero: relative to the path's scale
                scale = np.maximum(scale, np.abs(a[m]).max())
                rule = "of the path's largest |g_i|"
            elif args.contract and name in DIFFERENCES:
                wnc = np.abs(ref[key.rsplit("/", 1)[0] + "/welfare_nc"])
                scale = np.maximum(scale, wnc.reshape(wnc.shape + (1,) * (a.ndim - wnc.ndim)))
                rule = "of |welfare_nc|"
            elif args.contract and name == "subsidy_needed":
                scale = np.maximum(scale, 1.0)
                rule = "of max(1, |value|)"
            rel = np.abs(a[m] - b[m]) / np.maximum(scale[m], 1e-300)
            if rel.max() > worst.get(rule, (-1.0, ""))[0]:
                worst[rule] = (rel.max(), key)
            if rel.max() <= args.rtol:
                close += 1
            else:
                bad.append(f"{key}: values differ by up to {rel.max():.3g} {rule}")
        else:
            bad.append(f"{key}: values differ")
    for line in bad[:40]:
        print(line)
    for rule, (rel, key) in worst.items():
        print(f"largest difference {rule}: {rel:.3g} ({key})")
    same = len(res) - close - len(bad)
    print(f"{len(res)} arrays compared: {same} identical"
          + (f", {close} within rtol {args.rtol:g}" if args.rtol is not None else "")
          + (" (gaps and gains on |welfare_nc|)" if args.contract else "")
          + f", {len(bad)} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
