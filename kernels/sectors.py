"""MODEL.md "Coordination-failure conditions, per sector": from the GE path
g_i(s) (kernels.economy.path_g), each sector's regime, critical mass,
partial share, gain from coordination and the subsidy it needs.
"""
import math

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.economy import (
    KIND_INERT, KIND_SPONT, SOLVER_PATH, binary_welfare, fast_g, fast_g_slope,
    fast_path_args, log_rent_full, path_g, path_welfare)
from coordsweep.kernels.jit import jit
from coordsweep.kernels.solvers import code
from coordsweep.kernels.rootfind import (
    make_bisect_root, make_brent_root, make_golden_peak, make_newton_root)

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
#: relative margin of the monotonicity certificate (path_increasing)
CERT_MARGIN = 1e-9
#: GE-path variants' codes (kernels/solvers.py SLOTS["path"])
PATH_BRENT = code("path", "brent")
PATH_BISECT = code("path", "bisect")
PATH_NEWTON = code("path", "newton")
PATH_LOCKSTEP = code("path", "lockstep")
#: the critical mass analyse_candidate returns for a root it leaves to the
#: block's lock-step search (kernels/lockstep.py)
DEFERRED = -1.0

#: root and peak of g_i(s) on a bracket in [0, 1]: path_root(a, b, g(a),
#: g(b), (ws, i)), path_peak(a, b, (ws, i))
path_root = make_brent_root(path_g)
path_peak = make_golden_peak(path_g)
#: the GE-path variant ``path=bisect`` (kernels/solvers.py)
path_bisect = make_bisect_root(path_g)
#: the same on the fast path, on g_i's scalars (economy.fast_path_args)
fast_root = make_brent_root(fast_g)
fast_peak = make_golden_peak(fast_g)
fast_bisect = make_bisect_root(fast_g)
#: the GE-path variant ``path=newton``: safeguarded Newton with g_i's
#: analytic slope (fast path only; elsewhere Brent answers)
fast_newton = make_newton_root(fast_g_slope)


@jit
def root_on_path(ws, i, a, b, fa, fb):
    """A root of g_i in [a, b] by the run's GE-path variant (a RootResults)."""
    code = ws.status[SOLVER_PATH]
    if ws.pt.fast:
        args = fast_path_args(ws, i)
        if code == PATH_BISECT:
            return fast_bisect(a, b, fa, fb, args)
        if code == PATH_NEWTON:
            return fast_newton(a, b, fa, fb, args)
        return fast_root(a, b, fa, fb, args)
    if code == PATH_BISECT:
        return path_bisect(a, b, fa, fb, (ws, i))
    return path_root(a, b, fa, fb, (ws, i))


@jit(inline="always")
def g_at(ws, i, s):
    """g_i(s) of a candidate sector i (the fast path on scalars)."""
    if ws.pt.fast:
        return fast_g(s, *fast_path_args(ws, i))
    return path_g(s, ws, i)


@jit
def peak_on_path(ws, i, a, b):
    """Golden-section peak of g_i on [a, b] (a PeakResults)."""
    if ws.pt.fast:
        return fast_peak(a, b, fast_path_args(ws, i))
    return path_peak(a, b, (ws, i))


@jit(inline="always")
def path_increasing(ws, i):
    """True when g_i is certainly strictly increasing on [0, 1] (candidate
    sector i; fast path, i.e. every eta = 0): then the shape samples are
    not needed.

    With h(s) = (1 + theta s)^eps - 1, X(s) = X0 + u s h(s) (X0: X at S0,
    sector i at 0; u = (q_i a_i)^eps) and g + c' = K h X^-alpha,
    d/ds log(g + c') = h'/h - alpha u (h + s h') / X, which is > 0 iff
    h' X0 + (1 - alpha) u s h h' > alpha u h^2. h is convex with h(0) = 0,
    so h <= s h' and alpha u h^2 <= alpha u s h h': it suffices that
    X0 + (1 - 2 alpha) u s h(s) > 0 on (0, 1] (h' > 0). Always true for
    alpha <= 1/2; otherwise s h(s) is largest at s = 1, where
    u h(1) = xb_i - xa_i, so X0 > (2 alpha - 1) (xb_i - xa_i) suffices
    (with a margin of CERT_MARGIN against rounding)."""
    pt = ws.pt
    if not pt.fast:
        return False
    alpha = pt.alpha
    if alpha <= 0.5:
        return True
    sec = ws.sec
    return pt.xa0 > (2.0 * alpha - 1.0) * (sec.xb[i] - sec.xa[i]) * (1.0 + CERT_MARGIN)


@jit
def sample_path(ws, i, g0, g1, gs, nk):
    """gs[k] = g_i(k / nk), k = 0..nk. Returns True when the samples rise
    and then (maybe) fall, never rising again (beyond rounding noise): the
    shape the searches rely on. The samples also narrow their brackets."""
    gs[0] = g0
    gs[nk] = g1
    if ws.pt.fast:
        args = fast_path_args(ws, i)
        for k in range(1, nk):
            gs[k] = fast_g(k / nk, *args)
    else:
        for k in range(1, nk):
            gs[k] = path_g(k / nk, ws, i)
    falling = False
    for k in range(1, nk + 1):
        tol = SHAPE_RTOL * max(abs(gs[k]), abs(gs[k - 1]), abs(g0))
        if gs[k] < gs[k - 1] - tol:
            falling = True
        elif gs[k] > gs[k - 1] + tol and falling:
            return False
    return True


@jit
def first_crossing(ws, i, gs, hi, nk):
    """Smallest root of g_i below hi / nk where gs[0] < 0 <= gs[hi]: the
    first sampled sign change, then Brent (or the path variant) inside it. Returns (root, converged)."""
    k = 1
    while k < hi and gs[k] < 0.0:
        k += 1
    r = root_on_path(ws, i, (k - 1) / nk, k / nk, gs[k - 1], gs[k])
    return r.root, r.converged


@jit
def analyse_candidate(ws, i, W_nc, zmask, gs, defer):
    """Regime, critical mass, partial share, gain, subsidy for a candidate
    sector i (neither inert nor spontaneous); W_nc: welfare at S0; gs:
    scratch for the samples; defer: the critical mass of a certified
    increasing path may be left to the block's lock-step search
    (kernels/lockstep.py; the critical mass returned is then DEFERRED).
    Returns (regime, critical_mass, partial_share, gain, subsidy_needed).
    (Over 80 lines: MODEL.md's regime conditions in their order, each
    reading the quantities the ones before computed.)"""
    sec = ws.sec
    mask1 = zmask | (np.int64(1) << i)
    x1, W1 = binary_welfare(ws, mask1)
    cost = sec.cost[i]
    # least sigma_i making S0 u {i} an equilibrium: R_i at w(S0 u {i}), s_i = 1
    logrent = log_rent_full(ws, i, x1)
    subsidy = max(0.0, 1.0 - math.exp(logrent + sec.lem1[i] - sec.logc[i]))
    g0 = -(1.0 - sec.sigma[i]) * cost
    if path_increasing(ws, i):
        # g_i rises from g0 < 0: regime 2 iff g_i(1) >= 0 (the threshold
        # test), with the unique root as critical mass; otherwise g_i < 0
        # on (0, 1): no partial coordination.
        if x1 <= sec.xbar[i]:
            if defer:
                return codes.COORDINATION_FAILURE, DEFERRED, np.nan, W1 - W_nc, subsidy
            g1 = g_at(ws, i, 1.0)
            if g1 >= 0.0:
                r = root_on_path(ws, i, 0.0, 1.0, g0, g1)
                cm = r.root
                if not r.converged:
                    ws.status[0] |= codes.PATH_NOT_CONVERGED
            else:  # the threshold test and g_i(1) disagree by rounding
                cm = 1.0
            return codes.COORDINATION_FAILURE, cm, np.nan, W1 - W_nc, subsidy
        regime = codes.NEEDS_SUBSIDY if W1 - W_nc > 0.0 else codes.NOT_WORTH
        return regime, np.nan, np.nan, W1 - W_nc, subsidy
    g1 = g_at(ws, i, 1.0)
    K = SHAPE_SAMPLES
    if not sample_path(ws, i, g0, g1, gs, K):
        ws.status[0] |= codes.PATH_SHAPE
        K = DENSE_SAMPLES
        sample_path(ws, i, g0, g1, gs, K)
    partial = np.nan
    if x1 <= sec.xbar[i]:
        # S0 u {i} is an equilibrium: g_i(1) >= 0. On an increasing or
        # single-peaked path the first crossing is the only sign change.
        if g1 >= 0.0:
            cm, conv = first_crossing(ws, i, gs, K, K)
            if not conv:
                ws.status[0] |= codes.PATH_NOT_CONVERGED
        else:  # the threshold test and g_i(1) disagree by rounding
            cm = 1.0
        return codes.COORDINATION_FAILURE, cm, partial, W1 - W_nc, subsidy
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
    if not sampled and (kmax < K or g_at(ws, i, 1.0 - SLOPE_STEP) >= g1):
        # the peak lies between the samples around kmax / K: golden section
        pk = peak_on_path(ws, i, klo / K, khi / K)
        speak, gpeak = pk.x, pk.fx
        if not pk.converged:
            ws.status[0] |= codes.PATH_NOT_CONVERGED
    if gpeak >= 0.0 and speak < 1.0:
        if sampled:  # the first and last non-negative samples bracket the roots
            cm, conv1 = first_crossing(ws, i, gs, kmax, K)
            j = K - 1
            while gs[j] < 0.0:
                j -= 1
            r = root_on_path(ws, i, j / K, (j + 1) / K, gs[j], gs[j + 1])
        else:  # a hump between two negative samples: its two crossings
            r = root_on_path(ws, i, klo / K, speak, gs[klo], gpeak)
            cm, conv1 = r.root, r.converged
            r = root_on_path(ws, i, speak, khi / K, gpeak, gs[khi])
        partial = r.root
        if not (conv1 and r.converged):
            ws.status[0] |= codes.PATH_NOT_CONVERGED
        gain = path_welfare(ws, i, partial) - W_nc
        return codes.PARTIAL_COORDINATION, cm, partial, gain, subsidy
    regime = codes.NEEDS_SUBSIDY if W1 - W_nc > 0.0 else codes.NOT_WORTH
    return regime, np.nan, partial, W1 - W_nc, subsidy


@jit(inline="always")
def analyse_sector(ws, i, W_nc, zmask, gs, defer):
    """MODEL.md's per-sector results for sector i at S0 (any kind; defer:
    see analyse_candidate). Returns
    (regime, critical_mass, partial_share, gain_coordinate, threshold_wage,
    subsidy_needed)."""
    kind = ws.sec.kind[i]
    if kind == KIND_INERT:
        return codes.INERT, np.nan, np.nan, 0.0, np.nan, np.nan
    wbar = ws.sec.wbar[i]
    if kind == KIND_SPONT:
        return codes.SPONTANEOUS, 0.0, np.nan, 0.0, wbar, 0.0
    r, cm, ps, gain, sub = analyse_candidate(ws, i, W_nc, zmask, gs, defer)
    return r, cm, ps, gain, wbar, sub
