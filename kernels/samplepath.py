"""The GE paths of a block that the monotonicity certificate does not
cover, where every eta = 0 (the fast path) and S0 u {i} is an equilibrium:
their samples and critical masses in lock-step (the default GE-path
variant, ``path = "lockstep"``).

Such a sector's regime is a coordination failure whatever its path looks
like (kernels/sectors.py ``sampled_candidate``); what the path decides is
its critical mass, the first crossing of g_i(s) = K h(s) X(s)^-alpha - c'
(kernels/economy.py ``fast_g``), and whether the path has the shape the
searches rely on (rising, then maybe falling: PATH_SHAPE otherwise). The
block kernel queues the path's scalars (economy.fast_path_args) and writes
a placeholder; :func:`sampled_roots` then, for every queued path at once:

- samples g_i(k / K), k = 1..K (K = sectors.SHAPE_SAMPLES; g_i(0) = -c'),
  the arithmetic in numba loops in fast_g's order, NumPy's SIMD log1p,
  expm1, log and exp over all the samples of the block between them;
- checks each path's shape as sectors.sample_path does, and exactly
  (sectors.fast_path_turns_back, the peak of its m kept from one path
  to the next of the same alpha); a path that fails either is left to the
  point-by-point code (kernels/point.py ``resolve_sampled``, which also
  takes the dense samples and sets PATH_SHAPE);
- g_i(1) < 0 (the threshold test and g_i disagree by rounding): 1, as the
  point-by-point code; otherwise the first sampled sign change brackets the
  root, searched with every other path's by kernels/lockstep.py's
  safeguarded Newton step on log(g_i + c') - log c', from the secant point.

The samples are the point-by-point code's up to the last bit of NumPy's
SIMD functions, and the root is Brent's within the search's stopping rule
(2e-13 relative on the snapshot's points; the contract allows 1e-10,
CONTRACT.md "Solver variants"). Results do
not depend on how points are blocked: every operation is elementwise and
every transcendental call in place (kernels/lockstep.py). No I/O.
"""
import threading

import numpy as np

from coordsweep.kernels.jit import jit
from coordsweep.kernels.lockstep import (
    T_ROWS, W_ALPHA, W_EPS, W_HI, W_IDX, W_LO, W_LOGK, W_LOGNET, W_S, W_THETA, W_U, W_XA0,
    _inplace, newton_search, staggered_rows, work_buffer)
from coordsweep.kernels.sectors import (
    SHAPE_RTOL, SHAPE_SAMPLES, path_turns)

#: rows of the queue (kernels/point.py Scratch.sargs): economy.fast_g's
#: arguments after s, as kernels/lockstep.py's QUEUE_ARGS
A_XA0, A_U, A_LOGK, A_THETA, A_EPS, A_ALPHA, A_NET = range(7)
#: what sampled_roots says of a path (its ``kind`` array)
ROOT_FOUND = 0   # the root (or 1 where g_i(1) < 0) is in root
ROOT_SHAPE = 1   # the path failed the shape check: point by point
#: rows of the samples buffer: the exps' and logs' arguments (E: theta s,
#: then e = (1 + theta s)^eps - 1; F: X(s), then the exp's argument), K
#: samples of each path one after the other (path-major), and log c'
R_E, R_F, R_LOGNET = range(3)

_BUF = threading.local()


def _sample_buffer(q):
    """This thread's rows for q paths (reused by the next block)."""
    buf = getattr(_BUF, "buf", None)
    if buf is None or buf.shape[1] < SHAPE_SAMPLES * q:
        buf = staggered_rows(3, SHAPE_SAMPLES * max(q, 1024))
        _BUF.buf = buf
    return buf


@jit
def _sample_args(q, A, B):
    """theta s at s = k / K (log1p's argument), and c' (log's)."""
    K = SHAPE_SAMPLES
    for j in range(q):
        theta = A[A_THETA, j]
        for k in range(1, K + 1):
            B[R_E, j * K + k - 1] = theta * (k / K)
        B[R_LOGNET, j] = A[A_NET, j]


@jit
def _sample_times_eps(q, A, B):
    K = SHAPE_SAMPLES
    for j in range(q):
        eps = A[A_EPS, j]
        for k in range(K):
            B[R_E, j * K + k] = eps * B[R_E, j * K + k]


@jit
def _sample_x(q, A, B):
    """X(s) = X0 + u s e (log's argument; economy.fast_g's order)."""
    K = SHAPE_SAMPLES
    for j in range(q):
        xa0 = A[A_XA0, j]
        u = A[A_U, j]
        for k in range(1, K + 1):
            B[R_F, j * K + k - 1] = xa0 + u * (k / K) * B[R_E, j * K + k - 1]


@jit
def _sample_exp_args(q, A, B):
    """logk - alpha log X (exp's argument)."""
    K = SHAPE_SAMPLES
    for j in range(q):
        logk = A[A_LOGK, j]
        alpha = A[A_ALPHA, j]
        for k in range(K):
            B[R_F, j * K + k] = logk - alpha * B[R_F, j * K + k]


@jit
def _shape_and_brackets(q, A, B, W, root, kind):
    """g_i(k / K) = f e - c' from the samples; the shape checks of
    sectors.sampled_candidate; the first sign change of the paths to search
    (their columns of W: start at the secant point, the bracket, the
    arguments). Returns the number of columns of W."""
    K = SHAPE_SAMPLES
    m = 0
    peak_alpha = peak_n = peak_d = np.nan
    for j in range(q):
        net = A[A_NET, j]
        g0 = -net
        root[j] = 1.0
        kind[j] = ROOT_FOUND
        # sectors.sample_path's shape check, on the fly
        falling = False
        ok = True
        prev = g0
        first = 0  # first k with g_i(k / K) >= 0
        for k in range(1, K + 1):
            g = B[R_F, j * K + k - 1] * B[R_E, j * K + k - 1] - net
            tol = SHAPE_RTOL * max(abs(g), abs(prev), abs(g0))
            if g < prev - tol:
                falling = True
            elif g > prev + tol and falling:
                ok = False
                break
            if first == 0 and not g < 0.0:
                first = k
                fb = g
                fa = prev
            prev = g
        if ok:
            # sectors.fast_path_turns_back, m's peak kept for the point's other
            # paths ((1 + theta)^-eps from the sample at s = 1, e = (1 + theta)^eps - 1)
            alpha = A[A_ALPHA, j]
            if alpha != peak_alpha:
                peak_n = peak_d = np.nan
                peak_alpha = alpha
            turned, _, peak_n, peak_d = path_turns(
                A[A_XA0, j], A[A_U, j], A[A_THETA, j], A[A_EPS, j], alpha,
                1.0 / (1.0 + B[R_E, j * K + K - 1]), peak_n, peak_d)
            ok = not turned
        if not ok:
            kind[j] = ROOT_SHAPE
            continue
        if not prev >= 0.0:  # g_i(1) < 0: the threshold test and g_i disagree
            continue
        # the first sampled sign change (sectors.first_crossing), Brent's ends
        a = (first - 1) / K
        b = first / K
        if fa == 0.0:
            root[j] = a
            continue
        if fb == 0.0:
            root[j] = b
            continue
        W[W_S, m] = a - fa * (b - a) / (fb - fa)
        W[W_LO, m] = a
        W[W_HI, m] = b
        W[W_XA0, m] = A[A_XA0, j]
        W[W_U, m] = A[A_U, j]
        W[W_LOGK, m] = A[A_LOGK, j]
        W[W_THETA, m] = A[A_THETA, j]
        W[W_EPS, m] = A[A_EPS, j]
        W[W_ALPHA, m] = A[A_ALPHA, j]
        W[W_LOGNET, m] = B[R_LOGNET, j]
        W[W_IDX, m] = j
        m += 1
    return m


def sampled_roots(args, work=None):
    """Critical masses of the queued fast paths the certificate does not
    cover, S0 u {i} an equilibrium (args: (7, q), economy.fast_g's
    arguments after s, one column a path). Returns (root, converged, kind):
    kind ROOT_SHAPE where the path fails the shape check (root and
    converged then mean nothing: the point-by-point code answers)."""
    q = args.shape[1]
    root = np.ones(q)
    conv = np.ones(q, np.bool_)
    kind = np.zeros(q, np.int8)
    if q == 0:
        return root, conv, kind
    B = _sample_buffer(q)
    W, rows = work_buffer(q) if work is None else work
    T = rows[:T_ROWS]
    qk = q * SHAPE_SAMPLES
    with np.errstate(all="ignore"):
        _sample_args(q, args, B)
        _inplace(np.log1p, B[R_E, :qk])
        _inplace(np.log, B[R_LOGNET, :q])
        _sample_times_eps(q, args, B)
        _inplace(np.expm1, B[R_E, :qk])
        _sample_x(q, args, B)
        _inplace(np.log, B[R_F, :qk])
        _sample_exp_args(q, args, B)
        _inplace(np.exp, B[R_F, :qk])
        m = _shape_and_brackets(q, args, B, W, root, kind)
        # kernels/lockstep.py's search, from the columns of W
        newton_search(m, W, T, root, conv)
    return root, conv, kind

