"""The built-in solver variants other than the defaults (kernels/solvers.py).

- wage roots for eta > 0: kernels/wages.py;
- equilibria: :func:`brute_equilibria` (every subset of the candidates,
  no pruning); ``mitm`` is kernels/many.py;
- GE path: :func:`bisect_root`, a bisection with the signature of
  kernels/rootfind.py's ``brent_root``.
"""
import numpy as np
from coordsweep.kernels.jit import jit

from coordsweep.kernels.many import _better
from coordsweep.kernels.economy import SV_XBAR, binary_log_wage, binary_welfare, path_g
from coordsweep.kernels.rootfind import MAXITER, RTOL, XTOL


@jit
def _popcount(mask):
    c = 0
    while mask:
        mask &= mask - 1
        c += 1
    return c


@jit
def brute_equilibria(sp, sv, tmp, st, zmask, cand, ncand, record):
    """Every subset T of the candidates, tested (no pruning): S = Z u T is
    an equilibrium iff log w(S) <= min_{i in T} log wbar_i. Same returns as
    kernels/point.py's enumerate_equilibria."""
    count = 0
    nrec = 0
    best_mask = zmask
    best_w = -np.inf
    best_x = np.nan
    best_k = 0
    for code in range(np.int64(1) << ncand):
        mask = zmask
        bound = np.inf
        for b in range(ncand):
            if (code >> b) & 1:
                j = cand[b]
                mask |= np.int64(1) << j
                if sv[SV_XBAR, j] < bound:
                    bound = sv[SV_XBAR, j]
        if code != 0 and binary_log_wage(sp, sv, tmp, st, mask) > bound:
            continue
        count += 1
        if nrec < record.shape[0]:
            record[nrec] = mask
            nrec += 1
        xw, w = binary_welfare(sp, sv, tmp, st, mask)
        k = _popcount(mask)
        if code == 0 or _better(w, k, mask, best_w, best_k, best_mask):
            best_w = w
            best_k = k
            best_mask = mask
            best_x = xw
    return count, best_mask, best_w, best_x, nrec


@jit
def bisect_root(ws, i, a, b, fa, fb):
    """Root of g_i in [a, b] (fa, fb of opposite sign or zero) by
    bisection to Brent's tolerance. Returns (root, converged)."""
    if fa == 0.0:
        return a, True
    if fb == 0.0:
        return b, True
    for _ in range(MAXITER):
        m = 0.5 * (a + b)
        if b - a <= XTOL + RTOL * abs(m) or m == a or m == b:
            # the end with the smaller |g| (as Brent returns its best iterate)
            return (a if abs(fa) <= abs(fb) else b), True
        fm = path_g(ws, i, m)
        if fm == 0.0:
            return m, True
        if (fm < 0.0) == (fa < 0.0):
            a = m
            fa = fm
        else:
            b = m
            fb = fm
    return 0.5 * (a + b), False
