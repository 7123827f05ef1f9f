"""Scenario discovery on a store (``coordsweep discover``): boxes in
parameter space where a category holds, found by PRIM or CART
(engine/analysis/prim.py), and checked on fresh points solved by the
kernels inside each box.

The parameters are the axes of more than one value (a grid) and the
design's parameters (their values along ``sample``). The outcome is the
0/1 indicator of a category (``regime`` of a sector, ``target_*``,
``n_equilibria`` "multiple"), of a boolean output, or of a threshold on a
number (``where = "coordination_gap>0.01"``); engine/analysis/target.py.
Points where the variable is NaN are refused, as in the sensitivity
analyses: an indicator on an undefined value would be an invented one.

Boxes are searched on at most ``search_points`` points (250,000 by
default: a uniform random sample, seeded, beyond that; peeling then takes
a few seconds), and counted again on every point of the store (up to
``max_points``, 4 million by default; a sample beyond): the result says
so (``points``, ``used``: counted on; ``searched``: searched on).

The box-choice rule (prim.py): a box reaches the threshold when Wilson's
lower bound of its density, ``margin`` (2) binomial standard errors below
it, does, both on the store's points and on ``check_n`` (10,000) fresh
points solved inside it (``checker``; points in an earlier box left out);
the chosen box is the trajectory's box of highest coverage that reaches it
(pasted, else as peeled). In-sample density alone overstates the true
one (the box was fitted to those points). ``margin = 0, check_n = 0`` is
EMA Workbench's rule: in-sample density >= threshold.

``verify``: for each box, N points drawn uniformly inside the box (every
other parameter uniform over the store's range; log-spaced axes and
``spacing = "log"`` design parameters uniform in log, as the store's
points are), built by the spec's own point-building
(``Spec.points_at``: the base point, the axes in spec order, then the
design), solved by the kernels with the store's solver variants, and the
share in the category is ``verified_density`` (``verified_n`` points).

``save(store, result)`` keeps a result in the store's attribute
``discovery`` (a JSON list, one entry per variable, sector, category and
method: a newer result replaces an older one of the same key); the report
of the store shows them.
"""
import json
import math

import numpy as np

from coordsweep.engine.analysis import prim
from coordsweep.engine.analysis.space import (check_complete, check_refined, equilibria,
                                              parameters, sample_points, store_spec,
                                              store_vars)
from coordsweep.engine.analysis.target import Target
from coordsweep.engine.errors import StoreError, UsageError

METHODS = ("prim", "cart")
#: boxes are counted on at most this many points (a random sample beyond)
MAX_POINTS = 4_000_000
#: ... and searched on at most this many (a random sample of those beyond)
SEARCH_POINTS = 250_000
ATTR = "discovery"
#: a box reaches the threshold when Wilson's lower bound of its density, this
#: many standard errors below it, does (prim.qualifies)
MARGIN = 2.0
#: fresh points solved in each candidate box when choosing it
CHECK_POINTS = 10_000


def target_of(ds, var=None, sector=None, category=None, where=None, equilibrium=None):
    spec = store_spec(ds)
    target = Target.parse(var, sector, category, spec.sector_names, where,
                          store_vars=store_vars(ds), equilibria=equilibria(ds),
                          equilibrium=equilibrium)
    if not target.binary:
        raise UsageError(f"--var {target.var} is a number: pass --where "
                         f"\"{target.var}>VALUE\" (a threshold) or, for a categorical "
                         "output, --category")
    return spec, target


def data(ds, spec, target, *, max_points=MAX_POINTS, seed=0):
    """(params, x (n, d), y (n,), info) of a store: the analysed points."""
    params = parameters(ds, spec)
    raw = target.raw_of_store(ds)
    dims = [d for d in raw.dims]
    raw_v = np.asarray(raw.values)
    total = raw_v.size
    flat, x = sample_points(dims, raw_v.shape, params, max_points, seed)
    rv = raw_v.ravel() if flat is None else raw_v.ravel()[flat]
    bad = target.nan_of(rv)
    if bad.any():
        hint = (f"--var regime --sector {target.sector} --category coordination_failure"
                if target.sector is not None else "--var n_equilibria --category multiple")
        if target.equilibrium is not None:
            hint = (f"--where \"eq_listed>{target.equilibrium}\", where rank "
                    f"{target.equilibrium} is listed, or rank 0")
        raise UsageError(f"{target.label}: {target.var} is NaN at {int(bad.sum()):,} of "
                         f"{rv.size:,} points ({100 * bad.mean():.1f}%): MODEL.md leaves it "
                         "undefined there, and an indicator of it would be invented; "
                         f"analyse a category instead (e.g. {hint})")
    y = target.apply(rv)
    info = {"points": int(total), "used": int(y.size), "sampled": flat is not None,
            "hits": int(y.sum())}
    if "status" in ds:
        st = np.asarray(ds["status"].values).ravel()
        st = st if flat is None else st[flat]
        info["status_nonzero"] = int(np.count_nonzero(st))
    return params, x, y, info


def fresh_points(spec, params, limits, n, rng):
    """{param: (n,) values}: uniform inside limits {param: (lo, hi)} (the
    store's range for a parameter not in limits), in log where the
    parameter is log-spaced."""
    values = {}
    for name, _, vals, log in params:
        lo, hi = limits.get(name, (float(vals.min()), float(vals.max())))
        if log and lo > 0:
            values[name] = np.exp(rng.uniform(math.log(lo), math.log(hi), n))
        else:
            values[name] = rng.uniform(lo, hi, n)
    return values


def solve_points(ds, spec, values):
    """The kernels' outputs at the points ``values`` (Spec.points_at)."""
    from coordsweep import kernels
    from coordsweep.engine.spec.domains import check_domains, format_violation
    pts = spec.points_at(values)
    bad = check_domains(pts, spec.sector_names)
    if bad is not None:
        raise StoreError(f"a fresh point is outside MODEL.md's domains: "
                         f"{format_violation(bad, pts)}")
    return kernels.solve(**pts, solver=ds.attrs.get("solver"), **spec.outputs)


def verify(ds, spec, params, target, limits, n, *, seed=0, return_points=False):
    """(verified density, verified_n[, values, y]) of n fresh points in a box."""
    rng = np.random.default_rng(seed)
    values = fresh_points(spec, params, limits, n, rng)
    out = solve_points(ds, spec, values)
    if target.var not in out:
        raise UsageError(f"--verify: the kernels do not compute {target.var} here")
    y = target.of_outputs(out)
    dens = float(y.mean()) if n else math.nan
    return (dens, int(n), values, y) if return_points else (dens, int(n))


def checker(ds, spec, params, target, n, seed):
    """find_boxes' ``check``: (hits, n) of ``n`` fresh points solved inside
    a box's limits (d, 2), those inside an earlier box left out; each call
    draws its own seeded points."""
    calls = [0]

    def check(limits, earlier):
        calls[0] += 1
        rng = np.random.default_rng((seed, 2, calls[0]))
        names = [p[0] for p in params]
        values = fresh_points(spec, params, {nm: tuple(limits[j]) for j, nm in enumerate(names)},
                              n, rng)
        y = target.of_outputs(solve_points(ds, spec, values))
        if earlier:
            x = np.stack([values[nm] for nm in names], axis=1)
            keep = np.ones(n, bool)
            for lim in earlier:
                keep &= ~np.all((x >= lim[:, 0]) & (x <= lim[:, 1]), axis=1)
            y = y[keep]
        return float(y.sum()), int(y.size)

    return check


def _box_json(box, names, log):
    lim = {names[j]: [float(box.limits[j, 0]), float(box.limits[j, 1])]
           for j in np.flatnonzero(box.restricted)}
    return {"limits": lim, "coverage": box.coverage, "density": box.density,
            "mass": box.mass, "n": box.n, "hits": box.hits, "n_restricted": box.n_restricted,
            "quasi_p": {names[j]: p for j, p in box.quasi_p.items()},
            "checked_density": box.checked[0] / box.checked[1] if box.checked else None,
            "checked_n": box.checked[1] if box.checked else 0,
            "verified_density": None, "verified_n": 0}


def discover(ds, var=None, sector=None, category=None, *, where=None, equilibrium=None,
             method="prim",
             verify_n=0, threshold=0.8, margin=MARGIN, check_n=CHECK_POINTS, peel_alpha=0.05,
             paste_alpha=0.05, mass_min=0.05, max_boxes=3, max_points=MAX_POINTS,
             search_points=SEARCH_POINTS, bootstrap=0, seed=0):
    """Scenario discovery on a store (see the module doc): a dict shaped as
    the JSON of CONTRACT.md (``coordsweep discover --json``), plus
    ``ranges``, ``threshold``, ``points``/``used``/``sampled``."""
    import xarray as xr
    if not isinstance(ds, xr.Dataset):
        from coordsweep.engine.analysis.export import open_results
        ds = open_results(ds)
    if method not in METHODS:
        raise UsageError(f"--method {method!r}: not a discovery method ({', '.join(METHODS)})")
    for name, v, lo, hi in (("threshold", threshold, 0, 1), ("peel_alpha", peel_alpha, 0, 0.5),
                            ("paste_alpha", paste_alpha, 0, 0.5), ("mass_min", mass_min, 0, 1)):
        if not lo < v <= hi:
            raise UsageError(f"{name} = {v}: must be in ({lo}, {hi}]")
    if verify_n < 0:
        raise UsageError(f"--verify {verify_n}: must be >= 0")
    if bootstrap < 0:
        raise UsageError(f"--bootstrap {bootstrap}: must be >= 0")
    if check_n < 0:
        raise UsageError(f"--check {check_n}: must be >= 0")
    if not margin >= 0 or not math.isfinite(margin):
        raise UsageError(f"--margin {margin}: must be >= 0 (standard errors)")
    spec, target = target_of(ds, var, sector, category, where, equilibrium)
    check_complete(ds)
    check_refined(ds, target.var, target.sector)
    params, x, y, info = data(ds, spec, target, max_points=max_points, seed=seed)
    names = [p[0] for p in params]
    log = [p[3] for p in params]
    if info["hits"] == 0:
        raise UsageError(f"{target.label} holds at none of the {info['used']:,} points: "
                         "there is nothing to find")
    xs, ys = x, y
    if y.size > search_points:
        pick = np.sort(np.random.default_rng(seed + 1).choice(y.size, search_points,
                                                             replace=False))
        xs, ys = x[pick], y[pick]
    info["searched"] = int(ys.size)
    full = prim.full_range(x)
    check = checker(ds, spec, params, target, check_n, seed) if check_n else None
    if method == "prim":
        boxes, traj = prim.find_boxes(xs, ys, peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                                      mass_min=mass_min, threshold=threshold,
                                      max_boxes=max_boxes, full=full, margin=margin,
                                      check=check)
    else:
        boxes, traj = prim.cart_boxes(xs, ys, mass_min=mass_min, threshold=threshold,
                                      max_boxes=max_boxes, full=full, margin=margin,
                                      check=check), []
    if xs is not x:
        prim.recount(boxes, x, y)
    elif method == "cart":
        prim.recount(boxes, x, y)  # (quasi-p-values)
    res = {"var": target.var, "sector": target.sector, "category": target.category,
           "method": method, "label": target.label, "params": names,
           "boxes": [_box_json(b, names, log) for b in boxes],
           "trajectory": [{"coverage": b.coverage, "density": b.density, "mass": b.mass,
                           "n_restricted": b.n_restricted} for b in traj],
           "chosen": [getattr(b, "step", None) for b in boxes],
           "ranges": {n_: [float(full[j, 0]), float(full[j, 1])] for j, n_ in enumerate(names)},
           "log": {n_: lg for n_, lg in zip(names, log)},
           "threshold": threshold, "margin": margin, "check": check_n,
           "peel_alpha": peel_alpha, "paste_alpha": paste_alpha,
           "mass_min": mass_min, "seed": seed, **info}
    if bootstrap:
        res["bootstrap"] = _bootstrap(xs, ys, bootstrap, method, names, full, seed=seed,
                                      threshold=threshold, margin=margin,
                                      peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                                      mass_min=mass_min)
    if res["boxes"] == [] and traj:
        res["max_density"] = max(b.density for b in traj)
    for k, b in enumerate(res["boxes"]):
        if verify_n:
            b["verified_density"], b["verified_n"] = verify(
                ds, spec, params, target, b["limits"], verify_n, seed=seed + 1 + k)
    return res


def _bootstrap(xs, ys, n_boot, method, names, full, *, seed, threshold, margin, peel_alpha,
               paste_alpha, mass_min):
    """The first box on ``n_boot`` resamples of the searched points, by the
    in-sample part of the rule (margin, no fresh check): its stability per
    parameter (prim.stability), keyed by name."""
    def first_box(xb, yb):
        if method == "prim":
            boxes, _ = prim.find_boxes(xb, yb, peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                                       mass_min=mass_min, threshold=threshold, max_boxes=1,
                                       full=full, margin=margin)
        else:
            boxes = prim.cart_boxes(xb, yb, mass_min=mass_min, threshold=threshold,
                                    max_boxes=1, full=full, margin=margin, seed=seed)
        return boxes[0] if boxes else None

    st = prim.stability(prim.bootstrap(xs, ys, n_boot, first_box, seed=seed), full)
    per = {nm: {k: st[k][j] for k in ("restricted", "low_share", "high_share", "low", "high")}
           for j, nm in enumerate(names)}
    return {"n": st["n"], "found": st["found"], "quantiles": st["quantiles"], "params": per}


def save(store, res):
    """Keep ``res`` in the store's attribute ``discovery`` (see the module
    doc); returns the attribute's list."""
    from coordsweep.engine.store import zarrstore as zstore
    attrs = zstore.read_attrs(store)
    saved = saved_of(attrs)
    key = (res["var"], res["sector"], res["category"], res["method"])
    saved = [r for r in saved if (r["var"], r["sector"], r["category"], r["method"]) != key]
    saved.append(res)
    zstore.update_attrs(store, {ATTR: json.dumps(_jsonable(saved), allow_nan=False)})
    return saved


def saved_of(attrs):
    """The discoveries kept in a store's attributes (a list)."""
    text = attrs.get(ATTR)
    if not text:
        return []
    try:
        out = json.loads(text)
    except ValueError:
        return []
    return out if isinstance(out, list) else []


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def to_json(res):
    return _jsonable(res)


def rule_text(res):
    """The box-choice rule of a result, in words."""
    margin, check = res.get("margin", 0), res.get("check", 0)
    reach = (f"density >= {res['threshold']:g}" if not margin else
             f"density >= {res['threshold']:g} by {margin:g} standard errors (Wilson's lower "
             "bound)")
    where = "on the store's points" + (f" and on {check:,} fresh points solved in it"
                                       if check else "")
    if res["method"] == "cart":
        return f"boxes: the tree's leaves whose {reach} {where}, by coverage"
    return (f"box choice: the trajectory's box of highest coverage whose {reach} {where}, "
            "then pasted while it stays so")


def bootstrap_text(res, width):
    bs = res["bootstrap"]
    q = "/".join(f"{100 * v:g}" for v in bs["quantiles"])
    lines = [f"\nbootstrap: the first box on {bs['n']:,} resamples of the "
             f"{res.get('searched', res['used']):,} points (drawn with replacement; chosen on "
             f"the resample, no fresh check): {bs['found']:,} found one"]
    if not bs["found"]:
        return lines
    lines.append(f"  {'parameter':{width}s} restricted (low, high)   low limit {q}%   "
                 f"high limit {q}%")
    for p, st in bs["params"].items():
        first = res["boxes"][0]["limits"] if res["boxes"] else {}
        if not st["restricted"] and p not in first:
            continue
        lo = " / ".join(f"{v:.4g}" for v in st["low"])
        hi = " / ".join(f"{v:.4g}" for v in st["high"])
        lines.append(f"  {p:{width}s} {100 * st['restricted']:5.1f}% ({100 * st['low_share']:.0f}%"
                     f", {100 * st['high_share']:.0f}%)   {lo}   {hi}")
    return lines


def format_text(res):
    lines = [f"{res['method'].upper()} boxes where {res['label']} "
             f"(density >= {res['threshold']:g}; {res['hits']:,} of {res['used']:,} points"
             + (f", a random sample of the store's {res['points']:,}" if res["sampled"] else "")
             + ")"]
    lines.append(rule_text(res))
    if res.get("searched", res["used"]) < res["used"]:
        lines.append(f"searched on a random sample of {res['searched']:,} points; the boxes' "
                     f"coverage, density and mass counted on all {res['used']:,}")
    if res.get("status_nonzero"):
        lines.append(f"note: {res['status_nonzero']:,} points have a non-zero status "
                     "(coordsweep inspect says which bits); they are included")
    if not res["boxes"]:
        lines.append("no box reaches the density threshold"
                     + (f" (the highest density on the trajectory: {res['max_density']:.3f})"
                        if "max_density" in res else ""))
    width = max(10, max(len(p) for p in res["params"]) + 2)
    for k, b in enumerate(res["boxes"]):
        ver = ""
        if b.get("checked_n"):
            ver += f", checked {b['checked_density']:.3f} on {b['checked_n']:,} fresh points"
        if b["verified_n"]:
            ver += f", fresh density {b['verified_density']:.3f} on {b['verified_n']:,} points"
        lines.append(f"\nbox {k + 1}: coverage {b['coverage']:.3f}, density {b['density']:.3f}, "
                     f"mass {b['mass']:.3f}{ver}")
        if b["verified_n"] and b["verified_density"] < res["threshold"]:
            p, n = b["verified_density"], b["verified_n"]
            sd = math.sqrt(max(p * (1 - p), 0.0) / n)
            lines.append(f"  note: the fresh density is below {res['threshold']:g} (its standard "
                         f"error on {n:,} points: {sd:.3f}"
                         + (f"; the check on {b['checked_n']:,} others gave "
                            f"{b['checked_density']:.3f}" if b.get("checked_n") else "")
                         + "); a higher --threshold or --margin gives a tighter box")
        for p, (lo, hi) in b["limits"].items():
            flo, fhi = res["ranges"][p]
            qp = b["quasi_p"].get(p)
            lines.append(f"  {p:{width}s} [{lo:.4g}, {hi:.4g}]  of [{flo:.4g}, {fhi:.4g}]"
                         + (f"  quasi-p {qp:.2g}" if qp is not None else ""))
        if not b["limits"]:
            lines.append("  (no restriction: the whole range)")
    if res.get("bootstrap"):
        lines.extend(bootstrap_text(res, width))
    if res["trajectory"]:
        lines.append(f"\ntrajectory of the first box: {len(res['trajectory'])} steps "
                     "(coverage, density, mass, restricted parameters)")
    return "\n".join(lines)
