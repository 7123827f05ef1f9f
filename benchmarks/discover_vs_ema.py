"""Scenario discovery: coordsweep's PRIM against EMA Workbench's PRIM on the
same data (a two-sector Latin hypercube of 4,000 points, the indicator
"manu is in a coordination failure"), side by side.

    .venv/bin/pip install ema_workbench   # for this benchmark only
    .venv/bin/python benchmarks/discover_vs_ema.py [--repeat 5] [--spec FILE] \
        [--var regime --sector manu --category coordination_failure]

Prints, for each: the best coverage among the trajectory's boxes of
density >= 0.8, the chosen box (coverage, density, restricted
parameters), and the wall time of one call (median of --repeat runs,
interleaved). EMA: ``Prim(x, y, threshold=0.8, peel_alpha=0.05,
paste_alpha=0.05, mass_min=0.05).find_box()``, its peeling trajectory
(pasting included). Ours: ``prim.find_boxes`` with the same settings
(the in-sample rule, as EMA's; and fresh-point verification of our box),
then ``coordsweep discover``'s default rule (a margin of 2 standard
errors, a check on 10,000 fresh points) on the same store.
"""
import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def best_coverage(cov, dens, threshold=0.8):
    ok = np.asarray(dens) >= threshold
    return float(np.max(np.asarray(cov)[ok])) if ok.any() else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default=str(HERE / "discover_two_sectors_lhs.toml"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--verify", type=int, default=4000)
    ap.add_argument("--var", default="regime")
    ap.add_argument("--sector", default="manu")
    ap.add_argument("--category", default="coordination_failure")
    args = ap.parse_args()
    from coordsweep.engine.analysis import discover as D
    from coordsweep.engine.analysis import prim
    from coordsweep.engine.api import run_in_memory
    ds = run_in_memory(args.spec, progress=False)
    spec, target = D.target_of(ds, args.var, args.sector or None, args.category)
    print(f"{target.label}")
    params, x, y, info = D.data(ds, spec, target)
    names = [p[0] for p in params]
    print(f"{info['used']:,} points, {len(names)} parameters, "
          f"{int(y.sum()):,} in the category (base density {y.mean():.3f})")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pandas as pd
            from ema_workbench.analysis import prim as ema_prim
            from ema_workbench.util import ema_logging  # noqa: F401
    except ImportError as exc:
        ema_prim = None
        print(f"EMA Workbench not installed ({exc}): ours only")

    def ours():
        return prim.find_boxes(x, y, peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05,
                               threshold=0.8, max_boxes=1)

    def theirs():
        df = pd.DataFrame(x, columns=[n.replace(".", "_") for n in names])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = ema_prim.Prim(df, y.astype(int), threshold=0.8, peel_alpha=0.05,
                              paste_alpha=0.05, mass_min=0.05)
            return p.find_box()

    t_ours, t_theirs = [], []
    for _ in range(args.repeat):  # interleaved
        t0 = time.perf_counter()
        boxes, traj = ours()
        t_ours.append(time.perf_counter() - t0)
        if ema_prim is not None:
            t0 = time.perf_counter()
            ema_box = theirs()
            t_theirs.append(time.perf_counter() - t0)

    cov = [b.coverage for b in traj]
    dens = [b.density for b in traj]
    box = boxes[0] if boxes else None
    print(f"ours: best coverage at density >= 0.8 on the peeling trajectory "
          f"{best_coverage(cov, dens):.3f}; chosen box (pasted) coverage "
          f"{box.coverage:.3f}, density {box.density:.3f}, "
          f"{box.n_restricted} restricted; {len(traj)} steps; "
          f"median {statistics.median(t_ours) * 1e3:.1f} ms")
    if args.verify and box is not None:
        lim = {names[j]: box.limits[j] for j in np.flatnonzero(box.restricted)}
        dens_v, n_v = D.verify(ds, spec, params, target, lim, args.verify, seed=1)
        print(f"ours, in-sample rule: fresh density of the chosen box {dens_v:.3f} on "
              f"{n_v:,} points")
    # the default rule of `coordsweep discover`: margin and a fresh check
    t0 = time.perf_counter()
    res = D.discover(ds, args.var, args.sector or None, args.category, max_boxes=1,
                     verify_n=args.verify, seed=0)
    t_rule = time.perf_counter() - t0
    if res["boxes"]:
        b = res["boxes"][0]
        print(f"ours, default rule (margin {res['margin']:g}, check {res['check']:,}): "
              f"coverage {b['coverage']:.3f}, density {b['density']:.3f}, checked "
              f"{b['checked_density']:.3f}, fresh {b['verified_density'] or float('nan'):.3f} "
              f"on {b['verified_n']:,}; {t_rule * 1e3:.0f} ms with the solves")
    if ema_prim is not None:
        tr = ema_box.peeling_trajectory
        print(f"EMA Workbench: best coverage at density >= 0.8 "
              f"{best_coverage(tr['coverage'], tr['density']):.3f} "
              f"({len(tr)} steps); median {statistics.median(t_theirs) * 1e3:.1f} ms")
        i = int(ema_box._cur_box)
        print(f"EMA Workbench: its current box coverage {tr['coverage'][i]:.3f}, "
              f"density {tr['density'][i]:.3f}")
        if box is not None:
            lim = ema_box.box_lims[i]
            ema_lim = {n: (float(lim[c.replace('.', '_')][0]), float(lim[c.replace('.', '_')][1]))
                       for n, c in zip(names, names)}
            dens_v, n_v = D.verify(ds, spec, params, target, ema_lim, args.verify, seed=1)
            print(f"EMA Workbench: fresh density of its current box {dens_v:.3f} on {n_v:,}")


if __name__ == "__main__":
    main()
