"""PRIM (Friedman and Fisher's patient rule induction method) and CART
boxes, on arrays: the numerics of ``coordsweep discover``
(engine/analysis/discover.py reads stores and checks boxes on fresh points).

``peel(x, y, ...)`` peels a box from the full range of ``x`` (n, d) towards
where the 0/1 outcome ``y`` is 1. Each step considers, for every
parameter, cutting the lowest and the highest ``peel_alpha`` share of the
points still in the box (the cut falls between two distinct values, so
tied values go together, and a parameter with few values loses its
extreme value whole) and takes the cut with the largest gain in density
per point removed (EMA Workbench's default objective, "lenient1"); it
stops when the box would hold less than ``mass_min`` of the points or its
density is 1. With a ``threshold``, the step whose cut first lifts the
density to the threshold is preceded by the smallest cut (one parameter,
one side, down to one value) that reaches it, when that keeps more of the
category: the fixed share ``peel_alpha`` overshoots the threshold by up to
a whole step. Box limits are half-way between the last point cut and the
first point kept. Every box along the way is one step of the trajectory:
coverage (share of all the points with y = 1 that are in the box),
density (share of the box's points with y = 1), mass (share of all
points in the box) and the number of restricted parameters.

``paste(x, y, box, ...)`` widens a box again, one limit at a time, by
``paste_alpha`` of its points, taking the widening with the highest
density, as long as the density stays at or above ``threshold`` (without
a threshold: as long as it does not fall): pasting takes back coverage
that greedy peeling gave away.

A box *reaches* the threshold (``qualifies``) when Wilson's lower
confidence bound of its density, ``margin`` binomial standard errors
below it, is at least ``threshold`` (margin 0: when its density is). A
box's in-sample density overstates its true one: the box was fitted to
those points (its limits sit where the sample's density happens to cross
the threshold, and cuts on parameters that do not matter pick noise), so
a box chosen at density = threshold has a true density below it about
half the time.

``choose(trajectory, threshold, margin)``, the box-choice rule: of the
boxes that reach the threshold, the one with the highest coverage (ties:
fewer restricted parameters, then the earlier step); None when no box
does.

``find_boxes(...)``: boxes one after another by covering: the points of a
chosen box are taken out and PRIM runs again on the rest, until no box
reaches the threshold, ``max_boxes`` are found, or fewer than
``mass_min`` of the points are left. Coverage and mass are shares of the
whole data set for every box. With a ``check`` (points that did not find
the box: fresh points solved by the kernels in engine/analysis/discover),
the chosen box is the best candidate, pasted or else as peeled, that
reaches the threshold on the check's points too.

``quasi_p(x, y, box, j)``: how unlikely the density of a box would be
without its restriction on parameter j (one-sided binomial test of the
box's hits at the density of the box with that restriction removed),
EMA Workbench's quasi-p-value.

``bootstrap(x, y, n_boot, first_box, seed)`` and ``stability(limits,
full)``: robust boxes (bagging): the first box found again on ``n_boot``
resamples of the points (drawn with replacement, seeded), and per
parameter the share of those boxes that restrict it (each side apart)
and quantiles of its limits (an unrestricted side counts at the full
range's end).

``cart_boxes(x, y, ...)``: the leaves of scikit-learn's
``DecisionTreeClassifier`` (leaves of at least ``mass_min`` of the points)
as boxes, those with density >= threshold, by coverage.
"""
import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Box:
    """Limits (d, 2) in parameter units; ``full`` (d, 2) the data's range."""

    limits: np.ndarray
    full: np.ndarray
    coverage: float = math.nan
    density: float = math.nan
    mass: float = math.nan
    n: int = 0
    hits: int = 0
    quasi_p: dict = field(default_factory=dict)
    #: (hits, n) of the check that chose the box (find_boxes' ``check``)
    checked: tuple = None
    #: the step of the trajectory the box was chosen at
    step: int = None

    @property
    def restricted(self):
        """Per parameter: True when a limit is inside the full range."""
        return (self.limits[:, 0] > self.full[:, 0]) | (self.limits[:, 1] < self.full[:, 1])

    @property
    def n_restricted(self):
        return int(self.restricted.sum())

    def contains(self, x):
        """(n,) bool: points of x (n, d) inside the box (limits included)."""
        lo, hi = self.limits[:, 0], self.limits[:, 1]
        return np.all((x >= lo) & (x <= hi), axis=1)

    def copy(self):
        return Box(self.limits.copy(), self.full, self.coverage, self.density, self.mass,
                   self.n, self.hits, dict(self.quasi_p), self.checked, self.step)


def lower_bound(hits, n, z):
    """Wilson's lower confidence bound of a binomial share (``hits`` of
    ``n``) at ``z`` standard errors; the share itself when z = 0; NaN where
    n = 0. Arrays or numbers."""
    hits = np.asarray(hits, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = hits / n
        if not z:
            return p
        z2 = z * z
        centre = p + z2 / (2 * n)
        spread = z * np.sqrt(np.maximum(p * (1 - p), 0) / n + z2 / (4 * n * n))
        return (centre - spread) / (1 + z2 / n)


def qualifies(hits, n, threshold, margin=0.0):
    """True where a box of ``n`` points, ``hits`` in the category, reaches
    the threshold: Wilson's lower bound at ``margin`` standard errors is at
    least ``threshold`` (margin 0: its density is)."""
    return lower_bound(hits, n, margin) >= threshold


def full_range(x):
    return np.stack([x.min(axis=0), x.max(axis=0)], axis=1).astype(np.float64)


def _stats(box, n_in, hits, n_total, hits_total):
    box.n, box.hits = int(n_in), int(hits)
    box.coverage = hits / hits_total if hits_total else math.nan
    box.density = hits / n_in if n_in else math.nan
    box.mass = n_in / n_total
    return box


def peel(x, y, *, peel_alpha=0.05, mass_min=0.05, full=None, n_total=None, hits_total=None,
         threshold=None, margin=0.0):
    """The peeling trajectory: a list of Boxes (the first is the full
    range). ``n_total`` / ``hits_total``: the denominators of mass and
    coverage (default: those of x, y)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = x.shape
    full = full_range(x) if full is None else np.asarray(full, dtype=np.float64)
    n_total = n if n_total is None else n_total
    hits_total = float(y.sum()) if hits_total is None else hits_total
    box = _stats(Box(full.copy(), full), n, y.sum(), n_total, hits_total)
    traj = [box]
    xs, ys = x, y
    min_points = mass_min * n_total
    while True:
        nb = ys.size
        sum_y = float(ys.sum())
        if nb == 0 or sum_y == nb:
            break
        mean_old = sum_y / nb
        k = max(1, int(math.ceil(peel_alpha * nb)))
        best = None
        for j in range(d):
            col = xs[:, j]
            part = np.partition(col, (k - 1, nb - k))  # both order statistics at once
            for side in (0, 1):
                if side == 0:  # cut the k lowest values (and their ties)
                    t = part[k - 1]
                    cut = col <= t
                else:
                    t = part[nb - k]
                    cut = col >= t
                n_cut = int(np.count_nonzero(cut))
                n_keep = nb - n_cut
                if n_cut == 0 or n_keep < min_points or n_keep == 0:
                    continue
                mean_new = (sum_y - float(ys[cut].sum())) / n_keep
                obj = (mean_new - mean_old) / n_cut
                if best is None or obj > best[0]:
                    best = (obj, j, side, t, cut)
        if best is None:
            break
        _, j, side, t, cut = best
        hits_new = sum_y - float(ys[cut].sum())
        if threshold is not None and not qualifies(sum_y, nb, threshold, margin) and \
                qualifies(hits_new, nb - int(cut.sum()), threshold, margin):
            # this step crosses the threshold: the smallest cut that reaches it
            # keeps more of the category (a step of the trajectory too)
            fine = _crossing(xs, ys, box, threshold, min_points, n_total, hits_total, margin)
            if fine is not None and fine.hits > hits_new:
                traj.append(fine)
        keep = ~cut
        xs, ys = xs[keep], ys[keep]
        lim = box.limits.copy()
        if side == 0:
            lim[j, 0] = 0.5 * (t + xs[:, j].min())
        else:
            lim[j, 1] = 0.5 * (t + xs[:, j].max())
        box = _stats(Box(lim, full), ys.size, ys.sum(), n_total, hits_total)
        traj.append(box)
    return traj


def _crossing(xs, ys, box, threshold, min_points, n_total, hits_total, margin=0.0):
    """The box cut by the fewest points (one parameter, one side; ties cut
    together) that reaches ``threshold`` (``qualifies``), or None."""
    nb = ys.size
    sum_y = float(ys.sum())
    best = None
    for j in range(xs.shape[1]):
        order = np.argsort(xs[:, j], kind="stable")
        col, yc = xs[order, j], ys[order]
        for side in (0, 1):
            c, yy = (col, yc) if side == 0 else (col[::-1], yc[::-1])
            # cutting the first m values: m must end a run of equal values
            ends = np.flatnonzero(np.diff(c) != 0) + 1  # possible m (1..nb-1)
            if ends.size == 0:
                continue
            cut_hits = np.cumsum(yy)[ends - 1]
            keep = nb - ends
            ok = qualifies(sum_y - cut_hits, keep, threshold, margin) & (keep >= min_points)
            if not ok.any():
                continue
            i = int(np.flatnonzero(ok)[0])  # the fewest points cut
            hits = sum_y - float(cut_hits[i])
            if best is None or hits > best[0]:
                m = int(ends[i])
                lim = box.limits.copy()
                if side == 0:
                    lim[j, 0] = 0.5 * (c[m - 1] + c[m])
                else:
                    lim[j, 1] = 0.5 * (c[m - 1] + c[m])
                best = (hits, lim, int(keep[i]))
    if best is None:
        return None
    hits, lim, keep = best
    return _stats(Box(lim, box.full), keep, hits, n_total, hits_total)


def paste(x, y, box, *, paste_alpha=0.05, threshold=None, n_total=None, hits_total=None,
          margin=0.0):
    """The box widened one limit at a time (see the module doc); a new Box."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = x.shape
    n_total = n if n_total is None else n_total
    hits_total = float(y.sum()) if hits_total is None else hits_total
    box = box.copy()
    inside = (x >= box.limits[:, 0]) & (x <= box.limits[:, 1])  # (n, d) per parameter
    while True:
        n_out = d - inside.sum(axis=1)
        in_box = n_out == 0
        nb, hb = int(in_box.sum()), float(y[in_box].sum())
        if nb == 0:
            break
        density = hb / nb
        k = max(1, int(math.ceil(paste_alpha * nb)))
        best = None
        for j in np.flatnonzero(box.restricted):
            cand = (n_out == 1) & ~inside[:, j]  # outside the box on j only
            col = x[cand, j]
            yc = y[cand]
            for side in (0, 1):
                if side == 0:
                    sel = col < box.limits[j, 0]
                    if not sel.any():
                        continue
                    vals = col[sel]
                    kk = min(k, vals.size)
                    t = np.partition(vals, vals.size - kk)[vals.size - kk]
                    add = sel & (col >= t)
                else:
                    sel = col > box.limits[j, 1]
                    if not sel.any():
                        continue
                    vals = col[sel]
                    kk = min(k, vals.size)
                    t = np.partition(vals, kk - 1)[kk - 1]
                    add = sel & (col <= t)
                n_add = int(add.sum())
                new_hits = hb + float(yc[add].sum())
                new_density = new_hits / (nb + n_add)
                if threshold is None:
                    if new_density < density:
                        continue
                elif not qualifies(new_hits, nb + n_add, threshold, margin):
                    continue
                if best is None or new_density > best[0] or \
                        (new_density == best[0] and n_add > best[4]):
                    best = (new_density, j, side, t, n_add, col, sel)
        if best is None:
            break
        _, j, side, t, _, col, sel = best
        # the new limit: half-way to the next value left outside (or the full range)
        if side == 0:
            rest = col[sel & (col < t)]
            box.limits[j, 0] = 0.5 * (t + rest.max()) if rest.size else box.full[j, 0]
        else:
            rest = col[sel & (col > t)]
            box.limits[j, 1] = 0.5 * (t + rest.min()) if rest.size else box.full[j, 1]
        inside[:, j] = (x[:, j] >= box.limits[j, 0]) & (x[:, j] <= box.limits[j, 1])
    in_box = box.contains(x)
    return _stats(box, in_box.sum(), y[in_box].sum(), n_total, hits_total)


def choose(trajectory, threshold, margin=0.0):
    """Index of the chosen box in the trajectory (see the module doc), or None."""
    c = candidates(trajectory, threshold, margin)
    return c[0] if c else None


def quasi_p(x, y, box, j):
    """EMA Workbench's quasi-p-value of the restriction of the box on j."""
    from scipy.special import bdtrc  # P(X > k) of a binomial (scipy.stats imports slowly)
    wider = box.copy()
    wider.limits[j] = box.full[j]
    in_w = wider.contains(x)
    n_w, h_w = int(in_w.sum()), float(y[in_w].sum())
    if n_w == 0:
        return math.nan
    return float(bdtrc(box.hits - 1, box.n, h_w / n_w))


def candidates(trajectory, threshold, margin=0.0):
    """Indices of the trajectory's boxes that reach the threshold
    (``qualifies``), best first: highest coverage, then fewer restricted
    parameters, then the earlier step. ``choose`` is the first."""
    ok = [i for i, b in enumerate(trajectory)
          if b.n and qualifies(b.hits, b.n, threshold, margin)]
    return sorted(ok, key=lambda i: (-trajectory[i].coverage, trajectory[i].n_restricted, i))


def find_boxes(x, y, *, peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05, threshold=0.8,
               max_boxes=3, do_paste=True, full=None, margin=0.0, check=None,
               max_checks=30):
    """PRIM with covering: (boxes, trajectory of the first box). ``full``:
    the parameters' whole range (default: that of x).

    ``check(limits, earlier) -> (hits, n)``: a count on points that did not
    find the box (fresh points, a held-out sample), ``earlier`` the limits
    of the boxes already found (their points are not this box's). With it,
    the chosen box is the best candidate (``candidates``; pasted, else as
    peeled) whose checked count qualifies too; at most ``max_checks``
    checks per box. The box records ``checked = (hits, n)``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    full = full_range(x) if full is None else full
    hits_total = float(y.sum())
    remaining = np.ones(n, bool)
    boxes, first_traj = [], None
    while len(boxes) < max_boxes and remaining.sum() >= mass_min * n:
        xr, yr = x[remaining], y[remaining]
        if yr.sum() == 0:
            break
        traj = peel(xr, yr, peel_alpha=peel_alpha, mass_min=mass_min, full=full,
                    n_total=n, hits_total=hits_total, threshold=threshold, margin=margin)
        if first_traj is None:
            first_traj = traj
        box, checks = None, 0
        earlier = [b.limits.copy() for b in boxes]
        for i in candidates(traj, threshold, margin):
            tries = [traj[i]]
            if do_paste:
                pasted = paste(xr, yr, traj[i], paste_alpha=paste_alpha, threshold=threshold,
                               n_total=n, hits_total=hits_total, margin=margin)
                if not np.array_equal(pasted.limits, traj[i].limits):
                    tries.insert(0, pasted)
                else:
                    tries = [pasted]
            for b in tries:
                if check is not None:
                    if checks >= max_checks:
                        break
                    checks += 1
                    b.checked = check(b.limits.copy(), earlier)
                    if not qualifies(*b.checked, threshold, margin):
                        continue
                box = b
                box.step = i
                break
            if box is not None or checks >= max_checks:
                break
        if box is None:
            break
        box.quasi_p = {int(j): quasi_p(xr, yr, box, j) for j in np.flatnonzero(box.restricted)}
        boxes.append(box)
        remaining &= ~box.contains(x)
    return boxes, first_traj or []


def recount(boxes, x, y):
    """Count boxes found on a sample again on all the points (x, y):
    coverage, density and mass in place, each box on the points not in an
    earlier box (as covering found them); quasi-p-values too."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, hits_total = y.size, float(y.sum())
    remaining = np.ones(n, bool)
    for b in boxes:
        inside = b.contains(x) & remaining
        _stats(b, inside.sum(), y[inside].sum(), n, hits_total)
        b.quasi_p = {int(j): quasi_p(x[remaining], y[remaining], b, j)
                     for j in np.flatnonzero(b.restricted)}
        remaining &= ~inside
    return boxes


def cart_boxes(x, y, *, mass_min=0.05, threshold=0.8, max_boxes=None, seed=0, full=None,
               margin=0.0, check=None, max_checks=30):
    """Leaves of a classification tree as boxes (see the module doc); with
    ``check`` (as in ``find_boxes``), only leaves whose checked count
    qualifies too."""
    from sklearn.tree import DecisionTreeClassifier
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    full = full_range(x) if full is None else full
    hits_total = float(y.sum())
    tree = DecisionTreeClassifier(min_samples_leaf=max(1, int(math.ceil(mass_min * n))),
                                  random_state=seed)
    tree.fit(x, y.astype(np.int8))
    t = tree.tree_
    boxes = []

    def walk(node, limits):
        if t.children_left[node] == -1:
            b = Box(limits.copy(), full)
            inside = b.contains(x)
            _stats(b, inside.sum(), y[inside].sum(), n, hits_total)
            if b.hits > 0 and qualifies(b.hits, b.n, threshold, margin):
                boxes.append(b)
            return
        j, thr = t.feature[node], t.threshold[node]
        left = limits.copy()
        left[j, 1] = min(left[j, 1], thr)
        walk(t.children_left[node], left)
        right = limits.copy()
        right[j, 0] = max(right[j, 0], thr)
        walk(t.children_right[node], right)

    walk(0, full.copy())
    # sklearn sends x <= thr left: a point exactly at a threshold is in both
    # closed boxes; counts above are of closed boxes (equal in continuous data)
    boxes.sort(key=lambda b: (-b.coverage, b.n_restricted))
    if check is not None:
        kept = []
        for b in boxes[:max_checks]:
            b.checked = check(b.limits.copy(), [])  # leaves are disjoint
            if qualifies(*b.checked, threshold, margin):
                kept.append(b)
                if max_boxes and len(kept) == max_boxes:
                    break
        boxes = kept
    return boxes[:max_boxes] if max_boxes else boxes


#: quantiles of the bootstrap boxes' limits
QUANTILES = (0.05, 0.5, 0.95)


def bootstrap(x, y, n_boot, first_box, *, seed=0):
    """Limits (d, 2) of ``first_box(x, y)`` (a Box or None) on each of
    ``n_boot`` resamples of the points, drawn with replacement; None where
    a resample has no box."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = []
    for b in range(n_boot):
        pick = np.random.default_rng((seed, 3, b)).integers(0, y.size, y.size)
        box = first_box(x[pick], y[pick])
        out.append(None if box is None else box.limits.copy())
    return out


def stability(limits, full, quantiles=QUANTILES):
    """Per parameter j (lists of length d): the share of the boxes in
    ``limits`` (a list of (d, 2) arrays, None for no box; shares are of
    the boxes found) restricting it at all, at its low and at its high end,
    and the quantiles of its low and high limits, {"found", "n",
    "restricted", "low_share", "high_share", "low", "high"}."""
    found = [lim for lim in limits if lim is not None]
    d = full.shape[0]
    res = {"n": len(limits), "found": len(found), "quantiles": list(quantiles)}
    if not found:
        nan = [math.nan] * d
        return {**res, "restricted": nan, "low_share": nan, "high_share": nan,
                "low": [[math.nan] * len(quantiles)] * d,
                "high": [[math.nan] * len(quantiles)] * d}
    a = np.stack(found)  # (b, d, 2)
    low = a[:, :, 0] > full[:, 0]
    high = a[:, :, 1] < full[:, 1]
    res["restricted"] = (low | high).mean(axis=0).tolist()
    res["low_share"] = low.mean(axis=0).tolist()
    res["high_share"] = high.mean(axis=0).tolist()
    res["low"] = np.quantile(a[:, :, 0], quantiles, axis=0).T.tolist()
    res["high"] = np.quantile(a[:, :, 1], quantiles, axis=0).T.tolist()
    return res
