"""MODEL.md "Stable general equilibria": the no-coordination equilibrium
S0 = Z, the set of stable equilibria and the best one, and the first best.

Profiles are bitmasks (bit i = sector i). Ties are MODEL.md's: higher W;
within TIE_RTOL, fewer sectors, then the lower bitmask.
"""
import math

import numpy as np

from coordsweep.kernels.economy import (
    KIND_CAND, KIND_INERT, KIND_SPONT, binary_log_wage, binary_welfare, log_wage,
    set_binary_profile)
from coordsweep.kernels.jit import jit

#: values within this relative distance are ties (MODEL.md's tie rules):
#: sums over identical sectors taken in another order differ in the last
#: bits (a few hundred ulps at most, in the log-space sums)
TIE_RTOL = 1e-13


@jit(inline="always")
def better(W, k, mask, best_W, best_k, best_mask):
    """MODEL.md's order: higher W; ties (within TIE_RTOL): fewer sectors,
    then lower bitmask."""
    tol = TIE_RTOL * max(abs(W), abs(best_W))
    if W > best_W + tol:
        return True
    if W < best_W - tol:
        return False
    if k != best_k:
        return k < best_k
    return mask < best_mask


@jit(inline="always")
def popcount(mask):
    c = 0
    while mask:
        mask &= mask - 1
        c += 1
    return c


@jit(inline="always")
def classify(ws, cand, active):
    """S0 = Z, the spontaneous sectors, as a mask; the candidates (neither
    inert nor spontaneous) into cand and the non-inert sectors into active,
    in index order. Returns (zmask, ncand, nactive)."""
    return classify_kinds(ws.sec.kind, cand, active)


@jit(inline="always")
def classify_kinds(kind, cand, active):
    """:func:`classify` on the sectors' kinds."""
    zmask = np.int64(0)
    ncand = 0
    nactive = 0
    for i in range(kind.shape[0]):
        if kind[i] == KIND_SPONT:
            zmask |= np.int64(1) << i
        if kind[i] == KIND_CAND:
            cand[ncand] = i
            ncand += 1
        if kind[i] != KIND_INERT:
            active[nactive] = i
            nactive += 1
    return zmask, ncand, nactive


@jit(inline="always")
def no_coordination(ws, zmask, value):
    """The no-coordination equilibrium S0 = Z: fills value[i] = V_i at S0
    (world prices). Returns (log w, W, fiscal cost F) at S0."""
    sec = ws.sec
    pt = ws.pt
    fiscal = 0.0
    if pt.table and pt.fast:
        # the wage from the profile table; L_i = L xs_i / X^ (linear-scale
        # sums): one exp instead of a wage and N exps
        x = ws.tx[zmask]
        wl = math.exp(x) * pt.labor
        for i in range(sec.lqa.shape[0]):
            xi = sec.xb[i] if sec.s0[i] == 1.0 else sec.xa[i]
            value[i] = wl * (xi / pt.xa0) / (pt.alpha * (1.0 + sec.tau[i]))
            fiscal += sec.tau[i] * value[i] + sec.sigma[i] * sec.s0[i] * sec.cost[i]
        return x, ws.tw[zmask], fiscal
    if pt.table:
        # some eta_i > 0 (kernels/etatable.py): the wage from the table,
        # log L_i = b_i - k_i x as economy.log_wage leaves them
        x = ws.tx[zmask]
        for i in range(sec.lqa.shape[0]):
            logm = sec.logm1[i] if sec.s0[i] == 1.0 else 0.0
            logl = sec.b0[i] + logm / (1.0 - pt.eps * sec.eta[i]) - sec.k[i] * x
            value[i] = math.exp(x + logl) / (pt.alpha * (1.0 + sec.tau[i]))
            fiscal += sec.tau[i] * value[i] + sec.sigma[i] * sec.s0[i] * sec.cost[i]
        return x, ws.tw[zmask], fiscal
    set_binary_profile(ws, zmask)
    x = log_wage(ws)
    for i in range(sec.lqa.shape[0]):
        value[i] = math.exp(x + ws.prof.logl[i]) / (ws.pt.alpha * (1.0 + sec.tau[i]))
        fiscal += sec.tau[i] * value[i] + sec.sigma[i] * sec.s0[i] * sec.cost[i]
    # wage and welfare as binary_welfare computes them for every profile
    x, W = binary_welfare(ws, zmask)
    return x, W, fiscal


@jit(inline="always")
def record_equilibrium(ws, mask, record, nrec, best_W, best_k, best_mask, best_x, first):
    """One equilibrium found: its mask goes into `record` while there is
    room, and it becomes the best when it is the first or beats the best
    in MODEL.md's order. Returns (nrec, best_W, best_k, best_mask, best_x)."""
    if nrec < record.shape[0]:
        record[nrec] = mask
        nrec += 1
    xW, W = binary_welfare(ws, mask)
    k = popcount(mask)
    if first or better(W, k, mask, best_W, best_k, best_mask):
        return nrec, W, k, mask, xW
    return nrec, best_W, best_k, best_mask, best_x


@jit(inline="always")
def search_start(stack, stackx, zmask):
    """The depth-first search over S = Z u T (:func:`enumerate_equilibria`)
    at its root, S = Z: returns the depth, 0. stack (int64, 2 x >= ncand +
    1: each level's position in cand and its mask) and stackx (float64,
    >= ncand + 1: each level's min log wbar) hold its state."""
    stack[0, 0] = 0
    stack[1, 0] = zmask
    stackx[0] = np.inf
    return 0


@jit(inline="always")
def search_next(stack, stackx, depth, cand, ncand, xbar):
    """The next profile the search tries: the levels whose candidates are
    all tried are left first. Returns (depth, mask, bound), bound = min
    log wbar over its candidates; depth -1 when the search is over."""
    while depth >= 0 and stack[0, depth] >= ncand:
        depth -= 1
        if depth >= 0:
            stack[0, depth] += 1
    if depth < 0:
        return depth, np.int64(0), 0.0
    j = cand[stack[0, depth]]
    return depth, stack[1, depth] | (np.int64(1) << j), min(stackx[depth], xbar[j])


@jit(inline="always")
def search_settle(stack, stackx, depth, mask, bound, stable):
    """After the profile :func:`search_next` gave was tested: a stable one
    is descended into (its supersets next), else its next sibling is.
    Returns the new depth."""
    if stable:
        stack[1, depth + 1] = mask
        stackx[depth + 1] = bound
        stack[0, depth + 1] = stack[0, depth] + 1
        return depth + 1
    stack[0, depth] += 1
    return depth


@jit
def enumerate_equilibria(ws, zmask, cand, ncand, record, stack, stackx):
    """Depth-first search over S = Z u T, T a subset of the candidates in
    index order. S is an equilibrium iff log w(S) <= min_{i in T} log wbar_i;
    the family is closed under removal, so a failing set's supersets are
    never visited. Returns (count, best_mask, best_W, best_logw, nrec);
    the masks of the equilibria are written into `record` while it has room.
    stack (int64, 2 x >= ncand + 1) and stackx (float64, >= ncand + 1): room
    for the search's stack (the block kernel's scratch).
    """
    x0, W0 = binary_welfare(ws, zmask)
    count = 1
    best_mask = zmask
    best_W = W0
    best_x = x0
    best_k = popcount(zmask)
    nrec = 0
    if record.shape[0] > 0:
        record[0] = zmask
        nrec = 1
    if ncand == 0:
        return count, best_mask, best_W, best_x, nrec
    xbar = ws.sec.xbar
    table = ws.pt.table  # (see first_best)
    tx = ws.tx
    depth = search_start(stack, stackx, zmask)
    while True:
        depth, mask, bound = search_next(stack, stackx, depth, cand, ncand, xbar)
        if depth < 0:
            break
        x = tx[mask] if table else binary_log_wage(ws, mask)
        stable = x <= bound
        if stable:
            count += 1
            nrec, best_W, best_k, best_mask, best_x = record_equilibrium(
                ws, mask, record, nrec, best_W, best_k, best_mask, best_x, False)
        depth = search_settle(stack, stackx, depth, mask, bound, stable)
    return count, best_mask, best_W, best_x, nrec


@jit
def first_best(ws, active, nactive):
    """Best profile in {0,1}^N with inert sectors at 0. Returns (mask, W)."""
    best_mask = np.int64(0)
    best_W = -np.inf
    best_k = 0
    # the profile table (kernels/table.py), taken out of ws once: reading
    # it through ws costs reference counting in every iteration
    table = ws.pt.table
    tw = ws.tw
    for code in range(np.int64(1) << nactive):
        mask = np.int64(0)
        for b in range(nactive):
            if (code >> b) & 1:
                mask |= np.int64(1) << active[b]
        W = tw[mask] if table else binary_welfare(ws, mask)[1]
        k = popcount(mask)
        if code == 0 or better(W, k, mask, best_W, best_k, best_mask):
            best_W = W
            best_k = k
            best_mask = mask
    return best_mask, best_W


@jit(inline="always")
def tabled_equilibria(tx, tw, xbar, zmask, cand, ncand, active, nactive, stack, stackx):
    """:func:`enumerate_equilibria` and :func:`first_best` for a point with
    a profile table (tx, tw: its log wages and welfares by mask; xbar: its
    sectors' log threshold wages), no masks recorded: the same search and
    the same comparisons on the table's values, read directly. Returns
    (count, best_mask, best_W, fb_mask, fb_W)."""
    count = 1
    best_mask = zmask
    best_W = tw[zmask]
    best_k = popcount(zmask)
    depth = search_start(stack, stackx, zmask)
    while True:
        depth, mask, bound = search_next(stack, stackx, depth, cand, ncand, xbar)
        if depth < 0:
            break
        stable = tx[mask] <= bound
        if stable:
            count += 1
            W = tw[mask]
            k = popcount(mask)
            if better(W, k, mask, best_W, best_k, best_mask):
                best_W = W
                best_k = k
                best_mask = mask
        depth = search_settle(stack, stackx, depth, mask, bound, stable)
    fb_mask = np.int64(0)
    fb_W = -np.inf
    fb_k = 0
    every = nactive == xbar.shape[0]  # (then a profile's code is its mask)
    for code in range(np.int64(1) << nactive):
        mask = code
        if not every:
            mask = np.int64(0)
            for b in range(nactive):
                if (code >> b) & 1:
                    mask |= np.int64(1) << active[b]
        W = tw[mask]
        k = popcount(mask)
        if code == 0 or better(W, k, mask, fb_W, fb_k, fb_mask):
            fb_W = W
            fb_k = k
            fb_mask = mask
    return count, best_mask, best_W, fb_mask, fb_W
