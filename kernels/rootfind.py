"""Bracketed scalar searches on the GE path g_i(s), s in [0, 1].

Numba cannot pass closures cheaply, so the searches take the point's
workspace and call :func:`kernels.economy.path_g` directly. Both searches
keep their iterates inside the bracket they are given and report whether
they converged; they never extrapolate.

Models: Brent's method as in QuantEcon.py's ``brentq`` / SciPy's
``brentq`` (inverse quadratic interpolation, secant, bisection fallback),
and a golden-section search for the peak.
"""
from coordsweep.kernels.jit import jit

from coordsweep.kernels.economy import path_g

#: absolute / relative tolerances on s (s is a share in [0, 1])
XTOL = 1e-16
RTOL = 4.0 * 2.220446049250313e-16
MAXITER = 200
#: golden-section: stop when the bracket is this narrow
PEAK_XTOL = 1e-11
_INVPHI = 0.6180339887498949  # 1 / golden ratio


@jit
def brent_root(ws, i, a, b, fa, fb):
    """Root of g_i in [a, b] with fa = g_i(a), fb = g_i(b) of opposite sign
    (or one of them zero). Returns (root, converged)."""
    if fa == 0.0:
        return a, True
    if fb == 0.0:
        return b, True
    xpre, xcur = a, b
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
        delta = (XTOL + RTOL * abs(xcur)) / 2.0
        sbis = (xblk - xcur) / 2.0
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur, True
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:
                stry = -fcur * (xcur - xpre) / (fcur - fpre)  # secant
            else:  # inverse quadratic interpolation
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (
                    dblk * dpre * (fblk - fpre))
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
        fcur = path_g(ws, i, xcur)
    return xcur, False


@jit
def golden_peak(ws, i, a, b):
    """Maximiser of a unimodal g_i on [a, b] by golden-section search.
    Returns (s_peak, g_peak, converged)."""
    c = b - _INVPHI * (b - a)
    d = a + _INVPHI * (b - a)
    fc = path_g(ws, i, c)
    fd = path_g(ws, i, d)
    for _ in range(MAXITER):
        if b - a <= PEAK_XTOL:
            break
        if fc >= fd:
            b = d
            d = c
            fd = fc
            c = b - _INVPHI * (b - a)
            fc = path_g(ws, i, c)
        else:
            a = c
            c = d
            fc = fd
            d = a + _INVPHI * (b - a)
            fd = path_g(ws, i, d)
    converged = b - a <= PEAK_XTOL
    if fc >= fd:
        return c, fc, converged
    return d, fd, converged

