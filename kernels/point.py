"""Every per-point output of MODEL.md: the scalar kernel and the block kernel.

``solve_point_into`` solves one parameter point and writes row ``p`` of the
output arrays; ``solve_block`` loops it over a block of points (serial,
``nogil``: dask supplies the parallelism). Outputs at a point depend on that
point's inputs only, so results do not depend on how points are blocked.
"""
import math

import numpy as np
from coordsweep.kernels.jit import jit

from coordsweep.kernels import codes
from coordsweep.kernels.economy import (
    KIND_CAND, KIND_INERT, KIND_SPONT, NSP, NSV, NTMP, SP_ALPHA,
    SV_COST, SV_KIND, SV_S0, SV_SIGMA, SV_TAU, SV_XBAR, SV_LOGM1,
    T_LOGL, binary_log_wage, binary_welfare, log_expm1, log_rent_full,
    log_wage, path_g, path_welfare, prepare, set_binary_profile)
from coordsweep.kernels.rootfind import brent_root, golden_peak

#: samples of g_i on (0, 1] used to check that the path is increasing or
#: single-peaked (the searches rely on it; PATH_SHAPE flags a violation)
SHAPE_SAMPLES = 8
#: when the samples show a path that rises again after falling (it happens
#: for large theta at high labour shares), the searches start again from
#: this many samples, so that the first and last crossings are still found
#: unless g_i wiggles on a finer scale; the point keeps its PATH_SHAPE bit
DENSE_SAMPLES = 64
#: a rise or fall of g_i smaller than this (relative) is rounding noise
SHAPE_RTOL = 1e-12
#: step used to tell whether g_i still rises at s = 1
SLOPE_STEP = 1e-7
#: values within this relative distance are ties (MODEL.md's tie rules):
#: sums over identical sectors taken in another order differ in the last
#: bits (a few hundred ulps at most, in the log-space sums)
TIE_RTOL = 1e-13


@jit
def _better(w, k, mask, best_w, best_k, best_mask):
    """MODEL.md's order: higher W; ties (within TIE_RTOL): fewer sectors,
    then lower bitmask."""
    tol = TIE_RTOL * max(abs(w), abs(best_w))
    if w > best_w + tol:
        return True
    if w < best_w - tol:
        return False
    if k != best_k:
        return k < best_k
    return mask < best_mask


@jit
def _popcount(mask):
    c = 0
    while mask:
        mask &= mask - 1
        c += 1
    return c


@jit
def enumerate_equilibria(sp, sv, tmp, st, zmask, cand, ncand, record):
    """Depth-first search over S = Z u T, T a subset of the candidates in
    index order. S is an equilibrium iff log w(S) <= min_{i in T} log wbar_i;
    the family is closed under removal, so a failing set's supersets are
    never visited. Returns (count, best_mask, best_W, best_logw, nrec);
    the masks of the equilibria are written into `record` while it has room.
    """
    x0, w0 = binary_welfare(sp, sv, tmp, st, zmask)
    count = 1
    best_mask = zmask
    best_w = w0
    best_x = x0
    best_k = _popcount(zmask)
    nrec = 0
    if record.shape[0] > 0:
        record[0] = zmask
        nrec = 1
    if ncand == 0:
        return count, best_mask, best_w, best_x, nrec
    pos = np.empty(ncand + 1, np.int64)
    masks = np.empty(ncand + 1, np.int64)
    minx = np.empty(ncand + 1, np.float64)
    depth = 0
    pos[0] = 0
    masks[0] = zmask
    minx[0] = np.inf
    while depth >= 0:
        if pos[depth] >= ncand:
            depth -= 1
            if depth >= 0:
                pos[depth] += 1
            continue
        j = cand[pos[depth]]
        mask = masks[depth] | (np.int64(1) << j)
        bound = min(minx[depth], sv[SV_XBAR, j])
        x = binary_log_wage(sp, sv, tmp, st, mask)
        if x <= bound:
            count += 1
            if nrec < record.shape[0]:
                record[nrec] = mask
                nrec += 1
            xw, w = binary_welfare(sp, sv, tmp, st, mask)
            k = _popcount(mask)
            if _better(w, k, mask, best_w, best_k, best_mask):
                best_w = w
                best_k = k
                best_mask = mask
                best_x = xw
            masks[depth + 1] = mask
            minx[depth + 1] = bound
            pos[depth + 1] = pos[depth] + 1
            depth += 1
        else:
            pos[depth] += 1
    return count, best_mask, best_w, best_x, nrec


@jit
def first_best(sp, sv, tmp, st, active, nactive):
    """Best profile in {0,1}^N with inert sectors at 0. Returns (mask, W)."""
    best_mask = np.int64(0)
    best_w = -np.inf
    best_k = 0
    for code in range(np.int64(1) << nactive):
        mask = np.int64(0)
        for b in range(nactive):
            if (code >> b) & 1:
                mask |= np.int64(1) << active[b]
        w = binary_welfare(sp, sv, tmp, st, mask)[1]
        k = _popcount(mask)
        if code == 0 or _better(w, k, mask, best_w, best_k, best_mask):
            best_w = w
            best_k = k
            best_mask = mask
    return best_mask, best_w


@jit
def _sample_path(ws, i, g0, g1, gs, nk):
    """gs[k] = g_i(k / nk), k = 0..nk. Returns True when the samples rise
    and then (maybe) fall, never rising again (beyond rounding noise): the
    shape the searches rely on. The samples also narrow their brackets."""
    gs[0] = g0
    gs[nk] = g1
    for k in range(1, nk):
        gs[k] = path_g(ws, i, k / nk)
    falling = False
    for k in range(1, nk + 1):
        tol = SHAPE_RTOL * max(abs(gs[k]), abs(gs[k - 1]), abs(g0))
        if gs[k] < gs[k - 1] - tol:
            falling = True
        elif gs[k] > gs[k - 1] + tol and falling:
            return False
    return True


@jit
def _first_crossing(ws, i, gs, hi, nk):
    """Smallest root of g_i below hi / nk where gs[0] < 0 <= gs[hi]: the
    first sampled sign change, then Brent inside it."""
    k = 1
    while k < hi and gs[k] < 0.0:
        k += 1
    return brent_root(ws, i, (k - 1) / nk, k / nk, gs[k - 1], gs[k])


@jit
def analyse_sector(ws, i, x_nc, w_nc, zmask, gs):
    """Regime, critical mass, partial share, gain, subsidy for a candidate
    sector i (neither inert nor spontaneous); gs: scratch for the samples.
    Returns (regime, critical_mass, partial_share, gain, subsidy_needed)."""
    sp, sv, tmp, st = ws
    mask1 = zmask | (np.int64(1) << i)
    x1, w1 = binary_welfare(sp, sv, tmp, st, mask1)
    cost = sv[SV_COST, i]
    # least sigma_i making S0 u {i} an equilibrium: R_i at w(S0 u {i}), s_i = 1
    logrent = log_rent_full(sp, sv, tmp, i, x1)
    subsidy = max(0.0, 1.0 - math.exp(logrent + log_expm1(sv[SV_LOGM1, i]) - math.log(cost)))
    g0 = -(1.0 - sv[SV_SIGMA, i]) * cost
    g1 = path_g(ws, i, 1.0)
    K = SHAPE_SAMPLES
    if not _sample_path(ws, i, g0, g1, gs, K):
        st[0] |= codes.PATH_SHAPE
        K = DENSE_SAMPLES
        _sample_path(ws, i, g0, g1, gs, K)
    partial = np.nan
    if x1 <= sv[SV_XBAR, i]:
        # S0 u {i} is an equilibrium: g_i(1) >= 0. On an increasing or
        # single-peaked path the first crossing is the only sign change.
        if g1 >= 0.0:
            cm, conv = _first_crossing(ws, i, gs, K, K)
            if not conv:
                st[0] |= codes.PATH_NOT_CONVERGED
        else:  # the threshold test and g_i(1) disagree by rounding
            cm = 1.0
        return codes.COORDINATION_FAILURE, cm, partial, w1 - w_nc, subsidy
    # g_i(1) < 0: is there an interior peak above zero?
    kmax = 0
    for k in range(1, K + 1):
        if gs[k] > gs[kmax]:
            kmax = k
    speak = kmax / K
    gpeak = gs[kmax]
    sampled = gpeak >= 0.0
    klo = max(kmax - 1, 0)
    khi = min(kmax + 1, K)
    if not sampled and (kmax < K or path_g(ws, i, 1.0 - SLOPE_STEP) >= g1):
        # the peak lies between the samples around kmax / K: golden section
        speak, gpeak, conv = golden_peak(ws, i, klo / K, khi / K)
        if not conv:
            st[0] |= codes.PATH_NOT_CONVERGED
    if gpeak >= 0.0 and speak < 1.0:
        if sampled:  # the first and last non-negative samples bracket the roots
            cm, conv1 = _first_crossing(ws, i, gs, kmax, K)
            j = K - 1
            while gs[j] < 0.0:
                j -= 1
            partial, conv2 = brent_root(ws, i, j / K, (j + 1) / K, gs[j], gs[j + 1])
        else:  # a hump between two negative samples: its two crossings
            cm, conv1 = brent_root(ws, i, klo / K, speak, gs[klo], gpeak)
            partial, conv2 = brent_root(ws, i, speak, khi / K, gpeak, gs[khi])
        if not (conv1 and conv2):
            st[0] |= codes.PATH_NOT_CONVERGED
        gain = path_welfare(ws, i, partial) - w_nc
        return codes.PARTIAL_COORDINATION, cm, partial, gain, subsidy
    regime = codes.NEEDS_SUBSIDY if w1 - w_nc > 0.0 else codes.NOT_WORTH
    return regime, np.nan, partial, w1 - w_nc, subsidy


@jit
def _argmax_first(values, rtol, scale):
    """Index of the largest value; ties (within rtol of the larger of the
    two values and `scale`) go to the lower index."""
    best = 0
    for i in range(1, values.shape[0]):
        tol = rtol * max(abs(values[i]), abs(values[best]), scale)
        if values[i] > values[best] + tol:
            best = i
    return best


@jit
def solve_point_into(
        p, labor, alpha, price, prod, theta, cost, eta, tau, sigma,
        sp, sv, tmp, st, cand, active, vnc, record,
        # outputs, in kernels.outputs.OUTPUTS order
        wage_nc, welfare_nc, n_equilibria, has_partial, welfare_best_eq,
        wage_best_eq, welfare_fb, coordination_gap, provision_gap,
        target_ca, target_cluster, target_best, gain_ca, gain_cluster,
        gain_best, fiscal_cost_nc, status,
        regime, critical_mass, partial_share, gain_coordinate,
        threshold_wage, subsidy_needed, coop_best_eq, coop_fb):
    """Solve point p (inputs are its rows) and write row p of the outputs.
    Returns the number of equilibrium masks written into `record`."""
    n = price.shape[0]
    if not prepare(labor, alpha, price, prod, theta, cost, eta, tau, sigma,
                   sp, sv, tmp, st):
        wage_nc[p] = welfare_nc[p] = welfare_best_eq[p] = np.nan
        wage_best_eq[p] = welfare_fb[p] = coordination_gap[p] = np.nan
        provision_gap[p] = gain_ca[p] = gain_cluster[p] = np.nan
        gain_best[p] = fiscal_cost_nc[p] = np.nan
        n_equilibria[p] = 0
        has_partial[p] = False
        target_ca[p] = target_cluster[p] = target_best[p] = -1
        status[p] = st[0]
        for i in range(n):
            regime[p, i] = -1
            critical_mass[p, i] = partial_share[p, i] = np.nan
            gain_coordinate[p, i] = threshold_wage[p, i] = np.nan
            subsidy_needed[p, i] = np.nan
            coop_best_eq[p, i] = coop_fb[p, i] = False
        return 0
    ws = (sp, sv, tmp, st)
    alpha_ = sp[SP_ALPHA]
    gsamp = np.empty(DENSE_SAMPLES + 1)
    zmask = np.int64(0)
    ncand = 0
    nactive = 0
    for i in range(n):
        kind = sv[SV_KIND, i]
        if kind == KIND_SPONT:
            zmask |= np.int64(1) << i
        if kind == KIND_CAND:
            cand[ncand] = i
            ncand += 1
        if kind != KIND_INERT:
            active[nactive] = i
            nactive += 1

    # --- no-coordination equilibrium S0 = Z ------------------------------
    set_binary_profile(sv, tmp, zmask)
    x_nc = log_wage(sp, sv, tmp, st)
    fiscal = 0.0
    for i in range(n):
        vnc[i] = math.exp(x_nc + tmp[T_LOGL, i]) / (alpha_ * (1.0 + sv[SV_TAU, i]))
        fiscal += sv[SV_TAU, i] * vnc[i] + sv[SV_SIGMA, i] * sv[SV_S0, i] * sv[SV_COST, i]
    x_nc, w_nc = binary_welfare(sp, sv, tmp, st, zmask)
    wage_nc[p] = math.exp(x_nc)
    welfare_nc[p] = w_nc
    fiscal_cost_nc[p] = fiscal

    # --- stable equilibria and the best one ------------------------------
    count, best_mask, best_w, best_x, nrec = enumerate_equilibria(
        sp, sv, tmp, st, zmask, cand, ncand, record)
    n_equilibria[p] = count
    welfare_best_eq[p] = best_w
    wage_best_eq[p] = math.exp(best_x)
    coordination_gap[p] = max(0.0, best_w - w_nc)

    # --- first best -------------------------------------------------------
    fb_mask, fb_w = first_best(sp, sv, tmp, st, active, nactive)
    welfare_fb[p] = fb_w
    provision_gap[p] = max(0.0, fb_w - best_w)  # < 0 only within a tie
    for i in range(n):
        coop_best_eq[p, i] = (best_mask >> i) & 1 == 1
        coop_fb[p, i] = (fb_mask >> i) & 1 == 1

    # --- per-sector coordination-failure conditions ----------------------
    partial_any = False
    for i in range(n):
        kind = sv[SV_KIND, i]
        threshold_wage[p, i] = math.exp(sv[SV_XBAR, i])
        if kind == KIND_INERT:
            regime[p, i] = codes.INERT
            critical_mass[p, i] = np.nan
            partial_share[p, i] = np.nan
            gain_coordinate[p, i] = 0.0
            threshold_wage[p, i] = np.nan
            subsidy_needed[p, i] = np.nan
        elif kind == KIND_SPONT:
            regime[p, i] = codes.SPONTANEOUS
            critical_mass[p, i] = 0.0
            partial_share[p, i] = np.nan
            gain_coordinate[p, i] = 0.0
            subsidy_needed[p, i] = 0.0
        else:
            r, cm, ps, gain, sub = analyse_sector(ws, i, x_nc, w_nc, zmask, gsamp)
            regime[p, i] = r
            critical_mass[p, i] = cm
            partial_share[p, i] = ps
            gain_coordinate[p, i] = gain
            subsidy_needed[p, i] = sub
            if r == codes.PARTIAL_COORDINATION:
                partial_any = True
    has_partial[p] = partial_any

    # --- targeting --------------------------------------------------------
    tca = _argmax_first(vnc, TIE_RTOL, 0.0)
    tcl = _argmax_first(theta, 0.0, 0.0)
    # gains are welfare differences: compare them on the welfare scale
    tbe = _argmax_first(gain_coordinate[p], TIE_RTOL, abs(w_nc))
    target_ca[p] = tca
    target_cluster[p] = tcl
    target_best[p] = tbe
    gain_ca[p] = gain_coordinate[p, tca]
    gain_cluster[p] = gain_coordinate[p, tcl]
    gain_best[p] = gain_coordinate[p, tbe]

    # --- never a silent NaN ----------------------------------------------
    finite = (math.isfinite(wage_nc[p]) and math.isfinite(welfare_nc[p])
              and math.isfinite(welfare_best_eq[p])
              and math.isfinite(wage_best_eq[p])
              and math.isfinite(welfare_fb[p])
              and math.isfinite(fiscal_cost_nc[p]))
    for i in range(n):
        if not math.isfinite(gain_coordinate[p, i]):
            finite = False
        if sv[SV_KIND, i] == KIND_CAND:
            if not (math.isfinite(threshold_wage[p, i])
                    and math.isfinite(subsidy_needed[p, i])):
                finite = False
            r = regime[p, i]
            if (r == codes.COORDINATION_FAILURE or r == codes.PARTIAL_COORDINATION) \
                    and math.isnan(critical_mass[p, i]):
                finite = False
    if not finite:
        st[0] |= codes.NON_FINITE
    status[p] = st[0]
    return nrec


@jit
def solve_block(labor, alpha, price, prod, theta, cost, eta, tau, sigma,
                wage_nc, welfare_nc, n_equilibria, has_partial,
                welfare_best_eq, wage_best_eq, welfare_fb, coordination_gap,
                provision_gap, target_ca, target_cluster, target_best,
                gain_ca, gain_cluster, gain_best, fiscal_cost_nc, status,
                regime, critical_mass, partial_share, gain_coordinate,
                threshold_wage, subsidy_needed, coop_best_eq, coop_fb):
    """Solve every point of a block: labor, alpha shape (P,); the sector
    parameters shape (P, N); outputs preallocated (kernels.outputs order)."""
    npts = price.shape[0]
    n = price.shape[1]
    sp = np.empty(NSP)
    sv = np.empty((NSV, n))
    tmp = np.empty((NTMP, n))
    st = np.zeros(1, np.int64)
    cand = np.empty(n, np.int64)
    active = np.empty(n, np.int64)
    vnc = np.empty(n)
    record = np.empty(0, np.int64)
    for p in range(npts):
        solve_point_into(
            p, labor[p], alpha[p], price[p], prod[p], theta[p], cost[p],
            eta[p], tau[p], sigma[p], sp, sv, tmp, st, cand, active, vnc,
            record,
            wage_nc, welfare_nc, n_equilibria, has_partial, welfare_best_eq,
            wage_best_eq, welfare_fb, coordination_gap, provision_gap,
            target_ca, target_cluster, target_best, gain_ca, gain_cluster,
            gain_best, fiscal_cost_nc, status,
            regime, critical_mass, partial_share, gain_coordinate,
            threshold_wage, subsidy_needed, coop_best_eq, coop_fb)
