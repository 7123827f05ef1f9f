"""Many sectors: counting equilibria without enumerating them, and the best
equilibrium and the first best by branch and bound.

The pruned depth-first search of kernels/equilibria.py visits every stable
equilibrium (4.5 million at N = 24 in the worst cases), and the first best
tries all 2^N profiles. Here:

* **Count** (:func:`count_equilibria`). Sort the candidate sectors by
  threshold wage. Every equilibrium S = Z u T with T non-empty has a unique
  lowest-threshold member i (first in sorted order), and then S is an
  equilibrium iff w(S) <= wbar_i. At the fixed wage wbar_i, labour demand
  is additive over sectors, so "w(S) <= wbar_i" is "D(S; wbar_i) <= L" with
  D = base + d_i + sum_{j in T'} d_j, T' a subset of the sectors after i in
  sorted order, d_j > 0 the demand added by sector j cooperating: a
  subset-sum count. Meet in the middle: the sums of the two halves of the
  rest, each generated in sorted order by merging (O(2^{m/2})), then one
  two-pointer sweep: O(2^{m/2}) per i. With every eta = 0 (linear-scale
  sums) it is the same count on X(S).
  Rounding: pairs whose sum lies within a relative 1e-11 of the bound are
  decided by the kernel's own predicate (the wage of the mask against the
  bound, as kernels/point.py's search computes it), so the count is the
  count the enumeration gives.
* **Best equilibrium and first best** (:func:`best_equilibrium_bb`,
  :func:`first_best_bb`), when every tau_i = 0: then W(S) = w(S) L / alpha
  - C(S), w rises with S, and with every eta = 0, W = f(X(S)) - C(S) with
  f concave, so marginal gains only shrink as sectors join (submodular).
  Depth-first over sets (each node a distinct set; children add a later
  sector), every node's W computed by the kernel's binary_welfare and
  compared with the kernel's tie rule, subtrees cut when an upper bound
  is below the incumbent by more than the tie tolerance. Bounds: the sum
  of the positive marginal gains (eta = 0), w(S u R) L / alpha - C(S)
  (any eta; R = the sectors still to decide), and for equilibria the wage
  cap min_{i in S} wbar_i.

The functions return a flag when they do not apply (tau != 0, or sums
outside the float range), and the caller falls back to the enumerations.
"""
import math

import numpy as np
from coordsweep.kernels.jit import jit

from coordsweep.kernels.economy import (
    binary_log_wage, binary_log_wage_from, binary_welfare, binary_welfare_from)
from coordsweep.kernels.equilibria import TIE_RTOL, better, popcount

#: relative width of the band around a subset-sum bound inside which the
#: kernel's own predicate decides (sums taken in another order round
#: differently by a few ulps; the band is far wider than that)
BAND_RTOL = 1e-11
#: relative slack added to every upper bound before cutting a subtree
BOUND_RTOL = 1e-11


@jit
def _sorted_half_sums(d, idx, lo, hi, sums, masks, bs, bm):
    """All 2^(hi-lo) subset sums of d[lo:hi] (every d > 0), in ascending
    order, with their masks (bits idx[j]): each element merges the sorted
    list with itself shifted by d, O(2^(hi-lo)) in all. bs, bm: scratch."""
    sums[0] = 0.0
    masks[0] = 0
    size = 1
    for j in range(lo, hi):
        bit = np.int64(1) << idx[j]
        dj = d[j]
        a = 0
        b = 0
        k = 0
        while a < size or b < size:
            if b >= size or (a < size and sums[a] <= sums[b] + dj):
                bs[k] = sums[a]
                bm[k] = masks[a]
                a += 1
            else:
                bs[k] = sums[b] + dj
                bm[k] = masks[b] | bit
                b += 1
            k += 1
        size *= 2
        for k in range(size):
            sums[k] = bs[k]
            masks[k] = bm[k]
    return size


@jit
def _demand_terms(ws, zmask, cand, ncand, xb, d):
    """At log wage xb: (base, d) with base = labour demand (or scaled X on
    the eta = 0 fast path) of S0 and d[j] what candidate cand[j] adds by
    cooperating. Returns (base, cap) where S is an equilibrium bound by xb
    iff base + sum d <= cap."""
    n = ws.sec.kind.shape[0]
    if ws.pt.fast:
        base = 0.0
        for i in range(n):
            base += ws.sec.xb[i] if (zmask >> i) & 1 else ws.sec.xa[i]
        for j in range(ncand):
            c = cand[j]
            d[j] = ws.sec.xb[c] - ws.sec.xa[c]
        alpha = ws.pt.alpha
        cap = math.exp((xb - math.log(alpha)) / (1.0 - alpha) - ws.pt.c0 + ws.pt.logl)
        return base, cap
    eps = ws.pt.eps
    base = 0.0
    for i in range(n):
        denom = 1.0 - eps * ws.sec.eta[i]
        logm = ws.sec.logm1[i] if (zmask >> i) & 1 else 0.0
        base += math.exp(ws.sec.b0[i] + logm / denom - ws.sec.k[i] * xb)
    for j in range(ncand):
        c = cand[j]
        denom = 1.0 - eps * ws.sec.eta[c]
        e0 = ws.sec.b0[c] - ws.sec.k[c] * xb
        d[j] = math.exp(e0) * math.expm1(ws.sec.logm1[c] / denom)
    return base, ws.pt.labor


@jit(_nrt=True)
def count_equilibria(ws, zmask, cand, ncand):
    """Number of stable equilibria (exact), or -1 when the sums leave the
    float range (then enumerate instead)."""
    if ncand == 0:
        return np.int64(1)
    xbar = np.empty(ncand)
    for j in range(ncand):
        xbar[j] = ws.sec.xbar[cand[j]]
    order = np.argsort(xbar, kind="mergesort")
    srt = np.empty(ncand, np.int64)
    for r in range(ncand):
        srt[r] = cand[order[r]]
    d = np.empty(ncand)
    half = (ncand + 1) // 2
    sa = np.empty(np.int64(1) << half)
    ma = np.empty(np.int64(1) << half, np.int64)
    sb = np.empty(np.int64(1) << half)
    mb = np.empty(np.int64(1) << half, np.int64)
    bs = np.empty(np.int64(1) << half)
    bm = np.empty(np.int64(1) << half, np.int64)
    total = np.int64(1)  # S0 itself
    for r in range(ncand):
        i = srt[r]
        xb = ws.sec.xbar[i]
        base, cap = _demand_terms(ws, zmask, srt, ncand, xb, d)
        if not (math.isfinite(base) and math.isfinite(cap)):
            return np.int64(-1)
        scale = base
        for j in range(r, ncand):
            if not math.isfinite(d[j]):
                return np.int64(-1)
            scale += d[j]
        rem = cap - base - d[r]  # what the sectors after r may add
        band = BAND_RTOL * max(scale, cap)
        m = ncand - 1 - r
        if rem < -band:
            continue
        m1 = m // 2
        lo = r + 1
        na = _sorted_half_sums(d, srt, lo, lo + m1, sa, ma, bs, bm)
        nb = _sorted_half_sums(d, srt, lo + m1, ncand, sb, mb, bs, bm)
        imask = zmask | (np.int64(1) << i)
        # sa ascending, so t = rem - sa[a] descends: two pointers into sb
        k_in = nb   # sb[:k_in] <= t - band (surely in)
        k_out = nb  # sb[:k_out] <= t + band (in or too close to call)
        for a in range(na):
            t = rem - sa[a]
            while k_out > 0 and sb[k_out - 1] > t + band:
                k_out -= 1
            while k_in > 0 and sb[k_in - 1] > t - band:
                k_in -= 1
            if k_out == 0:
                break
            total += k_in
            for k in range(k_in, k_out):  # too close to call: ask the kernel
                mask = imask | ma[a] | mb[k]
                if binary_log_wage(ws, mask) <= xb:
                    total += 1
    return total


@jit
def _node_bound(ws, mask, csum, w_node, x_node, rest, nrest, xcap, equilibria, gain):
    """Upper bound of W over mask u T, T a subset of rest[:nrest], with
    log w capped at xcap (np.inf: no cap); every tau_i = 0. equilibria:
    a sector whose threshold is below the node's wage x_node can never
    join (the wage only rises), so it adds nothing to the bound. gain:
    the per-sector factors of the eta > 0 bound (:func:`_gain_factors`)."""
    alpha = ws.pt.alpha
    labor = ws.pt.labor
    full = mask
    for j in range(nrest):
        full |= np.int64(1) << rest[j]
    xfull = binary_log_wage_from(ws, full, x_node)  # (a superset: from the node's wage)
    ub = math.exp(min(xfull, xcap)) * labor / alpha - csum
    if ws.pt.fast:
        # W = f(X) - C with f concave: at most the sum of positive marginals
        xs = 0.0
        for i in range(ws.sec.kind.shape[0]):
            xs += ws.sec.xb[i] if (mask >> i) & 1 else ws.sec.xa[i]
        c1 = (1.0 - alpha) * (ws.pt.c0 - ws.pt.logl) + math.log(alpha)
        f0 = math.exp(c1 + (1.0 - alpha) * math.log(xs)) * labor / alpha
        slope = (1.0 - alpha) * f0 / xs  # f'(X): f concave, so the tangent
        ub1 = w_node                     # bounds every marginal from above
        for j in range(nrest):
            c = rest[j]
            if equilibria and ws.sec.xbar[c] < x_node:
                continue
            if slope * (ws.sec.xb[c] - ws.sec.xa[c]) <= ws.sec.cost[c]:
                continue  # marginal <= tangent step <= cost: no gain
            fj = math.exp(c1 + (1.0 - alpha) * math.log(
                xs + ws.sec.xb[c] - ws.sec.xa[c])) * labor / alpha
            g = fj - f0 - ws.sec.cost[c]
            if g > 0.0:
                ub1 += g
        ub = min(ub, ub1)
    else:
        # Some eta_i > 0. Adding T to the set raises its labour demand at a
        # fixed wage by d_j(x) = exp(b0_j - k_j x) expm1(log m_j / (1 - eps
        # eta_j)) for each j in T; along the way the log wage x rises from
        # x_node with dx = sum_j dd_j / sum_i k_i L_i and sum_i L_i = L, so
        # the wage bill w L grows by at most sum_j e^x dd_j / k_min, and
        # e^x d_j(x) falls in x (k_j > 1): each j adds at most
        # e^{x_node} d_j(x_node) / (alpha k_min) - c_j to W (with every
        # eta = 0 it is the tangent bound above).
        ub1 = w_node
        for j in range(nrest):
            c = rest[j]
            if equilibria and ws.sec.xbar[c] < x_node:
                continue
            g = math.exp(ws.sec.b0[c] + (1.0 - ws.sec.k[c]) * x_node) * gain[c] - ws.sec.cost[c]
            if g > 0.0:
                ub1 += g
        if ub1 < ub:
            ub = ub1
    return ub


@jit
def _gain_factors(ws, gain):
    """gain[c] = expm1(log m_c(1) / (1 - eps eta_c)) / (alpha k_min): the
    factor of sector c's term in _node_bound's eta > 0 bound (the same at
    every node: computed once per search)."""
    kmin = np.inf
    for i in range(ws.sec.kind.shape[0]):
        if ws.sec.k[i] < kmin:
            kmin = ws.sec.k[i]
    eps = ws.pt.eps
    for c in range(ws.sec.kind.shape[0]):
        denom = 1.0 - eps * ws.sec.eta[c]
        gain[c] = math.expm1(ws.sec.logm1[c] / denom) / (ws.pt.alpha * kmin)


@jit
def _applies(ws):
    for i in range(ws.sec.kind.shape[0]):
        if ws.sec.tau[i] != 0.0:
            return False
    return True


@jit(_nrt=True)
def _bb(ws, root, items, nitems, equilibria):
    """Depth-first branch and bound over root u T, T a subset of items.
    equilibria: only stable equilibria (S's wage under its members'
    thresholds, supersets of failing sets cut). Returns (mask, W, log w)."""
    x0, w0 = binary_welfare(ws, root)
    best_mask = root
    best_w = w0
    best_x = x0
    best_k = popcount(root)
    if nitems == 0:
        return best_mask, best_w, best_x
    pos = np.empty(nitems + 1, np.int64)
    masks = np.empty(nitems + 1, np.int64)
    caps = np.empty(nitems + 1)
    costs = np.empty(nitems + 1)
    xs_ = np.empty(nitems + 1)  # log wage of the set at each depth
    gain = np.empty(ws.sec.kind.shape[0])
    if not ws.pt.fast:
        _gain_factors(ws, gain)
    xs_[0] = x0
    depth = 0
    pos[0] = 0
    masks[0] = root
    caps[0] = np.inf
    c = 0.0
    for i in range(ws.sec.kind.shape[0]):
        if (root >> i) & 1:
            c += ws.sec.cost[i]
    costs[0] = c
    while depth >= 0:
        p = pos[depth]
        if p >= nitems:
            depth -= 1
            if depth >= 0:
                pos[depth] += 1
            continue
        j = items[p]
        mask = masks[depth] | (np.int64(1) << j)
        cap = caps[depth]
        if equilibria:
            cap = min(cap, ws.sec.xbar[j])
            # (the wage only rises: below the parent's wage, no need to solve)
            if cap < xs_[depth]:
                pos[depth] += 1
                continue
        # one wage root per node, from the parent's wage (a subset's)
        xw, w = binary_welfare_from(ws, mask, xs_[depth])
        if equilibria and xw > cap:
            pos[depth] += 1
            continue
        k = popcount(mask)
        if better(w, k, mask, best_w, best_k, best_mask):
            best_w = w
            best_k = k
            best_mask = mask
            best_x = xw
        csum = costs[depth] + ws.sec.cost[j]
        nrest = nitems - p - 1
        descend = nrest > 0
        if descend:
            ub = _node_bound(ws, mask, csum, w, xw, items[p + 1:], nrest, cap, equilibria,
                             gain)
            tol = TIE_RTOL * max(abs(ub), abs(best_w)) + BOUND_RTOL * (abs(ub) + abs(csum))
            descend = ub >= best_w - tol
        if descend:
            masks[depth + 1] = mask
            caps[depth + 1] = cap
            costs[depth + 1] = csum
            xs_[depth + 1] = xw
            pos[depth + 1] = p + 1
            depth += 1
        else:
            pos[depth] += 1
    return best_mask, best_w, best_x


@jit(_nrt=True)
def _by_gain(ws, root, items, nitems):
    """items reordered by the welfare gain of adding each alone to root,
    largest first (a good incumbent early cuts more)."""
    gains = np.empty(nitems)
    x0, w0 = binary_welfare(ws, root)
    for j in range(nitems):
        gains[j] = w0 - binary_welfare_from(ws, root | (np.int64(1) << items[j]), x0)[1]
    order = np.argsort(gains, kind="mergesort")
    out = np.empty(nitems, np.int64)
    for j in range(nitems):
        out[j] = items[order[j]]
    return out


@jit(_nrt=True)
def best_equilibrium_bb(ws, zmask, cand, ncand):
    """(applies, best_mask, best_W, best_log_wage) over the stable
    equilibria; applies is False when some tau_i != 0."""
    if not _applies(ws):
        return False, np.int64(0), np.nan, np.nan
    items = _by_gain(ws, zmask, cand, ncand)
    m, w, x = _bb(ws, zmask, items, ncand, True)
    return True, m, w, x


@jit(_nrt=True)
def first_best_bb(ws, active, nactive):
    """(applies, mask, W): the best profile in {0,1}^N, inert sectors at 0."""
    if not _applies(ws):
        return False, np.int64(0), np.nan
    items = _by_gain(ws, np.int64(0), active, nactive)
    m, w, _ = _bb(ws, np.int64(0), items, nactive, False)
    return True, m, w
