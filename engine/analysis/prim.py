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

``choose(trajectory, threshold)``, the box-choice rule: of the boxes with
density >= ``threshold``, the one with the highest coverage (ties: fewer
restricted parameters, then the earlier step); None when no box reaches
the threshold.

``find_boxes(...)``: boxes one after another by covering: the points of a
chosen box are taken out and PRIM runs again on the rest, until no box
reaches the threshold, ``max_boxes`` are found, or fewer than
``mass_min`` of the points are left. Coverage and mass are shares of the
whole data set for every box.

``quasi_p(x, y, box, j)``: how unlikely the density of a box would be
without its restriction on parameter j (one-sided binomial test of the
box's hits at the density of the box with that restriction removed),
EMA Workbench's quasi-p-value.

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
                   self.n, self.hits, dict(self.quasi_p))


def full_range(x):
    return np.stack([x.min(axis=0), x.max(axis=0)], axis=1).astype(np.float64)


def _stats(box, n_in, hits, n_total, hits_total):
    box.n, box.hits = int(n_in), int(hits)
    box.coverage = hits / hits_total if hits_total else math.nan
    box.density = hits / n_in if n_in else math.nan
    box.mass = n_in / n_total
    return box


def peel(x, y, *, peel_alpha=0.05, mass_min=0.05, full=None, n_total=None, hits_total=None,
         threshold=None):
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
        if threshold is not None and mean_old < threshold <= hits_new / (nb - int(cut.sum())):
            # this step crosses the threshold: the smallest cut that reaches it
            # keeps more of the category (a step of the trajectory too)
            fine = _crossing(xs, ys, box, threshold, min_points, n_total, hits_total)
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


def _crossing(xs, ys, box, threshold, min_points, n_total, hits_total):
    """The box cut by the fewest points (one parameter, one side; ties cut
    together) whose density reaches ``threshold``, or None."""
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
            dens = (sum_y - cut_hits) / keep
            ok = (dens >= threshold) & (keep >= min_points)
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


def paste(x, y, box, *, paste_alpha=0.05, threshold=None, n_total=None, hits_total=None):
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
                new_density = (hb + float(yc[add].sum())) / (nb + n_add)
                if new_density < (density if threshold is None else threshold):
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


def choose(trajectory, threshold):
    """Index of the chosen box in the trajectory (see the module doc), or None."""
    best = None
    for i, b in enumerate(trajectory):
        if not b.density >= threshold:
            continue
        key = (b.coverage, -b.n_restricted, -i)
        if best is None or key > best[0]:
            best = (key, i)
    return None if best is None else best[1]


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


def find_boxes(x, y, *, peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05, threshold=0.8,
               max_boxes=3, do_paste=True, full=None):
    """PRIM with covering: (boxes, trajectory of the first box). ``full``:
    the parameters' whole range (default: that of x)."""
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
                    n_total=n, hits_total=hits_total, threshold=threshold)
        if first_traj is None:
            first_traj = traj
        i = choose(traj, threshold)
        if i is None:
            break
        box = traj[i]
        if do_paste:
            box = paste(xr, yr, box, paste_alpha=paste_alpha, threshold=threshold,
                        n_total=n, hits_total=hits_total)
        box.step = i
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


def cart_boxes(x, y, *, mass_min=0.05, threshold=0.8, max_boxes=None, seed=0, full=None):
    """Leaves of a classification tree as boxes (see the module doc)."""
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
            if b.density >= threshold and b.hits > 0:
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
    return boxes[:max_boxes] if max_boxes else boxes
