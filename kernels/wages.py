"""Wage roots for eta > 0 other than the default safeguarded Newton
(kernels/economy.py's ``log_wage``): Brent, bisection, and the slot of a
user's function (kernels/solvers.py documents its signature; a relinked
build, kernels/relink.py, binds :func:`user_wage` to it).

Every function solves h(x) = log(sum_i exp(b_i - k_i x)) - log L = 0 on
[lo, hi] (h convex, strictly decreasing, h(lo) >= 0 >= h(hi)) and returns
(x, converged).
"""
import math

import numpy as np
from coordsweep.kernels.jit import jit

EPS = 2.220446049250313e-16
MAXITER = 200


@jit
def labour_gap(b, k, log_labor, x):
    """h(x) = log(sum_i exp(b_i - k_i x)) - log L."""
    mx = -np.inf
    for i in range(b.shape[0]):
        t = b[i] - k[i] * x
        if t > mx:
            mx = t
    s = 0.0
    for i in range(b.shape[0]):
        s += math.exp(b[i] - k[i] * x - mx)
    return mx + math.log(s) - log_labor


@jit
def wage_bisect(b, k, log_labor, lo, hi):
    """Bisection until the bracket is a few ulps wide."""
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if hi - lo <= 4.0 * EPS * max(1.0, abs(mid)) or mid == lo or mid == hi:
            return mid, True
        if labour_gap(b, k, log_labor, mid) >= 0.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi), False


@jit
def wage_brent(b, k, log_labor, lo, hi):
    """Brent's method (as SciPy's brentq) on h over [lo, hi]."""
    fa = labour_gap(b, k, log_labor, lo)
    fb = labour_gap(b, k, log_labor, hi)
    if fa == 0.0:
        return lo, True
    if fb == 0.0:
        return hi, True
    xpre, xcur = lo, hi
    fpre, fcur = fa, fb
    xblk = 0.0
    fblk = 0.0
    spre = 0.0
    scur = 0.0
    for _ in range(MAXITER):
        if fpre * fcur < 0.0:
            xblk = xpre
            fblk = fpre
            spre = xcur - xpre
            scur = spre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (4.0 * EPS * max(1.0, abs(xcur))) / 2.0
        sbis = (xblk - xcur) / 2.0
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur, True
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2.0 * abs(stry) < min(abs(spre), 3.0 * abs(sbis) - delta):
                spre = scur
                scur = stry
            else:
                spre = sbis
                scur = sbis
        else:
            spre = sbis
            scur = sbis
        xpre = xcur
        fpre = fcur
        if abs(scur) > delta:
            xcur += scur
        else:
            xcur += delta if sbis > 0 else -delta
        fcur = labour_gap(b, k, log_labor, xcur)
    return xcur, False


@jit
def user_wage(b, k, log_labor, lo, hi):
    """Placeholder of a user's wage function: a relinked build
    (kernels/relink.py) binds this name to the user's @njit function."""
    return wage_bisect(b, k, log_labor, lo, hi)
