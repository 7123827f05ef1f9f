"""The GE-path variant ``path = "lockstep"`` (the default): the critical
masses of a whole block, found together in SIMD lanes.

Where every eta = 0 and the path of a candidate sector is certified
increasing (kernels/sectors.py ``path_increasing``, the common case, or
the exact ``fast_increasing`` where that cheap certificate does not tell), its
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

The search is safeguarded Halley on G(s) = log(g_i(s) + c') - log c',
which is increasing (that is what the certificate proves) and close to
log s + const, so it starts from s0 = c' / (g_i(1) + c') (the root of
that approximation; for points of the profile table the block kernel
queues it, having g_i(1) + c' from the subsidy) and steps in log s, where
G is nearly linear; G's first three derivatives are closed forms of the
values an evaluation has (no further transcendental call), and the
third order makes most roots converge at their second evaluation (2.2
evaluations a root on bench_kernels.py's random points, against 3.0 with
Newton's step). The bracket [lo, hi] keeps the sign change; a step
leaving it is replaced by bisection; the stopping rule is
:func:`kernels.rootfind.make_newton_root`'s (and Brent's tolerance), or
the error of Halley's step estimated below PRED_RTOL of s
(:func:`halley_converged`; critical masses within 1e-13 relative of the
Newton search's). G costs four transcendental calls (log1p, expm1 and two
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
import threading

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.jit import jit
from coordsweep.kernels.rootfind import MAXITER, RTOL, SMALL_RTOL, XTOL, tolerance

#: rows of the queue (kernels/point.py Scratch.qargs): the arguments of
#: economy.fast_g after s
QUEUE_ARGS = ("xa0", "u", "logk", "theta", "eps", "alpha", "net")
#: and the search's start c' / (g_i(1) + c') where the block kernel has it
#: (the tabled points: g_i(1) + c' from the rent at w(S0 u {i}), as the
#: subsidy; NaN: from g_i(1) here)
QUEUE_ROWS = QUEUE_ARGS + ("start",)
Q_START = len(QUEUE_ARGS)


def _inplace(f, a):
    """f(a) written over a (see the module's note on blocking)."""
    return f(a, out=a)


def staggered_rows(nrows, m):
    """An uninitialised (nrows, m) float64 array whose rows start at
    staggered cache sets: a row length of a multiple of 4 KiB would put
    every row's k-th element in the same L1 set, and the passes, which
    touch the k-th element of every row together, would evict each other
    (3x slower at m = 16384)."""
    step = -(-m // 512) * 512 + 72  # 72 doubles: 9 cache lines between rows
    return np.empty((nrows, step))[:, :m]


def staggered_block(nrows, m):
    """The C-contiguous (nrows, >= m) array under :func:`staggered_rows`
    (its rows as staggered; contiguous, so that numba knows its rows are
    and the loops over a row run in vector lanes)."""
    return staggered_rows(nrows, m).base


# The search keeps its roots at the front of arrays of the queue's length,
# a column a root: W rows (each root's state and arguments, which travel
# with it) and T rows (the transcendental arguments NumPy transforms in
# place, then the step's G, iterate and flags). The arithmetic runs in
# numba loops over the columns (no temporaries; the step's arithmetic in
# vector lanes, its branches in a loop of their own), the logs and exps in
# NumPy over the same columns. A root that has converged is marked done
# and stays, frozen, until a quarter of the roots are; then the others
# move up.
W_S, W_LO, W_HI, W_XA0, W_U, W_LOGK, W_THETA, W_EPS, W_ALPHA, W_LOGNET, W_IDX = range(11)
W_ROWS = W_IDX + 1
T_T, T_E, T_LE, T_LX, T_X, T_DH, T_DX, T_G, T_XN, T_PRED, T_DONE = range(11)
T_ROWS = T_DONE + 1
# and the G rows of g_i(1) before the search (e, X(1), the exp's argument,
# the net costs' logs)
G_E, G_X, G_F, G_LOGNET = range(4)
#: the searches also stop when the error of the stepped iterate, estimated
#: from the derivatives, is below PRED_RTOL / 4 of s (:func:`halley_converged`
#: here; :func:`log_predicted_converged` in kernels/etapath.py's Newton
#: search, its G'' from the change of G' over the last step, trusted where
#: that step was shorter than CURV_SPAN of s): the evaluation that would only
#: confirm the root is saved
PRED_RTOL = 1e-13
CURV_SPAN = 1e-2
#: rows of the work buffer (:func:`work_buffer`): T and G
WORK_ROWS = T_ROWS + G_LOGNET + 1


@jit
def _g1_args(xa0, u, net, G):
    """From e = expm1(eps log1p(theta)) in G[G_E]: X(1) (log's argument)
    and a copy of the net costs (their log next)."""
    for k in range(xa0.shape[0]):
        x = u[k] * G[G_E, k]
        x += xa0[k]
        G[G_X, k] = x
        G[G_LOGNET, k] = net[k]


@jit
def _times(a, G, row):
    for k in range(a.shape[0]):
        G[row, k] *= a[k]


@jit
def _g1_exp_args(logk, alpha, G):
    """logk - alpha log X(1): exp's argument (g_i(1) + c' = exp(.) e)."""
    for k in range(logk.shape[0]):
        G[G_F, k] = logk[k] - alpha[k] * G[G_X, k]


@jit
def _start(xa0, u, logk, theta, eps, alpha, net, start, G, W):
    """g_i(1) = f e - c' of every root; those with g_i(1) > 0 (g_i(1) == 0:
    the root is 1; < 0: 1) get their columns of W: s0 = c' / (g_i(1) + c'),
    the bracket [0, 1], the arguments. Where start[k] is a number, it is
    the start instead (a start >= 1: g_i(1) <= 0, the root is 1) and
    g_i(1) is not read (G[G_F], G[G_E] need not hold it). Returns their
    number (W: a column a root)."""
    m = 0
    for k in range(xa0.shape[0]):
        s0 = start[k]
        if np.isnan(s0):
            g1 = G[G_F, k] * G[G_E, k] - net[k]
            if not g1 > 0.0:
                continue
            s0 = net[k] / (g1 + net[k])
        elif not s0 < 1.0:
            continue
        W[W_S, m] = s0
        W[W_LO, m] = 0.0
        W[W_HI, m] = 1.0
        W[W_XA0, m] = xa0[k]
        W[W_U, m] = u[k]
        W[W_LOGK, m] = logk[k]
        W[W_THETA, m] = theta[k]
        W[W_EPS, m] = eps[k]
        W[W_ALPHA, m] = alpha[k]
        W[W_LOGNET, m] = G[G_LOGNET, k]
        W[W_IDX, m] = k
        m += 1
    return m


@jit
def _copy_row(a, G, row):
    for k in range(a.shape[0]):
        G[row, k] = a[k]


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


@jit(inline="always")
def exp_pade(y):
    """exp(y) by its (2, 2) Pade approximant (1 + y/2 + y^2/12) /
    (1 - y/2 + y^2/12): relative error below y^5 / 720 for small y
    (1.4e-18 at |y| = 1e-3), positive for every real y (neither quadratic
    has a real root); the step of :func:`_newton_step` in log s, where it
    only has to be exp to second order while the search converges (a
    worse factor far from the root is caught by the bracket)."""
    h = 0.5 * y
    q = y * y / 12.0
    return (1.0 + h + q) / (1.0 - h + q)


@jit(inline="always")
def step_tol(s, rtol):
    """Half the width within which a search at s has converged: rootfind's
    tolerance of a critical mass (XTOL + rtol |s|, XTOL no larger than
    SMALL_RTOL |s|), halved as Brent halves it."""
    return tolerance(s, XTOL, rtol, SMALL_RTOL) / 2.0


@jit(inline="always")
def log_predicted_converged(s, dy, d, sp, dp):
    """Whether the Newton step dy in y = log s from s (dG/ds = d) lands
    within PRED_RTOL / 4 of s of the root: the error of Newton's iterate in
    y is |G_yy| dy^2 / (2 |G_y|), with G_y = s d and
    G_yy = s (s G'' + d), G'' from the last step (iterate sp, derivative
    dp), trusted where that step was shorter than CURV_SPAN of s; the step
    itself below 1e-3 (:func:`exp_pade` exact to 1.4e-18 there)."""
    if not abs(s - sp) <= CURV_SPAN * abs(s):  # (sp NaN before a step)
        return False
    if not abs(dy) <= 1e-3:
        return False
    gyy = abs(s * (s * (d - dp) / (s - sp) + d))
    return 2.0 * gyy * dy * dy <= PRED_RTOL * abs(s * d)


@jit(inline="always")
def halley_converged(dy, gy, gyy, gyyy):
    """Whether Halley's step dy in y = log s lands within PRED_RTOL / 4 of s
    of the root: its error is about (G_yy^2 / (4 G_y^2) - G_yyy / (6 G_y))
    dy^3, bounded here by the sum of the terms' sizes; the step itself
    below 1e-3 (:func:`exp_pade` exact to 1.4e-18 there)."""
    if not abs(dy) <= 1e-3:
        return False
    k = gyy * gyy / (4.0 * gy * gy) + abs(gyyy) / (6.0 * abs(gy))
    return 4.0 * k * abs(dy) ** 3 <= PRED_RTOL


@jit
def _halley(m, W, T):
    """The arithmetic of a safeguarded Halley step in y = log s of every
    root (G and its y-derivatives from the logs and the path's closed-form
    derivatives; G is close to linear in log s, so a step in log s lands
    closer than one in s, and Halley's third order makes most roots
    converge at their second evaluation: 2.2 evaluations a root on random
    points, against 3.0 with Newton's step): s -> s exp(dy), dy = -G / G_y
    / (1 - G G_yy / (2 G_y^2)) (Newton's where that factor is outside
    [1/2, 2]), the exp by :func:`exp_pade`. Writes G, the iterate and
    whether :func:`halley_converged` holds there (and the iterate is
    inside the bracket that G updates) into T_G, T_XN, T_PRED (a loop
    without branches: its divisions run in vector lanes)."""
    for k in range(m):
        s = W[W_S, k]
        alpha = W[W_ALPHA, k]
        G = T[T_LE, k] + W[W_LOGK, k] - alpha * T[T_LX, k] - W[W_LOGNET, k]
        d1 = T[T_DH, k]  # de/ds
        # e = (1 + theta s)^eps - 1: e'' = e' (eps - 1) theta / (1 + theta s),
        # e''' = e'' (eps - 2) theta / (1 + theta s); X = X0 + u s e:
        # X'' = u (2 e' + s e''), X''' = u (3 e'' + s e''') (the third
        # derivatives only for the stopping rule)
        eps = W[W_EPS, k]
        r = W[W_THETA, k] / (1.0 + T[T_T, k])
        d2 = d1 * (eps - 1.0) * r
        u = W[W_U, k]
        ie = 1.0 / T[T_E, k]
        ix = 1.0 / T[T_X, k]
        a1 = d1 * ie
        a2 = d2 * ie
        b1 = T[T_DX, k] * ix
        b2 = u * (2.0 * d1 + s * d2) * ix
        G2 = a2 - a1 * a1 - alpha * (b2 - b1 * b1)
        gy = s * (a1 - alpha * b1)
        gyy = gy + s * s * G2
        lo = s if G < 0.0 else W[W_LO, k]
        hi = W[W_HI, k] if G < 0.0 else s
        igy = 1.0 / gy
        dy = -G * igy
        f = 1.0 + 0.5 * dy * gyy * igy  # 1 - G G_yy / (2 G_y^2)
        halley = (0.5 <= f) & (f <= 2.0)
        dy = dy / f if halley else dy
        xn = s * exp_pade(dy)
        inside = (lo < xn) & (xn < hi)  # False for a non-finite step
        d3 = d2 * (eps - 2.0) * r
        a3 = d3 * ie
        b3 = u * (3.0 * d2 + s * d3) * ix
        G3 = (a3 - 3.0 * a2 * a1 + 2.0 * a1 * a1 * a1
              - alpha * (b3 - 3.0 * b2 * b1 + 2.0 * b1 * b1 * b1))
        gyyy = gy + s * s * (3.0 * G2 + s * G3)
        pred = inside & halley & halley_converged(dy, gy, gyy, gyyy)
        T[T_G, k] = G
        T[T_XN, k] = xn
        T[T_PRED, k] = 1.0 if pred else 0.0


@jit
def _newton_step(m, W, T, root):
    """The step :func:`_halley` computed, for every root not done: the
    bracket keeps the sign change; a step leaving it is replaced by
    bisection; a root that has converged (the step in s within Brent's
    tolerance, or T_PRED) is written into root and marked done, the
    others' next log1p argument theta s is written (as
    :func:`_args_of_log1p` does). Returns the number of roots not done."""
    left = 0
    for k in range(m):
        if T[T_DONE, k] != 0.0:
            continue
        s = W[W_S, k]
        lo = W[W_LO, k]
        hi = W[W_HI, k]
        G = T[T_G, k]
        if G < 0.0:
            lo = s
        else:
            hi = s
        delta = step_tol(s, RTOL)
        xn = T[T_XN, k]
        step = xn - s
        inside = (lo < xn) and (xn < hi)  # False for a non-finite step
        small = inside and abs(step) <= delta
        at = G == 0.0 or hi - lo <= 2.0 * delta
        if at or small:
            root[np.int64(W[W_IDX, k])] = s if at else xn
            T[T_DONE, k] = 1.0
            continue
        if T[T_PRED, k] != 0.0:
            root[np.int64(W[W_IDX, k])] = xn
            T[T_DONE, k] = 1.0
            continue
        sn = xn if inside else 0.5 * (lo + hi)
        W[W_S, k] = sn
        W[W_LO, k] = lo
        W[W_HI, k] = hi
        t = W[W_THETA, k] * sn
        T[T_T, k] = t
        T[T_E, k] = t
        left += 1
    return left


@jit
def compact_columns(m, W, T, done, moved):
    """Move the roots not done (T[done, k] == 0: a column a root) up, in
    order: their columns of W and of the T rows in `moved` (the next
    pass's arguments). Returns their number. (kernels/etapath.py's search
    keeps its roots the same way.)"""
    keep = 0
    for k in range(m):
        if T[done, k] != 0.0:
            continue
        if keep != k:
            for c in range(W.shape[0]):
                W[c, keep] = W[c, k]
            for r in moved:
                T[r, keep] = T[r, k]
            T[done, keep] = 0.0
        keep += 1
    return keep


#: the T rows a root's next pass reads (the log1p argument, twice)
_MOVED = np.array([T_T, T_E])


@jit
def _not_converged(m, W, T, root, conv):
    for k in range(m):
        if T[T_DONE, k] != 0.0:
            continue
        j = np.int64(W[W_IDX, k])
        root[j] = W[W_S, k]
        conv[j] = False


_WORK = threading.local()


def work_buffer(q):
    """This thread's room for q roots, (W, rows): W_ROWS and WORK_ROWS
    staggered rows of length >= q (:func:`staggered_block`), reused by the
    next search (fresh arrays of a few MB each block cost page faults)."""
    buf = getattr(_WORK, "buf", None)
    if buf is None or buf[1].shape[1] < q:
        cap = max(q, 1024)
        buf = (staggered_block(W_ROWS, cap), staggered_block(WORK_ROWS, cap))
        _WORK.buf = buf
    return buf


def increasing_roots(xa0, u, logk, theta, eps, alpha, net, start=None, work=None):
    """Critical masses of certified-increasing fast GE paths (arrays of
    equal length: fast_g's arguments). Returns (root, converged): the root
    of g_i in (0, 1] where g_i(1) >= 0; 1.0 where g_i(1) < 0 (the threshold
    test said S0 u {i} is an equilibrium and g_i(1) disagrees by rounding,
    as kernels/sectors.py does). start: the searches' starts
    c' / (g_i(1) + c') where known (from the rent at w(S0 u {i}), as the
    block kernel's tabled points give them; a start >= 1 is g_i(1) <= 0:
    the root is 1), NaN where not; without NaN, g_i(1) is not computed
    here (five transcendental calls a root fewer). work: room for the
    search (as :func:`work_buffer` returns; default: this thread's)."""
    q = xa0.shape[0]
    root = np.ones(q)
    conv = np.ones(q, np.bool_)
    if q == 0:
        return root, conv
    if work is None:
        work = work_buffer(q)
    W, rows = work
    T = rows[:T_ROWS]
    G = rows[T_ROWS:]
    with np.errstate(all="ignore"):
        if start is not None and not np.isnan(start).any():
            _copy_row(net, G, G_LOGNET)
            _inplace(np.log, G[G_LOGNET, :q])
            m = _start(xa0, u, logk, theta, eps, alpha, net, start, G, W)
            newton_search(m, W, T, root, conv)
            return root, conv
        if start is None:
            start = np.full(q, np.nan)
        # g_i(1), in the linear form fast_g computes
        e1 = G[G_E, :q]
        e1[:] = theta
        _inplace(np.log1p, e1)
        _times(eps, G, G_E)
        _inplace(np.expm1, e1)
        _g1_args(xa0, u, net, G)
        _inplace(np.log, G[G_X, :q])
        _inplace(np.log, G[G_LOGNET, :q])
        _g1_exp_args(logk, alpha, G)
        _inplace(np.exp, G[G_F, :q])
        # the start: G(s) ~ log s + G(1)
        m = _start(xa0, u, logk, theta, eps, alpha, net, start, G, W)
        newton_search(m, W, T, root, conv)
    return root, conv


def newton_search(m, W, T, root, conv):
    """The lock-step Newton search of the m roots whose columns of W hold
    their start: each step's exps and logs in NumPy's SIMD lanes over the
    roots still searching, root[W_IDX] = the root, conv False where
    MAXITER steps did not converge (W, T: a column a root; T has T_ROWS
    rows). Call under np.errstate(all="ignore")."""
    _args_of_log1p(m, W, T)  # (then each Newton step writes the next ones)
    T[T_DONE, :m] = 0.0
    for _ in range(MAXITER):
        if m == 0:
            break
        _inplace(np.log1p, T[T_E, :m])
        _times_eps(m, W, T)
        _inplace(np.expm1, T[T_E, :m])
        _args_of_logs(m, W, T)
        _inplace(np.log, T[T_LE, :m])
        _inplace(np.log, T[T_LX, :m])
        _halley(m, W, T)
        left = _newton_step(m, W, T, root)
        if 4 * left <= 3 * m:  # (a quarter done: move them out)
            m = compact_columns(m, W, T, T_DONE, _MOVED)
    _not_converged(m, W, T, root, conv)


@jit
def _write(q, qidx, root, conv, cm, status):
    """critical_mass[p, i] = root (qidx: p N + i); a root that did not
    converge sets PATH_NOT_CONVERGED on its point, and NON_FINITE if it
    is not a number."""
    n = cm.shape[1]
    for k in range(q):
        p = qidx[k] // n
        cm[p, qidx[k] - p * n] = root[k]
        if not conv[k]:
            status[p] |= codes.PATH_NOT_CONVERGED
            if not np.isfinite(root[k]):
                status[p] |= codes.NON_FINITE


def finish_block(scr, out):
    """Solve the roots the block kernel queued in scr (kernels/point.py)
    and write them into out.critical_mass; a root that did not converge
    sets PATH_NOT_CONVERGED on its point (and NON_FINITE if it is not a
    number). Returns the number of roots solved."""
    q = int(scr.qlen[0])
    if q == 0:
        return 0
    a = scr.qargs[:, :q]
    root, conv = increasing_roots(*a[:Q_START], start=a[Q_START])
    _write(q, scr.qidx, root, conv, out.critical_mass, out.status)
    scr.qlen[0] = 0
    return q
