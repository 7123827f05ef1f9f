"""MODEL.md "Every equilibrium": the K best stable equilibria of a point,
best first (W descending; ties within TIE_RTOL: fewer sectors, then the
lower bitmask), exact for every N.

Two searches give the same list:

- :func:`list_dfs`: kernels/equilibria.py's pruned depth-first search over
  every stable equilibrium, each one offered to the list (cheap where the
  profile table holds every W, N <= 10; the answer wherever the bounds of
  the other search do not hold, i.e. some tau_i != 0);
- :func:`list_bb`: kernels/many.py's branch and bound, the incumbent being
  the K-th best listed so far: a subtree is cut when its upper bound is
  below the K-th entry by more than the tie tolerance, so points with
  millions of equilibria visit only the few sets near the top.

:func:`list_block` runs one of them on every point of a prepared block
(kernels/point.py) after the block kernel, into the arrays of
kernels/outputs.py's ``eq_*`` rows: it adds nothing to a block kernel
that lists nothing.
"""
import math

import numpy as np

from coordsweep.kernels.economy import binary_log_wage, binary_welfare
from coordsweep.kernels.equilibria import (
    TIE_RTOL, better, classify, popcount, search_next, search_settle, search_start)
from coordsweep.kernels.jit import jit
from coordsweep.kernels.many import (
    BOUND_RTOL, _applies, _by_gain, _gain_factors, _node_bound)
from coordsweep.kernels.point import workspace_at
from coordsweep.kernels.table import TABLE_MAX_SECTORS

#: eq_mask of an empty slot (uint32: all bits set)
MASK_FILL = np.uint32(0xFFFFFFFF)
#: the list's method: by the point (dfs where the profile table holds
#: every profile or the bounds do not hold, else branch and bound), or one
#: of the two (the tests check both against each other)
LIST_AUTO = 0
LIST_DFS = 1
LIST_BB = 2


@jit(inline="always")
def offer(lm, lw, lx, lk, n, mask, W, x):
    """Offer one equilibrium to the list (lm masks, lw W, lx log w, lk
    sizes, the first n entries used, best first; capacity lm.shape[0]).
    Returns the new length."""
    cap = lm.shape[0]
    k = popcount(mask)
    if n == cap and not better(W, k, mask, lw[n - 1], lk[n - 1], lm[n - 1]):
        return n
    pos = n if n < cap else cap - 1
    while pos > 0 and better(W, k, mask, lw[pos - 1], lk[pos - 1], lm[pos - 1]):
        lm[pos] = lm[pos - 1]
        lw[pos] = lw[pos - 1]
        lx[pos] = lx[pos - 1]
        lk[pos] = lk[pos - 1]
        pos -= 1
    lm[pos] = mask
    lw[pos] = W
    lx[pos] = x
    lk[pos] = k
    return n + 1 if n < cap else n


@jit
def list_dfs(ws, zmask, cand, ncand, lm, lw, lx, lk, stack, stackx):
    """Every stable equilibrium (the pruned search of
    kernels/equilibria.py), each offered to the list. Returns its length."""
    x0, W0 = binary_welfare(ws, zmask)
    n = offer(lm, lw, lx, lk, 0, zmask, W0, x0)
    if ncand == 0:
        return n
    xbar = ws.sec.xbar
    depth = search_start(stack, stackx, zmask)
    while True:
        depth, mask, bound = search_next(stack, stackx, depth, cand, ncand, xbar)
        if depth < 0:
            break
        stable = binary_log_wage(ws, mask) <= bound
        if stable:
            xW, W = binary_welfare(ws, mask)
            n = offer(lm, lw, lx, lk, n, mask, W, xW)
        depth = search_settle(stack, stackx, depth, mask, bound, stable)
    return n


@jit(_nrt=True)
def list_bb(ws, zmask, cand, ncand, lm, lw, lx, lk):
    """Branch and bound over the stable equilibria (every tau_i = 0:
    kernels/many.py's bounds), the incumbent being the list's last entry
    once it is full. Returns the list's length."""
    x0, W0 = binary_welfare(ws, zmask)
    n = offer(lm, lw, lx, lk, 0, zmask, W0, x0)
    if ncand == 0:
        return n
    cap = lm.shape[0]
    items = _by_gain(ws, zmask, cand, ncand)
    nitems = ncand
    pos = np.empty(nitems + 1, np.int64)
    masks = np.empty(nitems + 1, np.int64)
    caps = np.empty(nitems + 1)
    costs = np.empty(nitems + 1)
    xs_ = np.empty(nitems + 1)
    xs_[0] = x0
    gain = np.empty(ws.sec.kind.shape[0])
    if not ws.pt.fast:
        _gain_factors(ws, gain)
    depth = 0
    pos[0] = 0
    masks[0] = zmask
    caps[0] = np.inf
    c = 0.0
    for i in range(ws.sec.kind.shape[0]):
        if (zmask >> i) & 1:
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
        capx = min(caps[depth], ws.sec.xbar[j])
        # (the wage only rises: below the parent's wage, no need to solve)
        if capx < xs_[depth] or binary_log_wage(ws, mask) > capx:
            pos[depth] += 1
            continue
        xw, w = binary_welfare(ws, mask)
        n = offer(lm, lw, lx, lk, n, mask, w, xw)
        csum = costs[depth] + ws.sec.cost[j]
        nrest = nitems - p - 1
        descend = nrest > 0
        if descend and n == cap:
            thr = lw[cap - 1]
            ub = _node_bound(ws, mask, csum, w, xw, items[p + 1:], nrest, capx, True, gain)
            tol = TIE_RTOL * max(abs(ub), abs(thr)) + BOUND_RTOL * (abs(ub) + abs(csum))
            descend = ub >= thr - tol
        if descend:
            masks[depth + 1] = mask
            caps[depth + 1] = capx
            costs[depth + 1] = csum
            xs_[depth + 1] = xw
            pos[depth + 1] = p + 1
            depth += 1
        else:
            pos[depth] += 1
    return n


@jit(_nrt=True)
def list_equilibria(ws, zmask, cand, ncand, lm, lw, lx, lk, stack, stackx, method):
    """The K = lm.shape[0] best stable equilibria into the list, by
    `method` (LIST_AUTO, LIST_DFS, LIST_BB; LIST_BB where its bounds do
    not hold falls back to the depth-first search). Returns the length."""
    if method == LIST_AUTO:
        method = LIST_DFS if ncand <= TABLE_MAX_SECTORS else LIST_BB
    if method == LIST_BB and _applies(ws):
        return list_bb(ws, zmask, cand, ncand, lm, lw, lx, lk)
    return list_dfs(ws, zmask, cand, ncand, lm, lw, lx, lk, stack, stackx)


@jit(_nrt=True)
def list_block(prep, scr, eq_mask, eq_welfare, eq_wage, eq_listed, status, method):
    """The list of every point of a prepared block (kernels/point.py;
    scr: its Scratch) into eq_mask (P x K, uint32), eq_welfare, eq_wage
    (P x K) and eq_listed (P); the status bits its wage roots set are
    added to status (P). Empty slots and points outside the domains:
    MASK_FILL and NaN (eq_listed 0)."""
    npts, cap = eq_mask.shape
    lm = np.empty(cap, np.int64)
    lw = np.empty(cap)
    lx = np.empty(cap)
    lk = np.empty(cap, np.int64)
    for p in range(npts):
        ws = workspace_at(prep, p, scr)
        n = 0
        if prep.valid[p]:
            zmask, ncand, _ = classify(ws, scr.cand, scr.active)
            n = list_equilibria(ws, zmask, scr.cand, ncand, lm, lw, lx, lk,
                                scr.stack, scr.stackx, method)
            status[p] |= ws.status[0]
        for e in range(cap):
            if e < n:
                eq_mask[p, e] = lm[e]
                eq_welfare[p, e] = lw[e]
                eq_wage[p, e] = math.exp(lx[e])
            else:
                eq_mask[p, e] = MASK_FILL
                eq_welfare[p, e] = np.nan
                eq_wage[p, e] = np.nan
        eq_listed[p] = n
