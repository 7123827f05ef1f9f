"""The GE-path variant ``path = "lockstep"`` (the default): the critical
masses of a whole block, found together in SIMD lanes.

Where every eta = 0 and the path of a candidate sector is certified
increasing (kernels/sectors.py ``path_increasing``: the common case), its
critical mass is the one root in (0, 1] of

    g_i(s) = K h(s) X(s)^-alpha - c',   h(s) = (1 + theta s)^eps - 1,
    X(s) = X0 + u s h(s)

(kernels/economy.py ``fast_g``). The block kernel does not search it point
by point: it queues the root's seven scalars (``fast_path_args``) and
writes a placeholder; :func:`finish_block` then solves every queued root of
the block at once, each NumPy call running over all of them, where NumPy's
exp/log/expm1/log1p use the CPU's vector units (a few ns per value instead
of the 10-20 ns of a scalar libm call from numba, which has no vector math
library here), and the bracket bookkeeping is array arithmetic.

The search is safeguarded Newton on G(s) = log(g_i(s) + c') - log c',
which is increasing (that is what the certificate proves) and close to
log s + const, so Newton starts from s0 = c' / (g_i(1) + c') (the root of
that approximation) and needs a handful of steps. The bracket [lo, hi]
keeps the sign change; a step leaving it is replaced by bisection; the
stopping rule is :func:`kernels.rootfind.make_newton_root`'s (and Brent's
tolerance). G and G' cost four transcendental calls (log1p, expm1 and two
log), as one g_i does.

Results do not depend on how points are blocked: every operation is
elementwise, and every transcendental call is made in place (out = in),
which keeps NumPy on the same vector loop for any length and alignment
(a separate output closer than a vector's width to the input makes NumPy
fall back to scalar libm, which rounds differently).

Pure NumPy: no numba, no I/O.
"""
import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.rootfind import MAXITER, RTOL, XTOL

#: rows of the queue (kernels/point.py Scratch.qargs): the arguments of
#: economy.fast_g after s
QUEUE_ARGS = ("xa0", "u", "logk", "theta", "eps", "alpha", "net")


def _inplace(f, a):
    """f(a) written over a (see the module's note on blocking)."""
    return f(a, out=a)


def _G(s, xa0, u, logk, theta, eps, alpha, lognet):
    """(G(s), G'(s)) elementwise (s > 0)."""
    t = theta * s
    a = _inplace(np.log1p, t.copy())
    a *= eps
    e = np.expm1(a, out=a)
    x = u * s * e
    x += xa0
    dh = eps * theta * (1.0 + e) / (1.0 + t)
    dx = u * (e + s * dh)
    le = _inplace(np.log, e.copy())
    lx = _inplace(np.log, x.copy())
    G = le + logk - alpha * lx - lognet
    dG = dh / e - alpha * dx / x
    return G, dG


def increasing_roots(xa0, u, logk, theta, eps, alpha, net):
    """Critical masses of certified-increasing fast GE paths (arrays of
    equal length: fast_g's arguments). Returns (root, converged): the root
    of g_i in (0, 1] where g_i(1) >= 0; 1.0 where g_i(1) < 0 (the threshold
    test said S0 u {i} is an equilibrium and g_i(1) disagrees by rounding,
    as kernels/sectors.py does)."""
    q = xa0.shape[0]
    root = np.ones(q)
    conv = np.ones(q, np.bool_)
    if q == 0:
        return root, conv
    with np.errstate(all="ignore"):
        # g_i(1), in the linear form fast_g computes
        e1 = _inplace(np.log1p, theta.copy())
        e1 *= eps
        _inplace(np.expm1, e1)
        x1 = u * e1
        x1 += xa0
        _inplace(np.log, x1)
        f1 = logk - alpha * x1
        _inplace(np.exp, f1)
        g1 = f1 * e1 - net
        act = np.flatnonzero(g1 > 0.0)  # g1 == 0: the root is 1; g1 < 0: 1
        lognet = _inplace(np.log, net.copy())
        # the start: G(s) ~ log s + G(1)
        s = net[act] / (g1[act] + net[act])
        args = [v[act] for v in (xa0, u, logk, theta, eps, alpha)] + [lognet[act]]
        lo = np.zeros(act.shape[0])
        hi = np.ones(act.shape[0])
        for _ in range(MAXITER):
            if act.shape[0] == 0:
                break
            G, dG = _G(s, *args)
            neg = G < 0.0
            lo = np.where(neg, s, lo)
            hi = np.where(neg, hi, s)
            delta = (XTOL + RTOL * np.abs(s)) / 2.0
            step = -G / dG
            xn = s + step
            inside = (lo < xn) & (xn < hi)  # False for a non-finite step
            small = inside & (np.abs(step) <= delta)
            at = (G == 0.0) | (hi - lo <= 2.0 * delta)
            done = at | small
            if done.any():
                r = np.where(at, s, xn)
                root[act[done]] = r[done]
                keep = ~done
                act = act[keep]
                s, lo, hi = s[keep], lo[keep], hi[keep]
                xn, inside = xn[keep], inside[keep]
                args = [v[keep] for v in args]
            s = np.where(inside, xn, 0.5 * (lo + hi))
        if act.shape[0]:
            root[act] = s
            conv[act] = False
    return root, conv


def finish_block(scr, out):
    """Solve the roots the block kernel queued in scr (kernels/point.py)
    and write them into out.critical_mass; a root that did not converge
    sets PATH_NOT_CONVERGED on its point (and NON_FINITE if it is not a
    number). Returns the number of roots solved."""
    q = int(scr.qlen[0])
    if q == 0:
        return 0
    a = scr.qargs[:, :q]
    root, conv = increasing_roots(*a)
    idx = scr.qidx[:q]
    n = out.critical_mass.shape[1]
    p, i = np.divmod(idx, n)
    out.critical_mass[p, i] = root
    bad = ~conv
    if bad.any():
        np.bitwise_or.at(out.status, p[bad], codes.PATH_NOT_CONVERGED)
        nan = bad & ~np.isfinite(root)
        if nan.any():
            np.bitwise_or.at(out.status, p[nan], codes.NON_FINITE)
    scr.qlen[0] = 0
    return q
