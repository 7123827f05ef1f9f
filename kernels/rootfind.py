"""Bracketed scalar searches, QuantEcon style: ``f(x, *args)``.

Numba compiles a function passed as an *argument* into its caller as a
dynamic global, which makes the caller uncachable; so the searches are made
by factories instead: ``brent = make_brent_root(f)`` returns a compiled
root finder for the compiled function ``f`` (bound as a constant, called
directly: no indirection in the kernels), and the kernels build theirs for
the GE path g_i(s) (``kernels.economy.path_g``). Tests build them for known
functions.

Both searches keep their iterates inside the bracket they are given and
report whether they converged; they never extrapolate.

Models: Brent's method as in QuantEcon.py's ``brentq`` / SciPy's
``brentq`` (inverse quadratic interpolation, secant, bisection fallback),
and a golden-section search for the peak.
"""
from collections import namedtuple

from coordsweep.kernels.jit import jit, maxiter

#: absolute / relative tolerances on x (the kernels search shares in [0, 1])
XTOL = 1e-16
RTOL = 4.0 * 2.220446049250313e-16
MAXITER = maxiter(200)
#: the critical-mass searches (``small_rtol``): below x = XTOL / SMALL_RTOL
#: (1e-4) the tolerance is relative, SMALL_RTOL of x, rather than XTOL
#: absolute (:func:`tolerance`): a critical mass may be as small as c' over
#: the GE path's slope at 0 (a net cost of 1e-21 of the wage bill gives
#: roots near 1e-10), and 1e-16 absolute would end the search far from it
SMALL_RTOL = 1e-12
#: golden-section: stop when the bracket is this narrow
PEAK_XTOL = 1e-11
_INVPHI = 0.6180339887498949  # 1 / golden ratio

#: result of a root search (as QuantEcon's ``results``)
RootResults = namedtuple("RootResults", "root function_calls iterations converged")
#: result of a peak search: the maximiser, the value there
PeakResults = namedtuple("PeakResults", "x fx function_calls iterations converged")


@jit(inline="always")
def tolerance(x, xtol, rtol, small_rtol):
    """xtol + rtol |x|, with xtol no larger than small_rtol |x| where
    small_rtol > 0 (the critical-mass searches; 0: xtol as it is)."""
    a = abs(x)
    return (min(xtol, small_rtol * a) if small_rtol > 0.0 else xtol) + rtol * a


def make_brent_root(f):
    """Brent root finder for the compiled function f(x, *args)."""

    @jit
    def brent_root(a, b, fa, fb, args, xtol=XTOL, rtol=RTOL, maxiter=MAXITER,
                   small_rtol=0.0):
        """Root of f in [a, b] with fa = f(a, *args), fb = f(b, *args) of
        opposite sign (or one of them zero): a RootResults. Not converged
        after maxiter evaluations: the last iterate, converged False.
        small_rtol: see :func:`tolerance`."""
        if fa == 0.0:
            return RootResults(a, 0, 0, True)
        if fb == 0.0:
            return RootResults(b, 0, 0, True)
        xpre, xcur = a, b
        fpre, fcur = fa, fb
        xblk = 0.0
        fblk = 0.0
        spre = 0.0
        scur = 0.0
        for it in range(maxiter):
            if fpre * fcur < 0.0:
                xblk = xpre
                fblk = fpre
                spre = xcur - xpre
                scur = spre
            if abs(fblk) < abs(fcur):
                xpre, xcur, xblk = xcur, xblk, xcur
                fpre, fcur, fblk = fcur, fblk, fcur
            delta = tolerance(xcur, xtol, rtol, small_rtol) / 2.0
            sbis = (xblk - xcur) / 2.0
            if fcur == 0.0 or abs(sbis) < delta:
                return RootResults(xcur, it, it, True)
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
            fcur = f(xcur, *args)
        return RootResults(xcur, maxiter, maxiter, False)

    return brent_root


def make_golden_peak(f):
    """Golden-section maximiser for the compiled function f(x, *args)."""

    @jit
    def golden_peak(a, b, args, xtol=PEAK_XTOL, maxiter=MAXITER):
        """Maximiser of a unimodal f on [a, b]: a PeakResults (x, f(x), ...);
        converged when the bracket narrowed below xtol within maxiter
        steps."""
        c = b - _INVPHI * (b - a)
        d = a + _INVPHI * (b - a)
        fc = f(c, *args)
        fd = f(d, *args)
        it = 0
        while it < maxiter:
            if b - a <= xtol:
                break
            if fc >= fd:
                b = d
                d = c
                fd = fc
                c = b - _INVPHI * (b - a)
                fc = f(c, *args)
            else:
                a = c
                c = d
                fc = fd
                d = a + _INVPHI * (b - a)
                fd = f(d, *args)
            it += 1
        converged = b - a <= xtol
        if fc >= fd:
            return PeakResults(c, fc, it + 2, it, converged)
        return PeakResults(d, fd, it + 2, it, converged)

    return golden_peak


def make_bisect_root(f):
    """Bisection root finder for the compiled function f(x, *args), with
    the signature and stopping rule of :func:`make_brent_root`'s."""

    @jit
    def bisect_root(a, b, fa, fb, args, xtol=XTOL, rtol=RTOL, maxiter=MAXITER,
                    small_rtol=0.0):
        """Root of f in [a, b] (fa, fb of opposite sign or zero): a
        RootResults; the bracket end with the smaller |f| once the bracket
        is narrower than xtol + rtol |x|."""
        if fa == 0.0:
            return RootResults(a, 0, 0, True)
        if fb == 0.0:
            return RootResults(b, 0, 0, True)
        for it in range(maxiter):
            m = 0.5 * (a + b)
            if b - a <= tolerance(m, xtol, rtol, small_rtol) or m == a or m == b:
                return RootResults(a if abs(fa) <= abs(fb) else b, it, it, True)
            fm = f(m, *args)
            if fm == 0.0:
                return RootResults(m, it + 1, it + 1, True)
            if (fm < 0.0) == (fa < 0.0):
                a = m
                fa = fm
            else:
                b = m
                fb = fm
        return RootResults(0.5 * (a + b), maxiter, maxiter, False)

    return bisect_root


def make_newton_root(fg):
    """Safeguarded Newton root finder for the compiled function
    fg(x, *args) -> (f(x), f'(x)), with the signature and the tolerance of
    :func:`make_brent_root`'s.

    The iterate stays inside a bracket [a, b] that keeps a sign change and
    shrinks with every evaluation; a Newton step that leaves the bracket
    (or a zero or non-finite slope) is replaced by bisection. It starts
    from the secant point of the bracket and stops when a Newton step is
    shorter than (xtol + rtol |x|) / 2 (returning the stepped iterate: the
    convergence is quadratic there) or the bracket is narrower than that."""

    @jit
    def newton_root(a, b, fa, fb, args, xtol=XTOL, rtol=RTOL, maxiter=MAXITER,
                    small_rtol=0.0):
        """Root of f in [a, b] (fa, fb of opposite sign or zero): a
        RootResults; not converged after maxiter evaluations: the last
        iterate, converged False."""
        if fa == 0.0:
            return RootResults(a, 0, 0, True)
        if fb == 0.0:
            return RootResults(b, 0, 0, True)
        neg_a = fa < 0.0
        x = a - fa * (b - a) / (fb - fa)
        if not (a < x < b):
            x = 0.5 * (a + b)
        for it in range(maxiter):
            f, df = fg(x, *args)
            if f == 0.0:
                return RootResults(x, it + 1, it + 1, True)
            if (f < 0.0) == neg_a:
                a = x
            else:
                b = x
            delta = tolerance(x, xtol, rtol, small_rtol) / 2.0
            if b - a <= 2.0 * delta:
                return RootResults(x, it + 1, it + 1, True)
            xn = 0.5 * (a + b)
            if df != 0.0:
                step = -f / df
                if a < x + step < b:  # (False for a non-finite step)
                    xn = x + step
                    if abs(step) <= delta:
                        return RootResults(xn, it + 1, it + 1, True)
            x = xn
        return RootResults(x, maxiter, maxiter, False)

    return newton_root
