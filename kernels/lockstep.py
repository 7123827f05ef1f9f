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

The arithmetic of each step runs in numba loops over the roots still
active, which also move the converged ones out (no temporary arrays);
NumPy takes the logs and exps of the same rows. No I/O.
"""
import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.jit import jit
from coordsweep.kernels.rootfind import MAXITER, RTOL, XTOL

#: rows of the queue (kernels/point.py Scratch.qargs): the arguments of
#: economy.fast_g after s
QUEUE_ARGS = ("xa0", "u", "logk", "theta", "eps", "alpha", "net")


def _inplace(f, a):
    """f(a) written over a (see the module's note on blocking)."""
    return f(a, out=a)


# The search keeps its working rows compacted at the front of arrays of the
# queue's length: W rows (the state and the arguments, which travel with
# their root), T rows (the transcendental arguments NumPy transforms in
# place). The arithmetic runs in numba loops over the active rows (no
# temporaries), the logs and exps in NumPy over the same rows.
W_S, W_LO, W_HI, W_XA0, W_U, W_LOGK, W_THETA, W_EPS, W_ALPHA, W_LOGNET, W_IDX = range(11)
T_T, T_E, T_LE, T_LX, T_X, T_DH, T_DX = range(7)


@jit
def _start(act, xa0, u, logk, theta, eps, alpha, net, lognet, g1, W):
    """The active roots' rows of W: s0 = c' / (g_i(1) + c'), the bracket
    [0, 1], the arguments; returns their number."""
    m = 0
    for k in act:
        W[W_S, m] = net[k] / (g1[k] + net[k])
        W[W_LO, m] = 0.0
        W[W_HI, m] = 1.0
        W[W_XA0, m] = xa0[k]
        W[W_U, m] = u[k]
        W[W_LOGK, m] = logk[k]
        W[W_THETA, m] = theta[k]
        W[W_EPS, m] = eps[k]
        W[W_ALPHA, m] = alpha[k]
        W[W_LOGNET, m] = lognet[k]
        W[W_IDX, m] = k
        m += 1
    return m


@jit
def _args_of_log1p(m, W, T):
    """t = theta s (log1p's argument)."""
    for k in range(m):
        t = W[W_THETA, k] * W[W_S, k]
        T[T_T, k] = t
        T[T_E, k] = t


@jit
def _times_eps(m, W, T):
    for k in range(m):
        T[T_E, k] *= W[W_EPS, k]


@jit
def _args_of_logs(m, W, T):
    """From e = expm1(eps log1p(theta s)): X(s), dh/ds, dX/ds, and the
    arguments of log e and log X."""
    for k in range(m):
        s = W[W_S, k]
        e = T[T_E, k]
        u = W[W_U, k]
        x = u * s * e
        x += W[W_XA0, k]
        dh = W[W_EPS, k] * W[W_THETA, k] * (1.0 + e) / (1.0 + T[T_T, k])
        T[T_X, k] = x
        T[T_DH, k] = dh
        T[T_DX, k] = u * (e + s * dh)
        T[T_LE, k] = e
        T[T_LX, k] = x


@jit
def _newton_step(m, W, T, root):
    """One safeguarded Newton step of every active root (G, G' from the
    logs): the bracket keeps the sign change; a root that has converged is
    written into root and leaves the rows (the others move up, in order).
    Returns the number of roots still active."""
    keep = 0
    for k in range(m):
        s = W[W_S, k]
        lo = W[W_LO, k]
        hi = W[W_HI, k]
        G = T[T_LE, k] + W[W_LOGK, k] - W[W_ALPHA, k] * T[T_LX, k] - W[W_LOGNET, k]
        dG = T[T_DH, k] / T[T_E, k] - W[W_ALPHA, k] * T[T_DX, k] / T[T_X, k]
        if G < 0.0:
            lo = s
        else:
            hi = s
        delta = (XTOL + RTOL * abs(s)) / 2.0
        step = -G / dG
        xn = s + step
        inside = (lo < xn) and (xn < hi)  # False for a non-finite step
        small = inside and abs(step) <= delta
        at = G == 0.0 or hi - lo <= 2.0 * delta
        if at or small:
            root[np.int64(W[W_IDX, k])] = s if at else xn
            continue
        for r in range(W.shape[0]):
            W[r, keep] = W[r, k]
        W[W_S, keep] = xn if inside else 0.5 * (lo + hi)
        W[W_LO, keep] = lo
        W[W_HI, keep] = hi
        keep += 1
    return keep


@jit
def _not_converged(m, W, root, conv):
    for k in range(m):
        j = np.int64(W[W_IDX, k])
        root[j] = W[W_S, k]
        conv[j] = False


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
        W = np.empty((W_IDX + 1, act.shape[0]))
        T = np.empty((T_DX + 1, act.shape[0]))
        # the start: G(s) ~ log s + G(1)
        m = _start(act, xa0, u, logk, theta, eps, alpha, net, lognet, g1, W)
        for _ in range(MAXITER):
            if m == 0:
                break
            _args_of_log1p(m, W, T)
            _inplace(np.log1p, T[T_E, :m])
            _times_eps(m, W, T)
            _inplace(np.expm1, T[T_E, :m])
            _args_of_logs(m, W, T)
            _inplace(np.log, T[T_LE, :m])
            _inplace(np.log, T[T_LX, :m])
            m = _newton_step(m, W, T, root)
        _not_converged(m, W, root, conv)
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
