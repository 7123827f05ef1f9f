"""Wage roots for eta > 0 other than the default safeguarded Newton
(kernels/economy.py's ``log_wage``): Brent, bisection, and the slot of a
user's function (kernels/solvers.py documents its signature; a relinked
build, kernels/relink.py, binds :func:`user_wage` to it).

Every function solves h(x) = log(sum_i exp(b_i - k_i x)) - log L = 0 on
[lo, hi] (h convex, strictly decreasing, h(lo) >= 0 >= h(hi) up to
rounding; lo = hi with one sector) and returns (x, converged). Like the
Newton iteration, which starts at lo, the built-ins return lo when h(lo)
rounds to <= 0.
"""
import math

import numpy as np

from coordsweep.kernels.jit import jit, maxiter
from coordsweep.kernels.rootfind import make_bisect_root, make_brent_root

#: tolerance on x = log w: a few ulps (absolute near w = 1, relative beyond)
WAGE_TOL = 4.0 * 2.220446049250313e-16
WAGE_MAXITER = maxiter(400)


@jit
def labour_gap(x, b, k, log_labor):
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


_brent = make_brent_root(labour_gap)
_bisect = make_bisect_root(labour_gap)


@jit
def _wage_ends(args, lo, hi):
    """h at the ends of [lo, hi]: (settled, x, fa, fb), settled when an end
    is the root (up to rounding; N = 1: lo = hi)."""
    fa = labour_gap(lo, *args)
    if fa <= 0.0 or hi <= lo:
        return True, lo, fa, fa
    fb = labour_gap(hi, *args)
    if fb >= 0.0:
        return True, hi, fa, fb
    return False, lo, fa, fb


@jit
def wage_brent(b, k, log_labor, lo, hi):
    """Brent's method (as SciPy's brentq) on h over [lo, hi]."""
    args = (b, k, log_labor)
    settled, x, fa, fb = _wage_ends(args, lo, hi)
    if settled:
        return x, True
    r = _brent(lo, hi, fa, fb, args, WAGE_TOL, WAGE_TOL, WAGE_MAXITER)
    return r.root, r.converged


@jit
def wage_bisect(b, k, log_labor, lo, hi):
    """Bisection on h over [lo, hi] down to a few ulps."""
    args = (b, k, log_labor)
    settled, x, fa, fb = _wage_ends(args, lo, hi)
    if settled:
        return x, True
    r = _bisect(lo, hi, fa, fb, args, WAGE_TOL, WAGE_TOL, WAGE_MAXITER)
    return r.root, r.converged


@jit
def user_wage(b, k, log_labor, lo, hi):
    """Placeholder of a user's wage function: a relinked build
    (kernels/relink.py) binds this name to the user's @njit function."""
    return wage_bisect(b, k, log_labor, lo, hi)
